// Sparse search hot loops over the inverted index of src/index/inverted/format.ts.
//
// Exact: score-at-a-time accumulation. For each query term t (ascending), each posting (doc, w) of t adds
// qs * w to acc[doc] in float32, qs = fl(q_t * scale) (scale = 1 for float32 postings, the quantisation step
// for 8/16-bit impacts). Then every doc with acc > 0 competes for the top-k. The TypeScript twin in
// src/index/inverted/search.ts performs the same float32 operations in the same order, so scores agree bit
// for bit.
//
// Block-max (BMP-style, Mallia et al. SIGIR 2024): documents fall into blocks of 2^shift consecutive
// positions; each term stores an 8-bit upper bound of its weight per block (a dense row for frequent terms,
// sparse (block, max) pairs otherwise). A query sums q_t * max_t(block) into a per-block upper bound,
// buckets the blocks by bound, and scores whole blocks best-bound-first through the forward index until the
// next bound times alpha cannot beat the k-th best score. alpha = 1 is safe (the exact top-k); alpha < 1
// trades accuracy for speed. Forward scoring adds the same float32 products in the same term order as the
// exact loop (terms absent from the query add +0), so a scored document gets the same score bits.
//
// Impact (in the spirit of Seismic's static pruning, Bruch et al. SIGIR 2024, without its clustering): each
// term keeps the positions of its highest-weight postings, weight descending. A query takes its `cut` terms
// with the largest q_t * max weight, gathers the first `lambda` positions of each list as candidates, and
// scores each candidate once, exactly, through the forward index. Approximate; cut = all terms and lambda >=
// every list length (with lists built untruncated) is exact.
//
// Cluster (the ideas of Seismic, Bruch et al. SIGIR 2024, written for this index): each term keeps its
// `listMax` highest-weight postings, in position order, cut into blocks of similar documents (positions follow
// the graph-bisection reordering below); each block has a summary vector (per term the block's largest weight,
// mass-pruned, 8-bit). A query takes its `cut` heaviest terms (q_t * max weight), estimates every block of
// their lists from its summary, and visits the blocks best estimate first, scoring each document exactly
// through the forward index (once); it stops at the first block with gamma * estimate <= the k-th score.
// Approximate; with summaryMass = 1, untruncated lists, cut = all terms and gamma = 1 it is exact.
//
// Reordering: recursive graph bisection (Dhulipala et al. KDD 2016), see src/index/inverted/reorder.ts.
#pragma once
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <immintrin.h>
#include "common.h"

