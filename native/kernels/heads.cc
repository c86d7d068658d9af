// Encoder heads: the fused sparse (SPLADE-max) head and masked mean pooling of L2-normalised states.
// Sparse forward: threads take tiles of VT vocabulary rows of W from a shared counter; each tile is packed once; per tile and sequence, the (T, VT) logits block of the rows between the first and last real
// token goes into scratch slot 2 (L2-resident) and is reduced at once to the running max and argmax over real
// tokens — B×T×V logits never exist.
// Sparse backward goes through the argmax positions only: dh is split over sequences, dw over vocabulary
// rows, so no two threads write the same row.
#include <algorithm>
#include <cmath>

#include "common.h"
#include "ops.h"
#include "simd.h"

namespace lion {
namespace {

constexpr long VT = 256;  // vocabulary rows per tile

LION_CLONES void tile_max(float* best, int32_t* at, const float* L, const uint8_t* mrow, long T, long vt) {
  for (long j = 0; j < vt; j++) { best[j] = -INFINITY; at[j] = -1; }
  for (long t = 0; t < T; t++) {
    if (mrow && !mrow[t]) continue;
    const float* row = L + t * vt;
    for (long j = 0; j < vt; j++) {
      const bool gt = row[j] > best[j];
      best[j] = gt ? row[j] : best[j];
      at[j] = gt ? static_cast<int32_t>(t) : at[j];
    }
  }
}

// rep = log1p(relu(max)), argmax shifted to sequence positions (−1 stays −1 with rep 0). Three plain loops:
// GCC vectorises each of them, but not their fusion.
LION_CLONES void tile_store(float* rep, int32_t* argmax, const float* best, const int32_t* at, long vt, int32_t t0) {
  float x[VT];
#pragma omp simd
  for (long j = 0; j < vt; j++) x[j] = best[j] > 0.f ? best[j] : 0.f;
#pragma omp simd
  for (long j = 0; j < vt; j++) x[j] = vlog1p(x[j]);
#pragma omp simd
  for (long j = 0; j < vt; j++) {
    argmax[j] = at[j] < 0 ? -1 : at[j] + t0;
    rep[j] = at[j] < 0 ? 0.f : x[j];
  }
}

LION_CLONES void axpy_row(float* y, const float* x, float a, long n) {
#pragma omp simd
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

// acc (C) += Σ_i g_i · W[order[i]] with g = drep·scale·exp(−rep) (the sparse head's chain rule); also used
// with h rows in place of W rows. One clone call per bucket keeps the row loop inlined.
LION_CLONES void gather_axpy(float* acc, const int32_t* order, long n, const float* rows, const float* drep,
                             const float* rep, float scale, long C) {
  for (long i = 0; i < n; i++) {
    const long v = order[i];
    const float g = drep[v] * scale * vexp(-rep[v]);
    const float* x = rows + v * C;
#pragma omp simd
    for (long j = 0; j < C; j++) acc[j] += g * x[j];
  }
}

LION_CLONES float dot_row(const float* a, const float* b, long n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

}  // namespace

// Real-token row range [t0, t1) of sequence b (t0 == t1: none). Only these rows can hold the max, so padded
// tails and heads are never multiplied.
void real_range(const uint8_t* mask, long b, long T, long& t0, long& t1) {
  t0 = 0;
  t1 = T;
  if (!mask) return;
  const uint8_t* m = mask + b * T;
  while (t0 < T && !m[t0]) t0++;
  while (t1 > t0 && !m[t1 - 1]) t1--;
}

// Writes rep/argmax for one (vocabulary tile, sequence) from its logits block L (rows t0 .. t1, vt columns).
void tile_finish(float* rep, int32_t* argmax, const float* L, const uint8_t* mask, long b, long T, long V, long v0,
                 long vt, long t0, long t1) {
  float best[VT];
  int32_t at[VT];
  tile_max(best, at, L, mask ? mask + b * T + t0 : nullptr, t1 - t0, vt);
  tile_store(rep + b * V + v0, argmax + b * V + v0, best, at, vt, static_cast<int32_t>(t0));
}

void sparse_head_forward(float* rep, int32_t* argmax, const float* h, const float* w, const uint8_t* mask, long B,
                         long T, long C, long V, float scale) {
  const Micro& mk = gemm_micro();
  const long MR = mk.MR, NR = mk.NR;
  if (C > gemm_kc() || VT % NR != 0) {  // deep states: the general blocked GEMM per (tile, sequence)
    parallel_tasks((V + VT - 1) / VT, [&](long tile, int tid) {
      float* L = scratch(tid, 2, static_cast<size_t>(T * VT));
      float* wp = scratch(tid, 3, packed_b_floats(C, VT));
      const long v0 = tile * VT, vt = std::min(VT, V - v0);
      const Gemm wt{T, vt, C, nullptr, C, false, w + v0 * C, C, true, L, vt, scale, 0.f};
      pack_b_once(wt, wp);
      for (long b = 0; b < B; b++) {
        long t0, t1;
        real_range(mask, b, T, t0, t1);
        if (t0 == t1) { tile_finish(rep, argmax, L, mask, b, T, V, v0, vt, t0, t1); continue; }
        Gemm g = wt;
        g.M = t1 - t0;
        g.A = h + (b * T + t0) * C;
        gemm_serial_packed(g, wp, tid);
        tile_finish(rep, argmax, L, mask, b, T, V, v0, vt, t0, t1);
      }
    });
    return;
  }
  // C fits one K block: scale·h is packed once for all tiles (the states of every sequence's real-token range,
  // shared read-only by the workers), each W tile once per tile, and the microkernel runs on the two directly.
  float* offs_f = scratch(current_tid(), 5, static_cast<size_t>(2 * (B + 1)));
  long* offs = reinterpret_cast<long*>(offs_f);  // offs[b]: start of sequence b's panels in hp
  offs[0] = 0;
  for (long b = 0; b < B; b++) {
    long t0, t1;
    real_range(mask, b, T, t0, t1);
    offs[b + 1] = offs[b] + (t1 - t0 + MR - 1) / MR * MR * C;
  }
  float* hp = scratch(current_tid(), 4, static_cast<size_t>(std::max(offs[B], 1L)));
  parallel_tasks(B, [&](long b, int) {
    long t0, t1;
    real_range(mask, b, T, t0, t1);
    if (t1 > t0) pack_a_panels(Gemm{t1 - t0, VT, C, h + (b * T + t0) * C, C, false, nullptr, 0, true, nullptr, 0, scale, 0.f},
                               0, t1 - t0, 0, C, hp + offs[b]);
  });
  parallel_tasks((V + VT - 1) / VT, [&](long tile, int tid) {
    float* L = scratch(tid, 2, static_cast<size_t>(T * VT));
    float* wp = scratch(tid, 3, packed_b_floats(C, VT));
    const long v0 = tile * VT, vt = std::min(VT, V - v0);
    pack_b_once(Gemm{T, vt, C, nullptr, C, false, w + v0 * C, C, true, L, vt, 1.f, 0.f}, wp);
    for (long b = 0; b < B; b++) {
      long t0, t1;
      real_range(mask, b, T, t0, t1);
      for (long jr = 0; jr < vt; jr += NR) {
        const int nr = static_cast<int>(std::min(NR, vt - jr));
        for (long ir = 0; ir < t1 - t0; ir += MR) {
          const int mr = static_cast<int>(std::min(MR, t1 - t0 - ir));
          mk.run(C, hp + offs[b] + (ir / MR) * C * MR, wp + (jr / NR) * C * NR, L + ir * vt + jr, vt, mr, nr, 0.f,
                 true);
        }
      }
      tile_finish(rep, argmax, L, mask, b, T, V, v0, vt, t0, t1);
    }
  });
}

void sparse_head_backward(float* dh, float* dw, const float* drep, const float* rep, const int32_t* argmax,
                          const float* h, const float* w, long B, long T, long C, long V, float scale) {
  // Blocked over vocabulary chunks of VB rows (~2 MB of W or dw, L3-resident) that every sequence visits in
  // turn; unblocked, each sequence would stream all of W (V·C floats) from memory. Measured on the reference
  // machine (B 128, T 128, C 256, V 32000): 64 KB chunks 971 ms, 512 KB 404 ms, 2 MB 285 ms, 4 MB 256 ms,
  // unblocked 535 ms; 2 MB leaves L3 room for a neighbour.
  const long VB = std::max<long>(16, (2048L * 1024) / (4 * std::max<long>(C, 1)));
  // dh: sequences split across threads. Within (chunk, sequence) the active entries are bucketed by their
  // argmax token, so each touched dh row is read and written once per chunk, the sum built in L1 scratch.
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(B, tid, nt, lo, hi);
    if (lo >= hi) return;
    float* acc = scratch(tid, 2, static_cast<size_t>(C));
    int32_t* count = reinterpret_cast<int32_t*>(scratch(tid, 3, static_cast<size_t>(T + 1 + VB)));
    int32_t* order = count + T + 1;
    for (long v0 = 0; v0 < V; v0 += VB) {
      const long v1 = std::min(V, v0 + VB);
      for (long b = lo; b < hi; b++) {
        const float* rb = rep + b * V;
        const int32_t* ab = argmax + b * V;
        std::fill(count, count + T + 1, 0);
        for (long v = v0; v < v1; v++)
          if (rb[v] > 0.f && ab[v] >= 0) count[ab[v] + 1]++;
        for (long t = 0; t < T; t++) count[t + 1] += count[t];
        for (long v = v0; v < v1; v++)
          if (rb[v] > 0.f && ab[v] >= 0) order[count[ab[v]]++] = static_cast<int32_t>(v);
        // count[t] is now the end of bucket t; bucket t starts at count[t - 1] (0 for t = 0).
        long start = 0;
        for (long t = 0; t < T; t++) {
          const long end = count[t];
          if (end == start) continue;
          std::fill(acc, acc + C, 0.f);
          gather_axpy(acc, order + start, end - start, w, drep + b * V, rb, scale, C);
          axpy_row(dh + (b * T + t) * C, acc, 1.f, C);
          start = end;
        }
      }
    }
  });
  if (!dw) return;
  parallel_tasks((V + VB - 1) / VB, [&](long chunk, int) {  // dw: one vocabulary chunk per task, one writer
    for (long b = 0; b < B; b++)
      for (long v = chunk * VB; v < std::min(V, (chunk + 1) * VB); v++) {
        const float r = rep[b * V + v];
        const int32_t t = argmax[b * V + v];
        if (!(r > 0.f) || t < 0) continue;
        axpy_row(dw + v * C, h + (b * T + t) * C, drep[b * V + v] * scale * std::exp(-r), C);
      }
  });
}

void mean_pool_forward(float* out, float* norms, const float* h, const uint8_t* mask, long B, long T, long C) {
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(B, tid, nt, lo, hi);
    for (long b = lo; b < hi; b++) {
      float* o = out + b * C;
      std::fill(o, o + C, 0.f);
      long cnt = 0;
      for (long t = 0; t < T; t++) {
        const float* x = h + (b * T + t) * C;
        const float n = std::sqrt(dot_row(x, x, C));
        norms[b * T + t] = n;
        if (mask && !mask[b * T + t]) continue;
        cnt++;
        axpy_row(o, x, 1.f / std::max(n, 1e-12f), C);
      }
      if (cnt > 0)
        for (long j = 0; j < C; j++) o[j] /= static_cast<float>(cnt);
    }
  });
}

void mean_pool_backward(float* dh, const float* dout, const float* h, const float* norms, const uint8_t* mask, long B,
                        long T, long C) {
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(B, tid, nt, lo, hi);
    for (long b = lo; b < hi; b++) {
      long cnt = 0;
      for (long t = 0; t < T; t++) cnt += !mask || mask[b * T + t];
      if (cnt == 0) continue;
      const float* g = dout + b * C;
      for (long t = 0; t < T; t++) {
        if (mask && !mask[b * T + t]) continue;
        const float* x = h + (b * T + t) * C;
        float* d = dh + (b * T + t) * C;
        const float n = norms[b * T + t];
        if (n > 1e-12f) {
          const float k = dot_row(x, g, C) / (n * n * n);
          axpy_row(d, g, 1.f / (n * cnt), C);
          axpy_row(d, x, -k / cnt, C);
        } else {
          axpy_row(d, g, 1.f / (1e-12f * cnt), C);
        }
      }
    }
  });
}

}  // namespace lion
