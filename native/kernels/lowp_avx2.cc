// 256-bit int8 microkernels, 6 x 16 int32 tiles in 12 ymm registers:
// - AVX-VNNI (Alder Lake and later, Zen 5): vpdpbusd ymm on k quads, weights packed as q + 128 (unsigned),
//   activation quads broadcast (signed); the epilogue removes the offset (lowp.h, Epi).
// - AVX2: k pairs widened to int16 and multiplied with vpmaddwd (exact: |x·q| ≤ 127², no saturation).
// (The bf16 paths at this level widen to fp32 and reuse the AVX2 fp32 microkernel; see lowp.cc.)
#include <immintrin.h>

#include <algorithm>

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

#define LION_AVX2 __attribute__((target("avx2,fma")))

LION_AVX2 inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// bf16 bits of 8 floats (round-to-nearest-even, NaN quietened) in the low half of each 32-bit lane.
LION_AVX2 inline __m256i rne_bits8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i a = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7f800000));  // a ≥ 0, so signed compare works
  const __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(r, q, nan);
}

// 8 packed words of one operand row starting at k (the words this path's panels hold).
LION_AVX2 inline __m256 words8(const Operand& op, long row, long k, Pk pk, float alpha) {
  if (pk == Pk::F32) {
    __m256i bits;
    if (op.src == Src::F32) bits = rne_bits8(_mm256_loadu_ps(static_cast<const float*>(op.p) + row * op.ld + k));
    else bits = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(op.p) + row * op.ld + k)));
    return _mm256_mul_ps(_mm256_set1_ps(alpha), _mm256_castsi256_ps(_mm256_slli_epi32(bits, 16)));
  }
  const int8_t* q = static_cast<const int8_t*>(op.p) + row * op.ld + k;
  if (pk == Pk::I16) return _mm256_castsi256_ps(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
  __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  if (pk == Pk::U8) v = _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80)));
  return _mm256_castsi256_ps(v);
}

}  // namespace

// Operands contiguous along k, for the 256-bit paths: 8 words per row converted at a time, 8 x 8 transposes.
LION_AVX2 void pack_kfast_avx2(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                               uint32_t* dst) {
  const int G = pk == Pk::F32 ? 1 : (pk == Pk::BF16 || pk == Pk::I16) ? 2 : 4;
  const long kw = (kc + G - 1) / G;
  const bool fast = R <= 16 && op.src != (pk == Pk::F32 ? Src::I8 : Src::F32) && pk != Pk::BF16 &&
                    (pk == Pk::F32 || op.src == Src::I8);
  if (!fast) { pack_generic(op, r0, rows, R, p0, kc, pk, alpha, dst, kw, false); return; }
  const long chunks = kc / (8 * G);
  for (long pr = 0; pr < rows; pr += R, dst += kw * R) {
    const int live = static_cast<int>(std::min<long>(R, rows - pr));
    for (long ch = 0; ch < chunks; ch++) {
      const long k = p0 + ch * 8 * G;
      for (int g0 = 0; g0 < R; g0 += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = g0 + i < live ? words8(op, r0 + pr + g0 + i, k, pk, alpha) : _mm256_setzero_ps();
        transpose8(r);
        const int n = std::min(8, R - g0);
        float* d = reinterpret_cast<float*>(dst) + ch * 8 * R + g0;
        if (n == 8) {
          for (int t = 0; t < 8; t++) _mm256_storeu_ps(d + t * R, r[t]);
        } else {
          const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
          for (int t = 0; t < 8; t++) _mm256_maskstore_ps(d + t * R, m, r[t]);
        }
      }
    }
    if (chunks * 8 < kw)
      pack_generic(op, r0 + pr, live, R, p0 + chunks * 8 * G, kc - chunks * 8 * G, pk, alpha, dst + chunks * 8 * R,
                   kw - chunks * 8, false);
  }
}

LpKernel lp_i8_avxvnni() {
  return LpKernel{MR, NR, 4, Pk::I8, Pk::U8, 0, 6 * 24, 16 * 64, 1, false, false, micro_avxvnni, pack_kfast_avx2};
}
LpKernel lp_i8_avx2() {
  return LpKernel{MR, NR, 2, Pk::I16, Pk::I16, 0, 6 * 24, 16 * 64, 1, false, false, micro_avx2_i16, pack_kfast_avx2};
}

}  // namespace lion