namespace lion {

struct SparseIndexView {
  uint32_t numDocs, vocab;
  const uint32_t* termOff;  // (V + 1)
  const uint32_t* docs;     // (P)
  const void* w;            // (P) f32 | u8 | u16
  int wtype;                // 0 f32, 1 u8, 2 u16
  float scale;              // dequantisation step (1 for f32)
};

struct BlockView {
  uint32_t shift, numBlocks;
  const uint32_t* bmOff;    // (V + 1) sparse block-max lists
  const uint32_t* bmBlock;  // (E)
  const uint8_t* bmMax;     // (E)
  const int32_t* denseRow;  // (V) row in denseMax or -1
  const uint8_t* denseMax;  // (R, numBlocks)
  float bmScale;            // upper bound of a weight = code * bmScale
  const uint32_t* fwdOff;   // (N + 1)
  const uint32_t* fwdTerms; // (P)
  const void* fwdW;         // (P) same dtype as postings
};

struct QueryBatch {
  uint32_t n;
  const uint32_t* off;    // (Q + 1)
  const uint32_t* terms;  // (sum nnz) ascending per query
  const float* weights;   // (sum nnz)
};

struct Outputs {
  uint32_t k;
  int32_t* docs;     // (Q, k)
  float* scores;     // (Q, k)
  uint32_t* counts;  // (Q)
  double* visited;   // (Q) postings (and block bounds) touched
};

// Offers every accumulator above the running threshold to the heap, in ascending document order, and
// clears the accumulators. The AVX-512 version compares sixteen at a time and visits only the lanes above
// the threshold; both push the same documents in the same order.
static void scanTopKPortable(float* acc, uint32_t n, TopK& heap) {
  float thr = 0.0f;
  for (uint32_t d = 0; d < n; d++) {
    const float a = acc[d];
    if (a > thr) {
      heap.push(a, int32_t(d));
      if (heap.full()) thr = std::max(0.0f, heap.threshold());
    }
  }
  std::memset(acc, 0, sizeof(float) * n);
}

__attribute__((target("avx512f"))) static void scanTopKAvx512(float* acc, uint32_t n, TopK& heap) {
  float thr = 0.0f;
  __m512 vt = _mm512_setzero_ps();
  const __m512 zero = _mm512_setzero_ps();
  uint32_t d0 = 0;
  for (; d0 + 16 <= n; d0 += 16) {
    const __m512 v = _mm512_loadu_ps(acc + d0);
    uint32_t m = _mm512_cmp_ps_mask(v, vt, _CMP_GT_OQ);
    if (m) {
      while (m) {
        const uint32_t d = d0 + __builtin_ctz(m);
        m &= m - 1;
        const float a = acc[d];
        if (a > thr) {
          heap.push(a, int32_t(d));
          if (heap.full()) { thr = std::max(0.0f, heap.threshold()); vt = _mm512_set1_ps(thr); }
        }
      }
    }
    _mm512_storeu_ps(acc + d0, zero);
  }
  for (uint32_t d = d0; d < n; d++) {
    const float a = acc[d];
    if (a > thr) {
      heap.push(a, int32_t(d));
      if (heap.full()) thr = std::max(0.0f, heap.threshold());
    }
    acc[d] = 0.0f;
  }
}

static void scanTopK(float* acc, uint32_t n, TopK& heap) {
  static const bool avx512 = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f"));
  if (avx512) scanTopKAvx512(acc, n, heap);
  else scanTopKPortable(acc, n, heap);
}

template <class W>
static void exactOne(const SparseIndexView& ix, const QueryBatch& qb, uint32_t q, float* acc, const Outputs& o) {
  const W* w = static_cast<const W*>(ix.w);
  double vis = 0;
  for (uint32_t i = qb.off[q]; i < qb.off[q + 1]; i++) {
    const uint32_t t = qb.terms[i];
    const float qs = qb.weights[i] * ix.scale;
    const uint32_t b = ix.termOff[t], e = ix.termOff[t + 1];
    for (uint32_t p = b; p < e; p++) acc[ix.docs[p]] += qs * static_cast<float>(w[p]);
    vis += e - b;
  }
  TopK heap(o.scores + size_t(q) * o.k, o.docs + size_t(q) * o.k, o.k);
  if (qb.off[q + 1] > qb.off[q]) scanTopK(acc, ix.numDocs, heap);
  heap.sortBest();
  o.counts[q] = heap.n;
  if (o.visited) o.visited[q] = vis;
}

void sparseExact(const SparseIndexView& ix, const QueryBatch& qb, const Outputs& o, int threads) {
  parallel(threads, [&](int t) {
    std::vector<float> acc(ix.numDocs, 0.0f);
    for (uint32_t q = t; q < qb.n; q += threads) {
      if (ix.wtype == 0) exactOne<float>(ix, qb, q, acc.data(), o);
      else if (ix.wtype == 1) exactOne<uint8_t>(ix, qb, q, acc.data(), o);
      else exactOne<uint16_t>(ix, qb, q, acc.data(), o);
    }
  });
}

// ub[b] += qw * float(m[b]) over a dense block-max row: the per-query bound pass of block-max search. The
// AVX2 version converts eight 8-bit bounds at a time and multiplies then adds (no fused multiply-add), so it
// produces the same float32 values as the portable loop. Chosen at run time (no -march flags).
static void addRowPortable(float* ub, const uint8_t* m, float qw, uint32_t nb) {
  for (uint32_t b = 0; b < nb; b++) ub[b] += qw * float(m[b]);
}

__attribute__((target("avx2"))) static void addRowAvx2(float* ub, const uint8_t* m, float qw, uint32_t nb) {
  const __m256 vq = _mm256_set1_ps(qw);
  uint32_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    const __m128i c = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(m + b));
    const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(c));
    _mm256_storeu_ps(ub + b, _mm256_add_ps(_mm256_loadu_ps(ub + b), _mm256_mul_ps(vq, f)));
  }
  for (; b < nb; b++) ub[b] += qw * float(m[b]);
}

static void addRow(float* ub, const uint8_t* m, float qw, uint32_t nb) {
  static const bool avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
  if (avx2) addRowAvx2(ub, m, qw, nb);
  else addRowPortable(ub, m, qw, nb);
}

// One document's score through the forward index: the sum over its row of qd[term] * weight, in ascending
// term order. Terms absent from the query have qd = +0 and add exactly +0, so the sum equals, bit for bit,
// the sum over the query terms alone, in the exact loop's order. The AVX-512 version uses that: it gathers
// qd for sixteen entries at a time, multiplies, and adds only the non-zero products, in order, one by one —
// the serial chain of float additions (which bounds the portable loop at ~4 cycles per entry) shrinks to the
// few entries the query shares with the document.
template <class W>
static float forwardRowPortable(const uint32_t* terms, const W* w, uint32_t n, const float* qd) {
  float acc = 0.0f;
  for (uint32_t p = 0; p < n; p++) acc += qd[terms[p]] * static_cast<float>(w[p]);
  return acc;
}

template <class W>
__attribute__((target("avx512f,avx512bw"))) static inline __m512 loadW16(const W* w) {
  if constexpr (std::is_same_v<W, float>) return _mm512_loadu_ps(w);
  else if constexpr (std::is_same_v<W, uint8_t>) return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w))));
  else return _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
}

