// AVX-512 GEMM microkernel: a 14 x 32 fp32 tile of C held in 28 zmm registers. Per k it loads one packed
// row of B (2 vectors) and broadcasts 14 packed values of A: 28 FMAs for 16 loads, which keeps both FMA
// pipes busy. A tile with fewer rows (the bottom edge of C) runs an instance compiled for exactly that many
// rows, so no FMA is spent on padding. The C tile's lines are prefetched at entry so their misses overlap
// the k loop. Compiled for AVX-512 by target attribute; chosen at run time (common.h, gemm.cc).
#include <immintrin.h>

#include "common.h"
#include "transpose512.h"

// GCC 12's AVX-512 headers build "undefined" vectors from themselves (`__m512 __Y = __Y;`), which
// -Wmaybe-uninitialized reports at every inlined shuffle; the values are never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace lion {
namespace {

constexpr int MR = 14, NR = 32;

template <int R>
__attribute__((target("avx512f,avx512vl,avx512dq,fma"), noinline)) void tile(
    long kc, const float* __restrict a, const float* __restrict b, float* __restrict c, long ldc, int nr, float beta,
    bool beta_zero) {
  // beta parks in memory during the loop: all 32 zmm registers belong to the tile and the B row.
  volatile float beta_mem = beta;
  __m512 c0[R], c1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
  for (long k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += NR;
  }
  const __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : static_cast<__mmask16>((1u << (nr - 16)) - 1);
  if (beta_zero) {
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      _mm512_mask_storeu_ps(c + i * ldc, m0, c0[i]);
      _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c1[i]);
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta_mem);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      float* ci = c + i * ldc;
      _mm512_mask_storeu_ps(ci, m0, _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, ci), c0[i]));
      _mm512_mask_storeu_ps(ci + 16, m1, _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16), c1[i]));
    }
  }
}

using TileFn = void (*)(long, const float*, const float*, float*, long, int, float, bool);
constexpr TileFn kTiles[MR + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>, tile<7>,
                                   tile<8>, tile<9>, tile<10>, tile<11>, tile<12>, tile<13>, tile<14>};

void micro_14x32(long kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, float beta,
                 bool beta_zero) {
  kTiles[mr](kc, a, b, c, ldc, nr, beta, beta_zero);
}

#define LION_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,fma")))

// A full B panel from a transposed B: dst[k·32 + j] = src[j·ld + k], j < 32, k < kc.
LION_AVX512 void pack_bt(const float* src, long ld, long kc, float* dst) {
  long k = 0;
  for (; k + 16 <= kc; k += 16)
    for (int jb = 0; jb < 32; jb += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (jb + i) * ld + k);
      transpose16(r);
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + (k + i) * NR + jb, r[i]);
    }
  for (; k < kc; k++)
    for (int j = 0; j < NR; j++) dst[k * NR + j] = src[j * ld + k];
}

// A full A panel from a row-major A: dst[k·14 + i] = alpha·src[i·ld + k], i < 14, k < kc.
LION_AVX512 void pack_an(const float* src, long ld, long kc, float alpha, float* dst) {
  const __m512 va = _mm512_set1_ps(alpha);
  long k = 0;
  for (; k + 16 <= kc; k += 16) {
    __m512 r[16];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) r[i] = _mm512_mul_ps(va, _mm512_loadu_ps(src + i * ld + k));
    r[14] = r[15] = _mm512_setzero_ps();
    transpose16(r);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) _mm512_mask_storeu_ps(dst + (k + i) * MR, 0x3FFF, r[i]);
  }
  for (; k < kc; k++)
    for (int i = 0; i < MR; i++) dst[k * MR + i] = alpha * src[i * ld + k];
}

}  // namespace

Micro micro_avx512() { return Micro{MR, NR, micro_14x32, pack_an, pack_bt}; }

}  // namespace lion
