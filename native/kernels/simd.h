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

// log(x) for finite x > 0 to about 1 ulp (Cephes logf): x = m·2^e with m in [√½, √2), a degree-9
// polynomial in m − 1, e·ln2 added in two parts.
static inline float vlog(float x) {
  int32_t i;
  std::memcpy(&i, &x, sizeof i);
  int32_t e = ((i >> 23) & 0xff) - 126;
  i = (i & static_cast<int32_t>(0x807fffff)) | 0x3f000000;
  float m;
  std::memcpy(&m, &i, sizeof m);
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.f : m - 1.f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = static_cast<float>(e);
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  return m + y + 0.693359375f * fe;
}

// log(1 + x) for x ≥ 0, accurate for small x too: with u = fl(1 + x), the rounding error of u is corrected to
// first order, log1p(x) ≈ log(u) − ((u − 1) − x)/u (exactly x when u rounds to 1). Branch-free.
static inline float vlog1p(float x) {
  const float u = 1.f + x;
  return vlog(u) - ((u - 1.f) - x) / u;
}

}  // namespace lion
