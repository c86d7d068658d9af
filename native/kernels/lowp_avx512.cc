// AVX-512 reduced-precision microkernels and the AVX-512 panel packer.
// - bf16 (AVX512-BF16): a 14 x 32 fp32 tile of C in 28 zmm registers; per packed word (a k pair) one B row
//   (2 vectors of 16 columns x 2 bf16) is loaded and 14 A pairs are broadcast into vdpbf16ps, which adds
//   both products of a pair into the fp32 lane: 28 instructions, 896 multiply-adds per word.
// - int8 (AVX512-VNNI): the same 14 x 32 int32 tile with vpdpbusd on k quads. vpdpbusd multiplies unsigned
//   by signed bytes, so the weights are packed as q + 128 (unsigned) and the activation quads (signed) are
//   broadcast; the epilogue removes 128·Σ_k x_q[i,k] per row and applies the scales and bias in fp32.
// - Packer: operand rows contiguous along k are converted (fp32 → bf16 round-to-nearest-even on the bits, or
//   int8 → +128) 16 words per row at a time and transposed in registers into the k-major panel layout.
// Compiled for these ISAs by target attribute; chosen at run time (lowp.cc).
#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "lowp.h"
#include "transpose512.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define LION_512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma")))
#define LION_512BF16 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,fma")))
#define LION_512VNNI __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,fma")))

namespace lion {
namespace {

constexpr int MR = 14, NR = 32;

inline __mmask16 mask_lo(int n) { return n >= 16 ? 0xFFFF : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1); }

template <int R>
LION_512BF16 __attribute__((noinline)) void tile_bf16(long kw, const uint32_t* __restrict a,
    const uint32_t* __restrict b, float* __restrict c, long ldc, int nr, const Epi& e) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
  for (long p = 0; p < kw; p++) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      // A separate broadcast measured faster on Zen 5 than vdpbf16ps's embedded {1to16} operand (485 vs 450
      // GFLOP/s per core with the panels in L2).
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[i]));
      c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
      c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
    }
    a += MR;
    b += NR;
  }
  const __mmask16 m0 = mask_lo(nr), m1 = mask_lo(nr - 16);
  const __m512 va = _mm512_set1_ps(e.alpha);
  if (e.beta_zero) {
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      _mm512_mask_storeu_ps(c + i * ldc, m0, _mm512_mul_ps(va, c0[i]));
      _mm512_mask_storeu_ps(c + i * ldc + 16, m1, _mm512_mul_ps(va, c1[i]));
    }
  } else {
    const __m512 vb = _mm512_set1_ps(e.beta);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      float* ci = c + i * ldc;
      _mm512_mask_storeu_ps(ci, m0, _mm512_fmadd_ps(va, c0[i], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, ci))));
      _mm512_mask_storeu_ps(ci + 16, m1,
                            _mm512_fmadd_ps(va, c1[i], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16))));
    }
  }
}

template <int R>
LION_512VNNI __attribute__((noinline)) void tile_vnni(long kw, const uint32_t* __restrict a,
    const uint32_t* __restrict b, float* __restrict c, long ldc, int nr, const Epi& e) {
  __m512i c0[R], c1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) { c0[i] = _mm512_setzero_si512(); c1[i] = _mm512_setzero_si512(); }
  for (long p = 0; p < kw; p++) {
    const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      const __m512i ai = _mm512_set1_epi32(static_cast<int>(a[i]));
      c0[i] = _mm512_dpbusd_epi32(c0[i], b0, ai);
      c1[i] = _mm512_dpbusd_epi32(c1[i], b1, ai);
    }
    a += MR;
    b += NR;
  }
  // The accumulators go through memory once: an epilogue reading them by index would make GCC keep the whole
  // tile in memory inside the k loop.
  alignas(64) int32_t acc[R * NR];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) {
    _mm512_store_si512(acc + i * NR, c0[i]);
    _mm512_store_si512(acc + i * NR + 16, c1[i]);
  }
  const __mmask16 m0 = mask_lo(nr), m1 = mask_lo(nr - 16);
  const __m512 one = _mm512_set1_ps(1.f);
  const __m512 sw0 = e.sw ? _mm512_maskz_loadu_ps(m0, e.sw) : one, sw1 = e.sw ? _mm512_maskz_loadu_ps(m1, e.sw + 16) : one;
  const __m512 z = _mm512_setzero_ps();
  const __m512 bi0 = e.bias ? _mm512_maskz_loadu_ps(m0, e.bias) : z, bi1 = e.bias ? _mm512_maskz_loadu_ps(m1, e.bias + 16) : z;
  for (int i = 0; i < R; i++) {
    const __m512i off = _mm512_set1_epi32(e.rs ? e.off * e.rs[i] : 0);
    const __m512 sx = _mm512_set1_ps(e.sx[i]);
    const __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(acc + i * NR), off));
    const __m512 v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(acc + i * NR + 16), off));
    _mm512_mask_storeu_ps(c + i * ldc, m0, _mm512_add_ps(_mm512_mul_ps(v0, _mm512_mul_ps(sx, sw0)), bi0));
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, _mm512_add_ps(_mm512_mul_ps(v1, _mm512_mul_ps(sx, sw1)), bi1));
  }
}