template <class W>
__attribute__((target("avx512f,avx512bw"))) static float forwardRowAvx512(const uint32_t* terms, const W* w, uint32_t n, const float* qd) {
  float acc = 0.0f;
  alignas(64) float buf[16];
  const __m512 zero = _mm512_setzero_ps();
  uint32_t p = 0;
  for (; p + 16 <= n; p += 16) {
    const __m512 g = _mm512_i32gather_ps(_mm512_loadu_si512(terms + p), qd, 4);
    const __mmask16 m = _mm512_cmp_ps_mask(g, zero, _CMP_NEQ_UQ);
    if (!m) continue;
    _mm512_mask_compressstoreu_ps(buf, m, _mm512_mul_ps(g, loadW16<W>(w + p)));
    const int c = __builtin_popcount(m);
    for (int i = 0; i < c; i++) acc += buf[i];
  }
  for (; p < n; p++) {
    const float g = qd[terms[p]];
    if (g != 0.0f) acc += g * static_cast<float>(w[p]);
  }
  return acc;
}

// Scalar, skipping the zero products: the loads are independent, and only the shared terms form the chain of
// additions.
template <class W>
static float forwardRowSkip(const uint32_t* terms, const W* w, uint32_t n, const float* qd) {
  float acc = 0.0f;
  for (uint32_t p = 0; p < n; p++) {
    const float g = qd[terms[p]];
    if (g != 0.0f) acc += g * static_cast<float>(w[p]);
  }
  return acc;
}

// Which row loop: the plain one unless LION_SEARCH_ROWS=gather (AVX-512) or skip. Measured on the 1M-document
// `topics` index (AMD EPYC, AVX-512, cluster cut 5 gamma 1, CPU ms per query, same run): plain 0.30-0.32,
// gather 0.39, skip 0.46-0.49 — the rows come from memory, and the plain loop's independent loads overlap
// those misses best; the others stay for CPUs where the balance differs.
static int rowKind() {
  static const int kind = [] {
    const char* e = std::getenv("LION_SEARCH_ROWS");
    const bool avx512 = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"));
    if (e && std::strcmp(e, "skip") == 0) return 1;
    if (e && std::strcmp(e, "gather") == 0 && avx512) return 2;
    return 0;
  }();
  return kind;
}

template <class W>
static inline float forwardRow(const uint32_t* terms, const W* w, uint32_t n, const float* qd) {
  const int k = rowKind();
  return k == 2 ? forwardRowAvx512<W>(terms, w, n, qd) : k == 1 ? forwardRowSkip<W>(terms, w, n, qd) : forwardRowPortable<W>(terms, w, n, qd);
}

template <class W>
static float forwardScore(const BlockView& bv, const float* qd, uint32_t d, double& vis) {
  const W* fw = static_cast<const W*>(bv.fwdW);
  const uint32_t p0 = bv.fwdOff[d], p1 = bv.fwdOff[d + 1];
  vis += p1 - p0;
  return forwardRow<W>(bv.fwdTerms + p0, fw + p0, p1 - p0, qd);
}

// Scores kGroup documents side by side. Each row's sum keeps its own order, so every score has the bits of
// forwardRow's plain loop; what changes is that the rows' chains of float additions (one add per entry, each
// waiting for the last) now run interleaved, so the core overlaps them instead of waiting on one at a time,
// and the rows' cache misses overlap too. Rows are read to the shortest length unguarded, then each row to its
// own end.
static const uint32_t kGroup = 4;

template <class W>
static void forwardScoreGroup(const BlockView& bv, const float* qd, const uint32_t* ds, float* out, double& vis) {
  const W* fw = static_cast<const W*>(bv.fwdW);
  const uint32_t a0 = bv.fwdOff[ds[0]], a1 = bv.fwdOff[ds[1]], a2 = bv.fwdOff[ds[2]], a3 = bv.fwdOff[ds[3]];
  const uint32_t n0 = bv.fwdOff[ds[0] + 1] - a0, n1 = bv.fwdOff[ds[1] + 1] - a1, n2 = bv.fwdOff[ds[2] + 1] - a2,
                 n3 = bv.fwdOff[ds[3] + 1] - a3;
  const uint32_t *t0 = bv.fwdTerms + a0, *t1 = bv.fwdTerms + a1, *t2 = bv.fwdTerms + a2, *t3 = bv.fwdTerms + a3;
  const W *w0 = fw + a0, *w1 = fw + a1, *w2 = fw + a2, *w3 = fw + a3;
  vis += double(n0) + n1 + n2 + n3;
  const uint32_t m = std::min(std::min(n0, n1), std::min(n2, n3));
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  for (uint32_t p = 0; p < m; p++) {
    s0 += qd[t0[p]] * static_cast<float>(w0[p]);
    s1 += qd[t1[p]] * static_cast<float>(w1[p]);
    s2 += qd[t2[p]] * static_cast<float>(w2[p]);
    s3 += qd[t3[p]] * static_cast<float>(w3[p]);
  }
  for (uint32_t p = m; p < n0; p++) s0 += qd[t0[p]] * static_cast<float>(w0[p]);
  for (uint32_t p = m; p < n1; p++) s1 += qd[t1[p]] * static_cast<float>(w1[p]);
  for (uint32_t p = m; p < n2; p++) s2 += qd[t2[p]] * static_cast<float>(w2[p]);
  for (uint32_t p = m; p < n3; p++) s3 += qd[t3[p]] * static_cast<float>(w3[p]);
  out[0] = s0; out[1] = s1; out[2] = s2; out[3] = s3;
}

