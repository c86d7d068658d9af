// Exact inner-product search over a dense matrix, as a blocked GEMM with per-query top-k heaps.
//
// Layout: docs (N, D) row-major as float32, bf16 (upper half of a float32) or int8 with one float scale per
// row; queries (Q, D) float32. Each thread owns a contiguous range of documents and keeps its own (Q, k)
// heaps; the ranges are merged at the end under the shared (score, doc) order of common.h.
// Loop order: a tile of kTile documents (converted to float32 once, ~kTile * D * 4 bytes, sized for L2) is
// scored against every query, four queries by four documents at a time, so each document is read from
// memory once and the queries stream from the last-level cache. AVX-512 is chosen at run time: a panel kernel
// scores four queries against the whole tile, four documents at a time, with all sixteen accumulators in
// registers and a transpose-and-add reduction; the portable 4x4 kernel covers other CPUs and tile edges.
#pragma once
#include <immintrin.h>
#include "common.h"

namespace lion {

struct DenseView {
  uint32_t n, dim;
  const void* data;   // (N, D)
  int dtype;          // 0 f32, 1 bf16, 2 int8
  const float* rowScale;  // (N) for int8
};

static const uint32_t kTile = 64;

// Scores a (4 queries x 4 docs) block: out[i*4+j] = <q_i, d_j>.
__attribute__((target("avx512f"))) static void dot4x4Avx512(const float* q0, const float* q1, const float* q2, const float* q3,
                                                           const float* d0, const float* d1, const float* d2, const float* d3,
                                                           uint32_t dim, float* out) {
  __m512 a[16];
  for (int i = 0; i < 16; i++) a[i] = _mm512_setzero_ps();
  const float* qs[4] = {q0, q1, q2, q3};
  const float* ds[4] = {d0, d1, d2, d3};
  for (uint32_t c = 0; c < dim; c += 16) {
    const __mmask16 m = dim - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (dim - c)) - 1);
    __m512 dv0 = _mm512_maskz_loadu_ps(m, ds[0] + c), dv1 = _mm512_maskz_loadu_ps(m, ds[1] + c);
    __m512 dv2 = _mm512_maskz_loadu_ps(m, ds[2] + c), dv3 = _mm512_maskz_loadu_ps(m, ds[3] + c);
    for (int i = 0; i < 4; i++) {
      __m512 qv = _mm512_maskz_loadu_ps(m, qs[i] + c);
      a[i * 4 + 0] = _mm512_fmadd_ps(qv, dv0, a[i * 4 + 0]);
      a[i * 4 + 1] = _mm512_fmadd_ps(qv, dv1, a[i * 4 + 1]);
      a[i * 4 + 2] = _mm512_fmadd_ps(qv, dv2, a[i * 4 + 2]);
      a[i * 4 + 3] = _mm512_fmadd_ps(qv, dv3, a[i * 4 + 3]);
    }
  }
  for (int i = 0; i < 16; i++) out[i] = _mm512_reduce_add_ps(a[i]);
}

static void dot4x4Portable(const float* q0, const float* q1, const float* q2, const float* q3, const float* d0,
                           const float* d1, const float* d2, const float* d3, uint32_t dim, float* out) {
  const float* qs[4] = {q0, q1, q2, q3};
  const float* ds[4] = {d0, d1, d2, d3};
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      uint32_t c = 0;
      for (; c + 8 <= dim; c += 8)
        for (int l = 0; l < 8; l++) acc[l] += qs[i][c + l] * ds[j][c + l];
      float s = 0;
      for (; c < dim; c++) s += qs[i][c] * ds[j][c];
      out[i * 4 + j] = s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
}


// Scores 4 queries against `rows` docs of a tile: out[i * rows + j] = <q_i, d_j>. Docs are taken four at a time
// (16 accumulators); the horizontal sums of the 16 accumulators are done as a transpose-and-add tree.
__attribute__((target("avx512f"))) static inline __m512 hsum4x4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  // Returns a vector whose lanes 0..3 hold the full sums of a0..a3 (remaining lanes unspecified).
  __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));  // a0,a1 pairs
  __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  __m512 u = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t1))),
                           _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t1))));
  // u: per 128-bit lane l, elements (a0,a1,a2,a3) partial sums of lane l. Sum the four 128-bit lanes.
  __m512 v = _mm512_add_ps(u, _mm512_shuffle_f32x4(u, u, 0x4e));
  return _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xb1));
}

