// 256-bit int8 microkernels, 6 x 16 int32 tiles in 12 ymm registers:
// - AVX-VNNI (Alder Lake and later, Zen 5): vpdpbusd ymm on k quads, weights packed as q + 128 (unsigned),
//   activation quads broadcast (signed); the epilogue removes the offset (lowp.h, Epi).
// - AVX2: k pairs widened to int16 and multiplied with vpmaddwd (exact: |x·q| ≤ 127², no saturation).
// (The bf16 paths at this level widen to fp32 and reuse the AVX2 fp32 microkernel; see lowp.cc.)
#include <immintrin.h>

#include "lowp.h"

namespace lion {
namespace {

constexpr int MR = 6, NR = 16;

__attribute__((target("avx2,fma,avxvnni"), noinline)) void micro_avxvnni(long kw, const uint32_t* __restrict a,
    const uint32_t* __restrict b, float* __restrict c, long ldc, int mr, int nr, const Epi& e) {
  __m256i c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) { c0[i] = _mm256_setzero_si256(); c1[i] = _mm256_setzero_si256(); }
  for (long p = 0; p < kw; p++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 8));
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256i ai = _mm256_set1_epi32(static_cast<int>(a[i]));
      c0[i] = _mm256_dpbusd_avx_epi32(c0[i], b0, ai);
      c1[i] = _mm256_dpbusd_avx_epi32(c1[i], b1, ai);
    }
    a += MR;
    b += NR;
  }
  alignas(32) int32_t acc[MR * NR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(acc + i * NR), c0[i]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(acc + i * NR + 8), c1[i]);
  }
  i8_epilogue(acc, NR, c, ldc, mr, nr, e);
}

__attribute__((target("avx2,fma"), noinline)) void micro_avx2_i16(long kw, const uint32_t* __restrict a,
    const uint32_t* __restrict b, float* __restrict c, long ldc, int mr, int nr, const Epi& e) {
  __m256i c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) { c0[i] = _mm256_setzero_si256(); c1[i] = _mm256_setzero_si256(); }
  for (long p = 0; p < kw; p++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 8));
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256i ai = _mm256_set1_epi32(static_cast<int>(a[i]));
      c0[i] = _mm256_add_epi32(c0[i], _mm256_madd_epi16(ai, b0));
      c1[i] = _mm256_add_epi32(c1[i], _mm256_madd_epi16(ai, b1));
    }
    a += MR;
    b += NR;
  }
  alignas(32) int32_t acc[MR * NR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(acc + i * NR), c0[i]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(acc + i * NR + 8), c1[i]);
  }
  i8_epilogue(acc, NR, c, ldc, mr, nr, e);
}

}  // namespace

LpKernel lp_i8_avxvnni() {
  return LpKernel{MR, NR, 4, Pk::I8, Pk::U8, 0, 6 * 24, 16 * 64, 1, false, false, micro_avxvnni, nullptr};
}
LpKernel lp_i8_avx2() {
  return LpKernel{MR, NR, 2, Pk::I16, Pk::I16, 0, 6 * 24, 16 * 64, 1, false, false, micro_avx2_i16, nullptr};
}

}  // namespace lion