// Which scorer the rescoring loops use: groups of kGroup (the default) or one row at a time
// (LION_SEARCH_GROUP=1, for comparison).
static bool grouped() {
  static const bool g = [] {
    const char* e = std::getenv("LION_SEARCH_GROUP");
    return !(e && std::strcmp(e, "1") == 0) && rowKind() == 0;
  }();
  return g;
}

// Fetches the rows of a group ahead of use (every cache line of the terms and weights).
template <class W>
static inline void prefetchRows(const BlockView& bv, const uint32_t* ds, uint32_t n) {
  const W* fw = static_cast<const W*>(bv.fwdW);
  for (uint32_t g = 0; g < n; g++) {
    const uint32_t p0 = bv.fwdOff[ds[g]], p1 = bv.fwdOff[ds[g] + 1];
    for (uint32_t p = p0; p < p1; p += 16) __builtin_prefetch(bv.fwdTerms + p);
    for (uint32_t p = p0; p < p1; p += 64 / sizeof(W)) __builtin_prefetch(fw + p);
  }
}

// Scores the candidates ds[0..n) through the forward index in their order and offers each positive score to
// the heap, in that order — the same pushes as scoring them one by one. Scattered candidates (cluster,
// impact) go in groups; block-max's contiguous rows go one at a time, which measured faster there (1M
// `topics`, 8-bit: blockmax alpha 1 at 0.81 CPU ms one by one against 1.04 grouped, while cluster cut 8,
// gamma 0.9 went from 0.31 to 0.27).
template <class W>
static void scoreCandidates(const BlockView& bv, const float* qd, const uint32_t* ds, uint32_t n, TopK& heap, double& vis, bool group) {
  uint32_t i = 0;
  if (group && grouped()) {
    float sc[kGroup];
    for (; i + kGroup <= n; i += kGroup) {
      if (i + 2 * kGroup <= n) prefetchRows<W>(bv, ds + i + kGroup, kGroup);
      forwardScoreGroup<W>(bv, qd, ds + i, sc, vis);
      for (uint32_t g = 0; g < kGroup; g++)
        if (sc[g] > 0.0f) heap.push(sc[g], int32_t(ds[i + g]));
    }
  }
  for (; i < n; i++) {
    const float sc = forwardScore<W>(bv, qd, ds[i], vis);
    if (sc > 0.0f) heap.push(sc, int32_t(ds[i]));
  }
}

struct BmpScratch {
  std::vector<float> qdense, ub;
  std::vector<uint32_t> order, bucketStart, cand;
};

static const uint32_t kBuckets = 1024;
// Relative slack on bounds so float rounding in the bound never prunes a block the exact loop would keep.
static const float kSlack = 1.0f + 1e-5f;

template <class W>
static void bmpOne(const SparseIndexView& ix, const BlockView& bv, const QueryBatch& qb, uint32_t q, float alpha,
                   BmpScratch& s, const Outputs& o) {
  const uint32_t nb = bv.numBlocks;
  float* ub = s.ub.data();
  float* qd = s.qdense.data();
  double vis = 0;
  const uint32_t q0 = qb.off[q], q1 = qb.off[q + 1];
  std::memset(ub, 0, sizeof(float) * nb);
  for (uint32_t i = q0; i < q1; i++) {
    const uint32_t t = qb.terms[i];
    const float qw = qb.weights[i];
    qd[t] = qw * ix.scale;
    const int32_t row = bv.denseRow[t];
    if (row >= 0) {
      addRow(ub, bv.denseMax + size_t(row) * nb, qw, nb);
      vis += nb;
    } else {
      for (uint32_t e = bv.bmOff[t]; e < bv.bmOff[t + 1]; e++) ub[bv.bmBlock[e]] += qw * float(bv.bmMax[e]);
      vis += bv.bmOff[t + 1] - bv.bmOff[t];
    }
  }
  TopK heap(o.scores + size_t(q) * o.k, o.docs + size_t(q) * o.k, o.k);
  float maxUb = 0.0f;
  for (uint32_t b = 0; b < nb; b++) maxUb = std::max(maxUb, ub[b]);
  if (maxUb > 0.0f) {
    // Counting sort of the blocks into kBuckets by bound, best bucket first.
    uint32_t* start = s.bucketStart.data();
    std::memset(start, 0, sizeof(uint32_t) * (kBuckets + 1));
    const float inv = float(kBuckets) / maxUb;
    for (uint32_t b = 0; b < nb; b++)
      if (ub[b] > 0.0f) start[kBuckets - 1 - std::min(kBuckets - 1, uint32_t(ub[b] * inv))]++;
    uint32_t sum = 0;
    for (uint32_t i = 0; i <= kBuckets; i++) { uint32_t c = start[i]; start[i] = sum; sum += c; }
    uint32_t* order = s.order.data();
    for (uint32_t b = 0; b < nb; b++)
      if (ub[b] > 0.0f) order[start[kBuckets - 1 - std::min(kBuckets - 1, uint32_t(ub[b] * inv))]++] = b;
    // start[i] now ends bucket i; bucket i begins at start[i-1].
    const float scaleUb = bv.bmScale * kSlack * alpha;
    uint32_t pos = 0;
    for (uint32_t bi = 0; bi < kBuckets && pos < sum; bi++) {
      const uint32_t end = start[bi];
      const float edge = float(kBuckets - bi) * maxUb / float(kBuckets) * kSlack;
      if (heap.full() && edge * scaleUb <= heap.threshold()) break;
      for (; pos < end; pos++) {
        const uint32_t b = order[pos];
        if (heap.full() && ub[b] * scaleUb <= heap.threshold()) continue;
        const uint32_t d0 = b << bv.shift, d1 = std::min(ix.numDocs, (b + 1) << bv.shift);
        s.cand.clear();
        for (uint32_t d = d0; d < d1; d++) s.cand.push_back(d);
        scoreCandidates<W>(bv, qd, s.cand.data(), d1 - d0, heap, vis, false);
      }
    }
  }
  for (uint32_t i = q0; i < q1; i++) qd[qb.terms[i]] = 0.0f;
  heap.sortBest();
  o.counts[q] = heap.n;
  if (o.visited) o.visited[q] = vis;
}

