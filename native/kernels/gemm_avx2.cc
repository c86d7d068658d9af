// AVX2+FMA GEMM microkernel: a 6 x 16 fp32 tile of C in 12 ymm registers (the classic Haswell shape).
// Compiled for AVX2 by target attribute; chosen at run time when AVX-512 is absent.
#include <immintrin.h>

#include "common.h"

namespace lion {
namespace {

constexpr int MR = 6, NR = 16;

__attribute__((target("avx2,fma"), noinline)) void micro_6x16(long kc, const float* __restrict a,
    const float* __restrict b, float* __restrict c, long ldc, int mr, int nr, float beta, bool beta_zero) {
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
  for (long k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += NR;
  }
  alignas(32) float tile[MR * NR] = {};
  const bool full = nr == NR;
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    if (i >= mr) break;
    float* ci = c + i * ldc;
    if (full) {
      if (beta_zero) {
        _mm256_storeu_ps(ci, c0[i]);
        _mm256_storeu_ps(ci + 8, c1[i]);
      } else {
        const __m256 vb = _mm256_set1_ps(beta);
        _mm256_storeu_ps(ci, _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), c0[i]));
        _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), c1[i]));
      }
    } else {
      _mm256_store_ps(tile, c0[i]);
      _mm256_store_ps(tile + 8, c1[i]);
      for (int j = 0; j < nr; j++) ci[j] = beta_zero ? tile[j] : beta * ci[j] + tile[j];
    }
  }
}

}  // namespace

Micro micro_avx2() { return Micro{MR, NR, micro_6x16}; }

}  // namespace lion