using TileFn = void (*)(long, const uint32_t*, const uint32_t*, float*, long, int, const Epi&);
constexpr TileFn kBf16[MR + 1] = {nullptr, tile_bf16<1>, tile_bf16<2>, tile_bf16<3>, tile_bf16<4>, tile_bf16<5>,
                                  tile_bf16<6>, tile_bf16<7>, tile_bf16<8>, tile_bf16<9>, tile_bf16<10>,
                                  tile_bf16<11>, tile_bf16<12>, tile_bf16<13>, tile_bf16<14>};
constexpr TileFn kVnni[MR + 1] = {nullptr, tile_vnni<1>, tile_vnni<2>, tile_vnni<3>, tile_vnni<4>, tile_vnni<5>,
                                  tile_vnni<6>, tile_vnni<7>, tile_vnni<8>, tile_vnni<9>, tile_vnni<10>,
                                  tile_vnni<11>, tile_vnni<12>, tile_vnni<13>, tile_vnni<14>};

void micro_bf16(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr, const Epi& e) {
  kBf16[mr](kw, a, b, c, ldc, nr, e);
}
void micro_vnni(long kw, const uint32_t* a, const uint32_t* b, float* c, long ldc, int mr, int nr, const Epi& e) {
  kVnni[mr](kw, a, b, c, ldc, nr, e);
}

// bf16 bits (round-to-nearest-even, NaN quietened) of 16 floats, in the low half of each 32-bit lane.
LION_512 inline __m512i rne_bits(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb), 16);
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_blend_epi32(nan, r, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
}

// 16 packed words (32 bf16 or 64 int8 values along k) of one operand row.
LION_512 inline __m512 load_words(const Operand& op, long row, long k, Pk pk, float alpha) {
  if (pk == Pk::F32) {  // 16 values rounded to bf16 and widened back, times alpha (the widening paths)
    __m512i bits;
    if (op.src == Src::F32) bits = rne_bits(_mm512_loadu_ps(static_cast<const float*>(op.p) + row * op.ld + k));
    else bits = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(op.p) + row * op.ld + k)));
    return _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16)));
  }
  if (op.src == Src::F32) {
    const float* s = static_cast<const float*>(op.p) + row * op.ld + k;
    const __m256i lo = _mm512_cvtepi32_epi16(rne_bits(_mm512_loadu_ps(s)));
    const __m256i hi = _mm512_cvtepi32_epi16(rne_bits(_mm512_loadu_ps(s + 16)));
    return _mm512_castsi512_ps(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
  }
  if (op.src == Src::BF16) return _mm512_loadu_ps(static_cast<const uint16_t*>(op.p) + row * op.ld + k);
  __m512i v = _mm512_loadu_si512(static_cast<const int8_t*>(op.p) + row * op.ld + k);
  if (pk == Pk::U8) v = _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80)));
  return _mm512_castsi512_ps(v);
}

}  // namespace

LION_512 void pack_kfast_avx512(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk, float alpha,
                                uint32_t* dst) {
  const bool fast = R <= 32 && (((pk == Pk::BF16 || pk == Pk::F32) && op.src != Src::I8) ||
                                ((pk == Pk::I8 || pk == Pk::U8) && op.src == Src::I8));
  const int G = pk == Pk::F32 ? 1 : (pk == Pk::BF16 || pk == Pk::I16) ? 2 : 4;
  const long kw = (kc + G - 1) / G;
  if (!fast) { pack_generic(op, r0, rows, R, p0, kc, pk, alpha, dst, kw, false); return; }
  const long chunks = kc / (16 * G);  // whole 16-word chunks
  for (long pr = 0; pr < rows; pr += R, dst += kw * R) {
    const int live = static_cast<int>(std::min<long>(R, rows - pr));
    for (long ch = 0; ch < chunks; ch++) {
      const long k = p0 + ch * 16 * G;
      for (int g0 = 0; g0 < R; g0 += 16) {
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
          r[i] = g0 + i < live ? load_words(op, r0 + pr + g0 + i, k, pk, alpha) : _mm512_setzero_ps();
        transpose16(r);
        const __mmask16 m = mask_lo(R - g0);
        float* d = reinterpret_cast<float*>(dst) + ch * 16 * R + g0;
#pragma GCC unroll 16
        for (int t = 0; t < 16; t++) _mm512_mask_storeu_ps(d + t * R, m, r[t]);
      }
    }
    if (chunks * 16 < kw)
      pack_generic(op, r0 + pr, live, R, p0 + chunks * 16 * G, kc - chunks * 16 * G, pk, alpha, dst + chunks * 16 * R,
                   kw - chunks * 16, false);
  }
}

// k-major operands (rows of the stored matrix are k): word (r, p) pairs element r of stored rows 2p and 2p+1,
// so 16 consecutive r of both rows are converted and merged lane by lane — no transpose.
// bf16 bits of 16 elements (stored row k, columns r .. r+15 under mask m) in 32-bit lanes.
LION_512 static inline __m512i kmajor_lanes(const Operand& op, long k, long r, __mmask16 m) {
  if (op.src == Src::F32) return rne_bits(_mm512_maskz_loadu_ps(m, static_cast<const float*>(op.p) + k * op.ld + r));
  return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(op.p) + k * op.ld + r));
}