void sparseBlockMax(const SparseIndexView& ix, const BlockView& bv, const QueryBatch& qb, float alpha, const Outputs& o,
                    int threads) {
  parallel(threads, [&](int t) {
    // Reused across calls on the same thread (qdense is zeroed again after each query; ub, order and the
    // buckets are rewritten by each query).
    static thread_local BmpScratch s;
    if (s.qdense.size() != ix.vocab) s.qdense.assign(ix.vocab, 0.0f);
    if (s.ub.size() != bv.numBlocks) { s.ub.assign(bv.numBlocks, 0.0f); s.order.assign(bv.numBlocks, 0); }
    if (s.bucketStart.size() != kBuckets + 1) s.bucketStart.assign(kBuckets + 1, 0);
    for (uint32_t q = t; q < qb.n; q += threads) {
      if (ix.wtype == 0) bmpOne<float>(ix, bv, qb, q, alpha, s, o);
      else if (ix.wtype == 1) bmpOne<uint8_t>(ix, bv, qb, q, alpha, s, o);
      else bmpOne<uint16_t>(ix, bv, qb, q, alpha, s, o);
    }
  });
}

struct ImpactView {
  const uint32_t* off;   // (V + 1)
  const uint32_t* docs;  // (I) per term, positions by weight descending
  const float* termMax;  // (V) largest weight of each term
};

// Documents already scored for the current query: an open-addressing set sized to the candidate budget
// (cut * lambda), so a single-query call costs nothing proportional to the collection.
struct SeenSet {
  std::vector<uint32_t> slot;
  uint32_t mask = 0;
  void reset(size_t want) {
    size_t cap = 16;
    while (cap < 2 * want) cap <<= 1;
    slot.assign(cap, UINT32_MAX);
    mask = uint32_t(cap - 1);
  }
  // Inserts d; false if it was there already.
  bool insert(uint32_t d) {
    uint32_t h = (d * 2654435761u) & mask;
    while (slot[h] != UINT32_MAX) {
      if (slot[h] == d) return false;
      h = (h + 1) & mask;
    }
    slot[h] = d;
    return true;
  }
};

struct ImpactScratch {
  std::vector<float> qdense;
  SeenSet seen;
  std::vector<uint32_t> cand;
  std::vector<std::pair<float, uint32_t>> order;
};