__attribute__((target("avx512f"))) static void panelAvx512(const float* const* qs, const float* tile, uint32_t rows, uint32_t dim, float* out) {
  const float* q0 = qs[0]; const float* q1 = qs[1]; const float* q2 = qs[2]; const float* q3 = qs[3];
  for (uint32_t j = 0; j + 4 <= rows; j += 4) {
    const float* d0 = tile + size_t(j) * dim; const float* d1 = d0 + dim; const float* d2 = d1 + dim; const float* d3 = d2 + dim;
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    for (uint32_t c = 0; c < dim; c += 16) {
      const __mmask16 m = dim - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (dim - c)) - 1);
      const __m512 e0 = _mm512_maskz_loadu_ps(m, d0 + c), e1 = _mm512_maskz_loadu_ps(m, d1 + c);
      const __m512 e2 = _mm512_maskz_loadu_ps(m, d2 + c), e3 = _mm512_maskz_loadu_ps(m, d3 + c);
      __m512 v = _mm512_maskz_loadu_ps(m, q0 + c);
      a00 = _mm512_fmadd_ps(v, e0, a00); a01 = _mm512_fmadd_ps(v, e1, a01); a02 = _mm512_fmadd_ps(v, e2, a02); a03 = _mm512_fmadd_ps(v, e3, a03);
      v = _mm512_maskz_loadu_ps(m, q1 + c);
      a10 = _mm512_fmadd_ps(v, e0, a10); a11 = _mm512_fmadd_ps(v, e1, a11); a12 = _mm512_fmadd_ps(v, e2, a12); a13 = _mm512_fmadd_ps(v, e3, a13);
      v = _mm512_maskz_loadu_ps(m, q2 + c);
      a20 = _mm512_fmadd_ps(v, e0, a20); a21 = _mm512_fmadd_ps(v, e1, a21); a22 = _mm512_fmadd_ps(v, e2, a22); a23 = _mm512_fmadd_ps(v, e3, a23);
      v = _mm512_maskz_loadu_ps(m, q3 + c);
      a30 = _mm512_fmadd_ps(v, e0, a30); a31 = _mm512_fmadd_ps(v, e1, a31); a32 = _mm512_fmadd_ps(v, e2, a32); a33 = _mm512_fmadd_ps(v, e3, a33);
    }
    alignas(64) float r[16];
    _mm512_store_ps(r, hsum4x4(a00, a01, a02, a03)); out[0 * rows + j] = r[0]; out[0 * rows + j + 1] = r[1]; out[0 * rows + j + 2] = r[2]; out[0 * rows + j + 3] = r[3];
    _mm512_store_ps(r, hsum4x4(a10, a11, a12, a13)); out[1 * rows + j] = r[0]; out[1 * rows + j + 1] = r[1]; out[1 * rows + j + 2] = r[2]; out[1 * rows + j + 3] = r[3];
    _mm512_store_ps(r, hsum4x4(a20, a21, a22, a23)); out[2 * rows + j] = r[0]; out[2 * rows + j + 1] = r[1]; out[2 * rows + j + 2] = r[2]; out[2 * rows + j + 3] = r[3];
    _mm512_store_ps(r, hsum4x4(a30, a31, a32, a33)); out[3 * rows + j] = r[0]; out[3 * rows + j + 1] = r[1]; out[3 * rows + j + 2] = r[2]; out[3 * rows + j + 3] = r[3];
  }
}

typedef void (*Dot4x4)(const float*, const float*, const float*, const float*, const float*, const float*, const float*,
                       const float*, uint32_t, float*);

static Dot4x4 pickDot4x4() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? dot4x4Avx512 : dot4x4Portable;
}

