// Attention with grouped-query heads, a key-padding mask and a causal flag, forward and backward.
// Per (batch, head) the scores S = scale·Q·Kᵀ (T x T) live only in per-thread scratch (slot 2), as does dP
// (slot 3); the forward keeps only lse (B, H, T), and the backward recomputes P = exp(S − lse), as flash
// attention does. Products go through gemm_serial with strided operands (q row stride H·D, k/v KVH·D), so
// no head is ever copied. Work is split over batch × kv-head tasks: all heads sharing a kv head run in one
// task, so dk/dv are written by one thread only.
#include <algorithm>
#include <cmath>

#include "common.h"
#include "ops.h"
#include "simd.h"

namespace lion {
namespace {

inline bool visible(const uint8_t* mrow, long t, long u, bool causal) {
  return (mrow == nullptr || mrow[u] != 0) && (!causal || u <= t);
}

// In place, S[t, :] → P[t, :] = exp(S[t, :] − lse_t) over visible keys, 0 elsewhere (S already scaled).
// The forward also computes lse_t. Hidden keys become -inf first, so every loop below is a plain vector loop.
LION_CLONES void probs_row(float* s, const uint8_t* mrow, long t, long T, bool causal, float* lse,
                           bool compute_lse) {
  const long end = causal ? t + 1 : T;
  if (mrow) {
#pragma omp simd
    for (long u = 0; u < T; u++) s[u] = (u < end && mrow[u]) ? s[u] : -INFINITY;
  } else {
#pragma omp simd
    for (long u = 0; u < T; u++) s[u] = u < end ? s[u] : -INFINITY;
  }
  if (compute_lse) {  // forward: one exp pass, then normalise
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (long u = 0; u < T; u++) mx = std::max(mx, s[u]);
    if (mx == -INFINITY) {  // no visible key: the row is all zeros
      *lse = -INFINITY;
      std::fill(s, s + T, 0.f);
      return;
    }
    float z = 0.f;
#pragma omp simd reduction(+ : z)
    for (long u = 0; u < T; u++) {
      s[u] = vexp(s[u] - mx);
      z += s[u];
    }
    *lse = mx + std::log(z);
    const float inv = 1.f / z;
#pragma omp simd
    for (long u = 0; u < T; u++) s[u] *= inv;
    return;
  }
  const float l = *lse == -INFINITY ? INFINITY : *lse;  // a row with no visible key becomes all zeros
#pragma omp simd
  for (long u = 0; u < T; u++) s[u] = vexp(s[u] - l);
}

// dS = P ⊙ (dP − delta)·scale, in place in dp.
LION_CLONES void dscores_row(float* dp, const float* p, float delta, float scale, long T) {
#pragma omp simd
  for (long u = 0; u < T; u++) dp[u] = p[u] * (dp[u] - delta) * scale;
}

}  // namespace

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, const uint8_t* mask,
                       long B, long T, long H, long KVH, long D, bool causal, float scale) {
  const long group = H / KVH, qs = H * D, ks = KVH * D;
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(B * H, tid, nt, lo, hi);
    if (lo >= hi) return;
    float* s = scratch(tid, 2, static_cast<size_t>(T * T));
    for (long task = lo; task < hi; task++) {
      const long b = task / H, h = task % H, kh = h / group;
      const float* qb = q + b * T * qs + h * D;
      const float* kb = k + b * T * ks + kh * D;
      const float* vb = v + b * T * ks + kh * D;
      const uint8_t* mrow = mask ? mask + b * T : nullptr;
      float* l = lse + (b * H + h) * T;
      gemm_serial(Gemm{T, T, D, qb, qs, false, kb, ks, true, s, T, scale, 0.f}, tid);
      for (long t = 0; t < T; t++) probs_row(s + t * T, mrow, t, T, causal, l + t, true);
      gemm_serial(Gemm{T, D, T, s, T, false, vb, ks, false, out + b * T * qs + h * D, qs, 1.f, 0.f}, tid);
    }
  });
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                        const float* q, const float* k, const float* v, const uint8_t* mask, long B, long T, long H,
                        long KVH, long D, bool causal, float scale) {
  const long group = H / KVH, qs = H * D, ks = KVH * D;
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(B * KVH, tid, nt, lo, hi);
    if (lo >= hi) return;
    float* p = scratch(tid, 2, static_cast<size_t>(T * T));
    float* dp = scratch(tid, 3, static_cast<size_t>(T * T));
    for (long task = lo; task < hi; task++) {
      const long b = task / KVH, kh = task % KVH;
      const float* kb = k + b * T * ks + kh * D;
      const float* vb = v + b * T * ks + kh * D;
      float* dkb = dk + b * T * ks + kh * D;
      float* dvb = dv + b * T * ks + kh * D;
      const uint8_t* mrow = mask ? mask + b * T : nullptr;
      for (long h = kh * group; h < (kh + 1) * group; h++) {
        const long qo = b * T * qs + h * D;
        const float* l = lse + (b * H + h) * T;
        gemm_serial(Gemm{T, T, D, q + qo, qs, false, kb, ks, true, p, T, scale, 0.f}, tid);
        for (long t = 0; t < T; t++) {
          float lt = l[t];
          probs_row(p + t * T, mrow, t, T, causal, &lt, false);
        }
        gemm_serial(Gemm{T, T, D, dout + qo, qs, false, vb, ks, true, dp, T, 1.f, 0.f}, tid);
        for (long t = 0; t < T; t++) {
          const float *go = dout + qo + t * qs, *o = out + qo + t * qs;
          float delta = 0.f;
          for (long i = 0; i < D; i++) delta += go[i] * o[i];
          dscores_row(dp + t * T, p + t * T, delta, scale, T);
        }
        gemm_serial(Gemm{T, D, T, dp, T, false, kb, ks, false, dq + qo, qs, 1.f, 1.f}, tid);
        gemm_serial(Gemm{T, D, T, dp, T, true, q + qo, qs, false, dkb, ks, 1.f, 1.f}, tid);
        gemm_serial(Gemm{T, D, T, p, T, true, dout + qo, qs, false, dvb, ks, 1.f, 1.f}, tid);
      }
    }
  });
}

}  // namespace lion
