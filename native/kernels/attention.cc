// Attention with grouped-query heads, a key-padding mask and a causal flag, forward and backward.
// Per (batch, head) the scores S = scale·Q·Kᵀ (T x T) live only in per-thread scratch (slot 2), as does dP
// (slot 3); the forward keeps only lse (B, H, T), and the backward recomputes P = exp(S − lse), as flash
// attention does. Products go through gemm_serial with strided operands (q row stride H·D, k/v KVH·D), so
// no head is ever copied. Work is split over batch × kv-head tasks (taken dynamically by the threads): all
// heads sharing a kv head run in one task, so dk/dv are written by one thread only.
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

// In place, S[t, :] → P[t, :] = exp(S[t, :] − lse_t) over the visible keys u < end with mrow[u] set (S already
// scaled; mrow null: all real), 0 elsewhere. The forward also computes lse_t. Hidden keys become -inf first,
// so every loop below is a plain vector loop.
LION_CLONES void probs_row(float* s, const uint8_t* mrow, long end, long n, float* lse, bool compute_lse) {
  if (mrow) {
#pragma omp simd
    for (long u = 0; u < n; u++) s[u] = (u < end && mrow[u]) ? s[u] : -INFINITY;
  } else {
#pragma omp simd
    for (long u = 0; u < n; u++) s[u] = u < end ? s[u] : -INFINITY;
  }
  if (compute_lse) {  // forward: one exp pass, then normalise
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (long u = 0; u < n; u++) mx = std::max(mx, s[u]);
    if (mx == -INFINITY) {  // no visible key: the row is all zeros
      *lse = -INFINITY;
      std::fill(s, s + n, 0.f);
      return;
    }
    float z = 0.f;
#pragma omp simd reduction(+ : z)
    for (long u = 0; u < n; u++) {
      s[u] = vexp(s[u] - mx);
      z += s[u];
    }
    *lse = mx + vlog(z);
    const float inv = 1.f / z;
#pragma omp simd
    for (long u = 0; u < n; u++) s[u] *= inv;
    return;
  }
  const float l = *lse == -INFINITY ? INFINITY : *lse;  // a row with no visible key becomes all zeros
#pragma omp simd
  for (long u = 0; u < n; u++) s[u] = vexp(s[u] - l);
}

// dS = P ⊙ (dP − delta)·scale, in place in dp.
LION_CLONES void dscores_row(float* dp, const float* p, float delta, float scale, long T) {
#pragma omp simd
  for (long u = 0; u < T; u++) dp[u] = p[u] * (dp[u] - delta) * scale;
}


// Keys [k0, k0 + nk) span every real key of sequence b (padding outside it is never visible), so the
// products below skip padded tails and heads; nk = 0 when the sequence has no real token.
void key_range(const uint8_t* mrow, long T, long& k0, long& nk) {
  if (!mrow) { k0 = 0; nk = T; return; }
  long first = 0, last = T - 1;
  while (first < T && !mrow[first]) first++;
  while (last >= first && !mrow[last]) last--;
  k0 = first;
  nk = last >= first ? last - first + 1 : 0;
}

// Visible key count for query t within the range (causal: keys u ≤ t).
inline long visible_end(long t, long k0, long nk, bool causal) {
  return causal ? std::max(0L, std::min(nk, t + 1 - k0)) : nk;
}

}  // namespace

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, const uint8_t* mask,
                       long B, long T, long H, long KVH, long D, bool causal, float scale) {
  const long group = H / KVH, qs = H * D, ks = KVH * D;
  parallel_tasks(B * H, [&](long task, int tid) {
    float* s = scratch(tid, 2, static_cast<size_t>(T * T));
    const long b = task / H, h = task % H, kh = h / group;
    const uint8_t* mrow = mask ? mask + b * T : nullptr;
    long k0, nk;
    key_range(mrow, T, k0, nk);
    const float* qb = q + b * T * qs + h * D;
    const float* kb = k + (b * T + k0) * ks + kh * D;
    const float* vb = v + (b * T + k0) * ks + kh * D;
    float* ob = out + b * T * qs + h * D;
    float* l = lse + (b * H + h) * T;
    if (nk == 0) {
      for (long t = 0; t < T; t++) { l[t] = -INFINITY; std::fill(ob + t * qs, ob + t * qs + D, 0.f); }
      return;
    }
    gemm_serial(Gemm{T, nk, D, qb, qs, false, kb, ks, true, s, nk, scale, 0.f}, tid);
    for (long t = 0; t < T; t++)
      probs_row(s + t * nk, mrow ? mrow + k0 : nullptr, visible_end(t, k0, nk, causal), nk, l + t, true);
    gemm_serial(Gemm{T, D, nk, s, nk, false, vb, ks, false, ob, qs, 1.f, 0.f}, tid);
  });
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                        const float* q, const float* k, const float* v, const uint8_t* mask, long B, long T, long H,
                        long KVH, long D, bool causal, float scale) {
  const long group = H / KVH, qs = H * D, ks = KVH * D;
  parallel_tasks(B * KVH, [&](long task, int tid) {
    float* p = scratch(tid, 2, static_cast<size_t>(T * T));
    float* dp = scratch(tid, 3, static_cast<size_t>(T * T));
    const long b = task / KVH, kh = task % KVH;
    const uint8_t* mrow = mask ? mask + b * T : nullptr;
    long k0, nk;
    key_range(mrow, T, k0, nk);
    if (nk == 0) return;  // no visible key anywhere: every gradient is zero
    const float* kb = k + (b * T + k0) * ks + kh * D;
    const float* vb = v + (b * T + k0) * ks + kh * D;
    float* dkb = dk + (b * T + k0) * ks + kh * D;
    float* dvb = dv + (b * T + k0) * ks + kh * D;
    for (long h = kh * group; h < (kh + 1) * group; h++) {
      const long qo = b * T * qs + h * D;
      const float* l = lse + (b * H + h) * T;
      gemm_serial(Gemm{T, nk, D, q + qo, qs, false, kb, ks, true, p, nk, scale, 0.f}, tid);
      for (long t = 0; t < T; t++) {
        float lt = l[t];
        probs_row(p + t * nk, mrow ? mrow + k0 : nullptr, visible_end(t, k0, nk, causal), nk, &lt, false);
      }
      gemm_serial(Gemm{T, nk, D, dout + qo, qs, false, vb, ks, true, dp, nk, 1.f, 0.f}, tid);
      for (long t = 0; t < T; t++) {
        const float *go = dout + qo + t * qs, *o = out + qo + t * qs;
        float delta = 0.f;
        for (long i = 0; i < D; i++) delta += go[i] * o[i];
        dscores_row(dp + t * nk, p + t * nk, delta, scale, nk);
      }
      gemm_serial(Gemm{T, D, nk, dp, nk, false, kb, ks, false, dq + qo, qs, 1.f, 1.f}, tid);
      gemm_serial(Gemm{nk, D, T, dp, nk, true, q + qo, qs, false, dkb, ks, 1.f, 1.f}, tid);
      gemm_serial(Gemm{nk, D, T, p, nk, true, dout + qo, qs, false, dvb, ks, 1.f, 1.f}, tid);
    }
  });
}

}  // namespace lion