LION_512 void pack_kmajor_bf16_avx512(const Operand& op, long r0, long rows, int R, long p0, long kc, Pk pk,
                                      float alpha, uint32_t* dst) {
  if (pk == Pk::F32) {  // widening paths: one value per word, rounded, widened, times alpha
    const __m512 va = _mm512_set1_ps(alpha);
    for (long pr = 0; pr < rows; pr += R, dst += kc * R) {
      const int live = static_cast<int>(std::min<long>(R, rows - pr));
      for (long k = 0; k < kc; k++)
        for (int g0 = 0; g0 < R; g0 += 16) {
          const __m512i v = _mm512_slli_epi32(kmajor_lanes(op, p0 + k, r0 + pr + g0, mask_lo(live - g0)), 16);
          _mm512_mask_storeu_ps(reinterpret_cast<float*>(dst) + k * R + g0, mask_lo(R - g0),
                                _mm512_mul_ps(va, _mm512_castsi512_ps(v)));
        }
    }
    return;
  }
  const long kw = (kc + 1) / 2;
  for (long pr = 0; pr < rows; pr += R, dst += kw * R) {
    const int live = static_cast<int>(std::min<long>(R, rows - pr));
    for (long w = 0; w < kw; w++) {
      const long k = 2 * w;
      for (int g0 = 0; g0 < R; g0 += 16) {
        const __mmask16 m = mask_lo(live - g0), st = mask_lo(R - g0);
        const long r = r0 + pr + g0;
        __m512i v = kmajor_lanes(op, p0 + k, r, m);
        if (k + 1 < kc) v = _mm512_or_si512(v, _mm512_slli_epi32(kmajor_lanes(op, p0 + k + 1, r, m), 16));
        _mm512_mask_storeu_epi32(dst + w * R + g0, st, v);
      }
    }
  }
}

// Blocking in k: bf16 KC = 2048 (1024 words: a 14-row A panel of 56 KB and a 32-column B panel of 128 KB stay
// in L2 with room for the A block); int8 never splits K (exact int32 sums), K ≤ 65536.
LpKernel lp_bf16_avx512bf16() {
  return LpKernel{MR, NR, 2, Pk::BF16, Pk::BF16, 2048, 14 * 8, 32 * 32, 1, false, false, micro_bf16, pack_kfast_avx512};
}
LpKernel lp_i8_avx512vnni() {
  return LpKernel{MR, NR, 4, Pk::I8, Pk::U8, 0, 14 * 8, 32 * 16, 1, false, false, micro_vnni, pack_kfast_avx512};
}

}  // namespace lion

namespace lion {

// Dot products of an fp32 row with a bf16 (widened) or fp32 row, four accumulators deep (the exact recompute
// of the low-precision sparse head).
LION_512 static inline __m512 wide(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

LION_512 float quantize_row_avx512(int8_t* q, int32_t* rs, const float* x, long K) {
  __m512 mx = _mm512_setzero_ps();
  __mmask16 good = 0xFFFF;
  const __m512 fmax = _mm512_set1_ps(FLT_MAX);
  for (long k = 0; k < K; k += 16) {
    const __mmask16 m = mask_lo(static_cast<int>(std::min<long>(16, K - k)));
    const __m512 a = _mm512_abs_ps(_mm512_maskz_loadu_ps(m, x + k));
    mx = _mm512_max_ps(mx, a);
    good &= _mm512_cmp_ps_mask(a, fmax, _CMP_LE_OQ);  // false for ±inf and NaN
  }
  const float amax = _mm512_reduce_max_ps(mx);
  if (good != 0xFFFF || amax == 0.f) {
    std::memset(q, 0, static_cast<size_t>(K));
    if (rs) *rs = 0;
    return good != 0xFFFF ? NAN : 0.f;
  }
  const float s = amax / 127.f;
  const __m512 vs = _mm512_set1_ps(s), lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
  __m512i sum = _mm512_setzero_si512();
  for (long k = 0; k < K; k += 16) {
    const __mmask16 m = mask_lo(static_cast<int>(std::min<long>(16, K - k)));
    __m512 v = _mm512_roundscale_ps(_mm512_div_ps(_mm512_maskz_loadu_ps(m, x + k), vs),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    const __m512i iv = _mm512_cvtps_epi32(v);
    sum = _mm512_add_epi32(sum, iv);
    _mm512_mask_cvtepi32_storeu_epi8(q + k, m, iv);
  }
  if (rs) *rs = _mm512_reduce_add_epi32(sum);
  return s;
}

LION_512 float dot_bf16_avx512(const float* a, const uint16_t* b, long n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  long i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), wide(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), wide(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), wide(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), wide(b + i + 48), s3);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), wide(b + i), s0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 w = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, b + i)), 16));
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), w, s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

LION_512 float dot_f32_avx512(const float* a, const float* b, long n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  long i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace lion
