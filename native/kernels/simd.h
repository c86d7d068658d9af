// Helpers for the row kernels: run-time dispatched clones (GCC target_clones picks the AVX-512, AVX2+FMA or
// portable build of a function at load time) and a branch-free exp the compiler can vectorise.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#define LION_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace lion {

// exp(x) to about 2 ulp for x in [-87.3, 88.7]: Cody-Waite reduction x = n·ln2 + r, degree-6 polynomial for
// e^r (Cephes expf coefficients), 2^n assembled in the exponent bits. Below -87.3 (including -inf, how
// masked scores arrive) it returns 0; above 88.7 it saturates at e^88.7.
static inline float vexp(float x0) {
  const float x = x0 < -87.3f ? -87.3f : (x0 > 88.7f ? 88.7f : x0);
  // Round to nearest by the 1.5·2^23 trick (no call to floor, so the loop stays a vector loop).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &e, sizeof s);
  return x0 < -87.3f ? 0.f : p * s;
}

}  // namespace lion