// Converts docs [d0, d0 + rows) to float32 in `tile` (or returns a pointer into the float32 data).
static const float* docTile(const DenseView& v, uint32_t d0, uint32_t rows, float* tile) {
  const size_t D = v.dim;
  if (v.dtype == 0) return static_cast<const float*>(v.data) + size_t(d0) * D;
  if (v.dtype == 1) {
    // bf16 is the upper half of a float32: widen with a shift (vectorises; same bits as bf16ToF32).
    const uint16_t* src = static_cast<const uint16_t*>(v.data) + size_t(d0) * D;
    uint32_t* dst = reinterpret_cast<uint32_t*>(tile);
    for (size_t i = 0; i < rows * D; i++) dst[i] = uint32_t(src[i]) << 16;
  } else {
    const int8_t* src = static_cast<const int8_t*>(v.data) + size_t(d0) * D;
    for (uint32_t r = 0; r < rows; r++) {
      const float s = v.rowScale[d0 + r];
      for (size_t c = 0; c < D; c++) tile[r * D + c] = float(src[r * D + c]) * s;
    }
  }
  return tile;
}

void denseSearch(const DenseView& v, const float* queries, uint32_t nq, uint32_t k, int threads, int32_t* outDocs,
                 float* outScores, uint32_t* outCounts) {
  const Dot4x4 dot = pickDot4x4();
  const uint32_t D = v.dim;
  std::vector<std::vector<float>> hs(threads);
  std::vector<std::vector<int32_t>> hd(threads);
  std::vector<std::vector<uint32_t>> hn(threads);
  parallel(threads, [&](int t) {
    const uint32_t lo = uint32_t(uint64_t(v.n) * t / threads), hi = uint32_t(uint64_t(v.n) * (t + 1) / threads);
    hs[t].assign(size_t(nq) * k, 0.0f);
    hd[t].assign(size_t(nq) * k, 0);
    std::vector<TopK> heaps;
    heaps.reserve(nq);
    for (uint32_t q = 0; q < nq; q++) heaps.emplace_back(hs[t].data() + size_t(q) * k, hd[t].data() + size_t(q) * k, k);
    std::vector<float> tileBuf(v.dtype == 0 ? 0 : size_t(kTile) * D);
    std::vector<float> zero(D, 0.0f);
    float out[16];
    const bool usePanel = dot == dot4x4Avx512;
    std::vector<float> panel(4 * size_t(kTile));
    for (uint32_t d0 = lo; d0 < hi; d0 += kTile) {
      const uint32_t rows = std::min(kTile, hi - d0);
      const float* tile = docTile(v, d0, rows, tileBuf.data());
      for (uint32_t q = 0; q < nq; q += 4) {
        const float* qp[4];
        for (int i = 0; i < 4; i++) qp[i] = q + i < nq ? queries + size_t(q + i) * D : zero.data();
        uint32_t j0 = 0;
        if (usePanel) {
          j0 = rows & ~3u;
          if (j0) {
            panelAvx512(qp, tile, j0, D, panel.data());
            for (int i = 0; i < 4 && q + i < nq; i++) {
              TopK& h = heaps[q + i];
              const float* sc = panel.data() + size_t(i) * j0;
              for (uint32_t j = 0; j < j0; j++)
                if (!h.full() || sc[j] >= h.threshold()) h.push(sc[j], int32_t(d0 + j));
            }
          }
        }
        for (uint32_t j = j0; j < rows; j += 4) {
          const float* dp[4];
          for (int l = 0; l < 4; l++) dp[l] = j + l < rows ? tile + size_t(j + l) * D : zero.data();
          dot(qp[0], qp[1], qp[2], qp[3], dp[0], dp[1], dp[2], dp[3], D, out);
          for (int i = 0; i < 4 && q + i < nq; i++) {
            TopK& h = heaps[q + i];
            for (int l = 0; l < 4 && j + l < rows; l++) {
              const float sc = out[i * 4 + l];
              if (!h.full() || sc >= h.threshold()) h.push(sc, int32_t(d0 + j + l));
            }
          }
        }
      }
    }
    hn[t].resize(nq);
    for (uint32_t q = 0; q < nq; q++) hn[t][q] = heaps[q].n;
  });
  // Merge the per-thread heaps of each query.
  parallel(threads, [&](int t) {
    for (uint32_t q = t; q < nq; q += threads) {
      TopK h(outScores + size_t(q) * k, outDocs + size_t(q) * k, k);
      for (int s = 0; s < threads; s++)
        for (uint32_t i = 0; i < hn[s][q]; i++) h.push(hs[s][size_t(q) * k + i], hd[s][size_t(q) * k + i]);
      h.sortBest();
      outCounts[q] = h.n;
    }
  });
}

}  // namespace lion