template <class W>
static void impactOne(const SparseIndexView& ix, const BlockView& bv, const ImpactView& iv, const QueryBatch& qb, uint32_t q,
                      uint32_t cut, uint32_t lambda, ImpactScratch& s, const Outputs& o) {
  float* qd = s.qdense.data();
  double vis = 0;
  const uint32_t q0 = qb.off[q], q1 = qb.off[q + 1];
  s.order.clear();
  for (uint32_t i = q0; i < q1; i++) {
    const uint32_t t = qb.terms[i];
    qd[t] = qb.weights[i] * ix.scale;
    s.order.push_back({qb.weights[i] * iv.termMax[t], t});
  }
  std::stable_sort(s.order.begin(), s.order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  TopK heap(o.scores + size_t(q) * o.k, o.docs + size_t(q) * o.k, o.k);
  const uint32_t nt = std::min<uint32_t>(cut, uint32_t(s.order.size()));
  size_t budget = 0;
  for (uint32_t j = 0; j < nt; j++) { const uint32_t t = s.order[j].second; budget += std::min(iv.off[t + 1] - iv.off[t], lambda); }
  s.seen.reset(budget);
  s.cand.clear();
  for (uint32_t j = 0; j < nt; j++) {
    const uint32_t t = s.order[j].second;
    const uint32_t a = iv.off[t], b = std::min(iv.off[t + 1], a + lambda);
    vis += b - a;
    for (uint32_t p = a; p < b; p++)
      if (s.seen.insert(iv.docs[p])) s.cand.push_back(iv.docs[p]);
  }
  // Score candidates in list order (the rows are scattered over memory; scoreCandidates fetches them a group
  // ahead).
  scoreCandidates<W>(bv, qd, s.cand.data(), uint32_t(s.cand.size()), heap, vis, true);
  for (uint32_t i = q0; i < q1; i++) qd[qb.terms[i]] = 0.0f;
  heap.sortBest();
  o.counts[q] = heap.n;
  if (o.visited) o.visited[q] = vis;
}

void sparseImpact(const SparseIndexView& ix, const BlockView& bv, const ImpactView& iv, const QueryBatch& qb, uint32_t cut,
                  uint32_t lambda, const Outputs& o, int threads) {
  parallel(threads, [&](int t) {
    ImpactScratch s;
    s.qdense.assign(ix.vocab, 0.0f);
    for (uint32_t q = t; q < qb.n; q += threads) {
      if (ix.wtype == 0) impactOne<float>(ix, bv, iv, qb, q, cut, lambda, s, o);
      else if (ix.wtype == 1) impactOne<uint8_t>(ix, bv, iv, qb, q, cut, lambda, s, o);
      else impactOne<uint16_t>(ix, bv, iv, qb, q, cut, lambda, s, o);
    }
  });
}

// ---- Cluster search ----

struct ClusterView {
  const uint32_t* off;       // (V + 1) block range per term
  const uint32_t* docOff;    // (C + 1)
  const uint32_t* docs;      // (J)
  const uint32_t* sumOff;    // (C + 1)
  const uint32_t* sumTerms;  // (S)
  const uint8_t* sumCodes;   // (S)
  const float* sumScale;     // (C)
  const float* termMax;      // (V)
};

struct ClusterScratch {
  std::vector<float> qdense, qraw;
  std::vector<uint32_t> cand;
  SeenSet seen;
  std::vector<std::pair<float, uint32_t>> order, blocks;
};

template <class W>
static void clusterOne(const SparseIndexView& ix, const BlockView& bv, const ClusterView& cv, const QueryBatch& qb, uint32_t q,
                       uint32_t cut, float gamma, ClusterScratch& s, const Outputs& o) {
  float* qd = s.qdense.data();
  float* qr = s.qraw.data();
  double vis = 0;
  const uint32_t q0 = qb.off[q], q1 = qb.off[q + 1];
  s.order.clear();
  for (uint32_t i = q0; i < q1; i++) {
    const uint32_t t = qb.terms[i];
    qd[t] = qb.weights[i] * ix.scale;
    qr[t] = qb.weights[i];
    s.order.push_back({qb.weights[i] * cv.termMax[t], t});
  }
  std::stable_sort(s.order.begin(), s.order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  TopK heap(o.scores + size_t(q) * o.k, o.docs + size_t(q) * o.k, o.k);
  const uint32_t nt = std::min<uint32_t>(cut, uint32_t(s.order.size()));
  size_t budget = 0;
  for (uint32_t j = 0; j < nt; j++) {
    const uint32_t t = s.order[j].second;
    budget += cv.docOff[cv.off[t + 1]] - cv.docOff[cv.off[t]];
  }
  s.seen.reset(budget);
  // Estimate every block of the chosen lists from its summary, then visit the blocks best estimate first
  // (ties by block id): the heap fills with strong documents at once, and the first block whose
  // gamma x estimate cannot beat the k-th score ends the search, since every later one is lower.
  s.blocks.clear();
  for (uint32_t j = 0; j < nt; j++) {
    const uint32_t t = s.order[j].second;
    for (uint32_t c = cv.off[t]; c < cv.off[t + 1]; c++) {
      float est = 0.0f;
      const uint32_t e0 = cv.sumOff[c], e1 = cv.sumOff[c + 1];
      for (uint32_t e = e0; e < e1; e++) est += qr[cv.sumTerms[e]] * float(cv.sumCodes[e]);
      vis += e1 - e0;
      s.blocks.push_back({est * cv.sumScale[c], c});
    }
  }
  std::sort(s.blocks.begin(), s.blocks.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  for (const auto& [est, c] : s.blocks) {
    if (heap.full() && gamma * est <= heap.threshold()) break;
    // The block's documents not yet scored, scored in block order.
    s.cand.clear();
    for (uint32_t i = cv.docOff[c]; i < cv.docOff[c + 1]; i++)
      if (s.seen.insert(cv.docs[i])) s.cand.push_back(cv.docs[i]);
    scoreCandidates<W>(bv, qd, s.cand.data(), uint32_t(s.cand.size()), heap, vis, true);
  }
  for (uint32_t i = q0; i < q1; i++) { qd[qb.terms[i]] = 0.0f; qr[qb.terms[i]] = 0.0f; }
  heap.sortBest();
  o.counts[q] = heap.n;
  if (o.visited) o.visited[q] = vis;
}

void sparseCluster(const SparseIndexView& ix, const BlockView& bv, const ClusterView& cv, const QueryBatch& qb, uint32_t cut,
                   float gamma, const Outputs& o, int threads) {
  parallel(threads, [&](int t) {
    // Reused across calls on the same thread (one query per call is the latency path): the dense query
    // arrays are zeroed again after each query, so only a larger vocabulary needs a new allocation.
    static thread_local ClusterScratch s;
    if (s.qdense.size() != ix.vocab) { s.qdense.assign(ix.vocab, 0.0f); s.qraw.assign(ix.vocab, 0.0f); }
    for (uint32_t q = t; q < qb.n; q += threads) {
      if (ix.wtype == 0) clusterOne<float>(ix, bv, cv, qb, q, cut, gamma, s, o);
      else if (ix.wtype == 1) clusterOne<uint8_t>(ix, bv, cv, qb, q, cut, gamma, s, o);
      else clusterOne<uint16_t>(ix, bv, cv, qb, q, cut, gamma, s, o);
    }
  });
}

// ---- Cluster build (twin of src/index/inverted/clusters.ts; same steps, same arithmetic, same arrays) ----

struct ClusterBuild {
  std::vector<uint32_t> off, docOff, docs, sumOff, sumTerms;
  std::vector<uint8_t> sumCodes;
  std::vector<float> sumScale;
};

// A document enters its blocks' summaries with its `head` heaviest weights only (all when head = 0 or the
// document is shorter): head[d] is the head-th largest weight of d, and entries below it are skipped. This keeps
// the cost of a block linear in its documents' lengths (a document sits in about as many lists as it has
// terms; touching all its terms in each made the build quadratic in document length).
template <class W>
static std::vector<float> headThresholds(const SparseIndexView& ix, const BlockView& bv, uint32_t head) {
  const W* fw = static_cast<const W*>(bv.fwdW);
  std::vector<float> thr(ix.numDocs, 0.0f), tmp;
  if (head == 0) return thr;
  for (uint32_t d = 0; d < ix.numDocs; d++) {
    const uint32_t p0 = bv.fwdOff[d], p1 = bv.fwdOff[d + 1];
    if (p1 - p0 <= head) continue;
    tmp.clear();
    for (uint32_t p = p0; p < p1; p++) tmp.push_back(static_cast<float>(fw[p]) * ix.scale);
    std::nth_element(tmp.begin(), tmp.begin() + (head - 1), tmp.end(), [](float a, float b) { return a > b; });
    thr[d] = tmp[head - 1];
  }
  return thr;
}

template <class W>
void buildClusters(const SparseIndexView& ix, const BlockView& bv, uint32_t listMax, uint32_t clusterSize, double mass,
                   uint32_t summaryMax, uint32_t head, ClusterBuild& out) {
  const W* w = static_cast<const W*>(ix.w);
  const W* fw = static_cast<const W*>(bv.fwdW);
  const uint32_t V = ix.vocab;
  const std::vector<float> thr = headThresholds<W>(ix, bv, head);
  out.off.assign(V + 1, 0);
  out.docOff.assign(1, 0);
  out.sumOff.assign(1, 0);
  std::vector<float> maxw(V, 0.0f);
  std::vector<uint8_t> mark(V, 0);
  std::vector<uint32_t> sel, list, touched;
  for (uint32_t t = 0; t < V; t++) {
    const uint32_t a = ix.termOff[t], b = ix.termOff[t + 1];
    sel.clear();
    for (uint32_t p = a; p < b; p++) sel.push_back(p);
    if (b - a > listMax) {
      auto better = [&](uint32_t x, uint32_t y) { return w[x] > w[y] || (w[x] == w[y] && ix.docs[x] < ix.docs[y]); };
      std::nth_element(sel.begin(), sel.begin() + listMax, sel.end(), better);
      sel.resize(listMax);
    }
    list.clear();
    for (uint32_t p : sel) list.push_back(ix.docs[p]);
    std::sort(list.begin(), list.end());
    for (size_t s0 = 0; s0 < list.size(); s0 += clusterSize) {
      const size_t s1 = std::min(list.size(), s0 + clusterSize);
      touched.clear();
      for (size_t i = s0; i < s1; i++) {
        const uint32_t d = list[i];
        out.docs.push_back(d);
        const float th = thr[d];
        for (uint32_t p = bv.fwdOff[d]; p < bv.fwdOff[d + 1]; p++) {
          const uint32_t u = bv.fwdTerms[p];
          const float x = static_cast<float>(fw[p]) * ix.scale;
          if (x < th) continue;
          if (!mark[u]) { mark[u] = 1; touched.push_back(u); maxw[u] = x; }
          else if (x > maxw[u]) maxw[u] = x;
        }
      }
      // The total is summed in first-seen order (as the twin does); then only the heaviest summaryMax entries
      // can be kept: select them (same total order as a full sort) and sort just those.
      double total = 0;
      for (uint32_t u : touched) total += maxw[u];
      auto heavier = [&](uint32_t x, uint32_t y) { return maxw[x] > maxw[y] || (maxw[x] == maxw[y] && x < y); };
      const size_t head = std::min<size_t>(touched.size(), summaryMax);
      if (head < touched.size()) std::nth_element(touched.begin(), touched.begin() + head, touched.end(), heavier);
      std::sort(touched.begin(), touched.begin() + head, heavier);
      size_t keep = 0;
      double cum = 0;
      while (keep < touched.size() && keep < summaryMax && (keep == 0 || cum < mass * total)) cum += maxw[touched[keep++]];
      const float top = keep > 0 ? maxw[touched[0]] : 0.0f;
      const float sc = top > 0 ? float(double(top) / 255 * (1 + 1e-6)) : 1.0f;
      const size_t e0 = out.sumTerms.size();
      for (size_t i = 0; i < keep; i++) out.sumTerms.push_back(touched[i]);
      std::sort(out.sumTerms.begin() + e0, out.sumTerms.end());
      for (size_t i = e0; i < out.sumTerms.size(); i++) {
        const float x = maxw[out.sumTerms[i]];
        double c = std::ceil(double(x) / double(sc));
        while (c < 255 && float(c) * sc < x) c++;
        out.sumCodes.push_back(uint8_t(std::min(255.0, c)));
      }
      for (uint32_t u : touched) mark[u] = 0;
      out.sumScale.push_back(sc);
      out.sumOff.push_back(uint32_t(out.sumTerms.size()));
      out.docOff.push_back(uint32_t(out.docs.size()));
    }
    out.off[t + 1] = uint32_t(out.docOff.size() - 1);
  }
}

// ---- Recursive graph bisection ----

static inline double bpCost(int32_t x, uint32_t n) { return x > 0 ? double(x) * std::log2(double(n) / double(x + 1)) : 0.0; }

void reorderBisection(uint32_t N, const uint32_t* off, const uint32_t* terms, uint32_t V, int iters, uint32_t minSize, uint32_t* order) {
  std::vector<int32_t> degL(V, 0), degR(V, 0);
  std::vector<double> gL(V, 0.0), gR(V, 0.0), gain;
  std::vector<uint8_t> mark(V, 0);
  std::vector<uint32_t> touched, L, R;
  std::vector<std::pair<uint32_t, uint32_t>> stack{{0, N}};
  while (!stack.empty()) {
    const auto [lo, hi] = stack.back();
    stack.pop_back();
    const uint32_t n = hi - lo;
    if (n <= minSize || n < 2) continue;
    const uint32_t mid = lo + n / 2, nL = mid - lo, nR = hi - mid;
    touched.clear();
    for (uint32_t i = lo; i < hi; i++) {
      const uint32_t d = order[i];
      int32_t* deg = i < mid ? degL.data() : degR.data();
      for (uint32_t p = off[d]; p < off[d + 1]; p++) {
        const uint32_t t = terms[p];
        if (!mark[t]) { mark[t] = 1; touched.push_back(t); }
        deg[t]++;
      }
    }
    gain.assign(n, 0.0);
    for (int it = 0; it < iters; it++) {
      for (uint32_t t : touched) {
        const int32_t l = degL[t], r = degR[t];
        const double base = bpCost(l, nL) + bpCost(r, nR);
        gL[t] = l > 0 ? base - bpCost(l - 1, nL) - bpCost(r + 1, nR) : 0.0;
        gR[t] = r > 0 ? base - bpCost(l + 1, nL) - bpCost(r - 1, nR) : 0.0;
      }
      for (uint32_t i = lo; i < hi; i++) {
        const uint32_t d = order[i];
        const double* g = i < mid ? gL.data() : gR.data();
        double s = 0;
        for (uint32_t p = off[d]; p < off[d + 1]; p++) s += g[terms[p]];
        gain[i - lo] = s;
      }
      auto byGain = [&](uint32_t a, uint32_t b) { return gain[a - lo] > gain[b - lo] || (gain[a - lo] == gain[b - lo] && order[a] < order[b]); };
      L.resize(nL);
      R.resize(nR);
      for (uint32_t i = 0; i < nL; i++) L[i] = lo + i;
      for (uint32_t i = 0; i < nR; i++) R[i] = mid + i;
      std::sort(L.begin(), L.end(), byGain);
      std::sort(R.begin(), R.end(), byGain);
      uint32_t moves = 0;
      const uint32_t m = std::min(nL, nR);
      while (moves < m && gain[L[moves] - lo] + gain[R[moves] - lo] > 0) moves++;
      if (moves == 0) break;
      for (uint32_t i = 0; i < moves; i++) {
        const uint32_t a = L[i], b = R[i], da = order[a], db = order[b];
        for (uint32_t p = off[da]; p < off[da + 1]; p++) { degL[terms[p]]--; degR[terms[p]]++; }
        for (uint32_t p = off[db]; p < off[db + 1]; p++) { degR[terms[p]]--; degL[terms[p]]++; }
        order[a] = db;
        order[b] = da;
      }
    }
    for (uint32_t t : touched) { degL[t] = 0; degR[t] = 0; mark[t] = 0; }
    stack.push_back({mid, hi});
    stack.push_back({lo, mid});
  }
}

}  // namespace lion
