// Row-wise and elementwise kernels: RMSNorm, RoPE, SwiGLU, axpy/scale/sumSquares, softmax, log-softmax,
// cross-entropy, embeddings and AdamW. Formulas and layouts are those of src/kernels/ref (the oracle).
// Each kernel splits its rows (or elements) into one contiguous range per thread when the work is large
// enough to pay for waking the pool; the inner loops are LION_CLONES functions, vectorised per ISA.
#include <algorithm>
#include <cmath>

#include "common.h"
#include "ops.h"
#include "simd.h"

namespace lion {
namespace {

// Runs fn(lo, hi) over [0, n) split across the pool when n·cost is worth it.
template <class F>
void rows(long n, double cost_per_row, F&& fn) {
  if (n <= 0) return;
  if (n * cost_per_row < 32768.0 || n < 2) { fn(0L, n); return; }
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(n, tid, nt, lo, hi);
    if (lo < hi) fn(lo, hi);
  });
}

LION_CLONES void rmsnorm_fwd_rows(float* y, float* rstd, const float* x, const float* w, long lo, long hi, long C,
                                  float eps) {
  for (long i = lo; i < hi; i++) {
    const float* xi = x + i * C;
    float ss = 0.f;
#pragma omp simd reduction(+ : ss)
    for (long j = 0; j < C; j++) ss += xi[j] * xi[j];
    const float r = 1.f / std::sqrt(ss / static_cast<float>(C) + eps);
    rstd[i] = r;
    float* yi = y + i * C;
#pragma omp simd
    for (long j = 0; j < C; j++) yi[j] = (xi[j] * r) * w[j];
  }
}

LION_CLONES void rmsnorm_bwd_rows(float* dx, const float* dy, const float* x, const float* w, const float* rstd,
                                  long lo, long hi, long C) {
  for (long i = lo; i < hi; i++) {
    const float *xi = x + i * C, *gi = dy + i * C;
    const float r = rstd[i];
    float dot = 0.f;
#pragma omp simd reduction(+ : dot)
    for (long j = 0; j < C; j++) dot += w[j] * gi[j] * xi[j];
    const float k = r * r * r * dot / static_cast<float>(C);
    float* di = dx + i * C;
#pragma omp simd
    for (long j = 0; j < C; j++) di[j] += r * w[j] * gi[j] - k * xi[j];
  }
}

// dw (C) += Σ_i dy·x·rstd over rows [lo, hi) of one column range [c0, c1): columns split across threads.
LION_CLONES void rmsnorm_dw_cols(float* dw, const float* dy, const float* x, const float* rstd, long M, long C,
                                 long c0, long c1) {
  for (long i = 0; i < M; i++) {
    const float r = rstd[i];
    const float *xi = x + i * C, *gi = dy + i * C;
#pragma omp simd
    for (long j = c0; j < c1; j++) dw[j] += gi[j] * xi[j] * r;
  }
}

LION_CLONES void rope_rows(float* x, const float* cos, const float* sin, long lo, long hi, long T, long NH, long D,
                           bool backward) {
  const long half = D / 2;
  for (long row = lo; row < hi; row++) {  // row = (b·T + t)·NH + h
    const long t = (row / NH) % T;
    float* xr = x + row * D;
    const float *c = cos + t * D, *s = sin + t * D;
#pragma omp simd
    for (long i = 0; i < half; i++) {
      const float a = xr[i], b = xr[i + half];
      if (!backward) {
        xr[i] = a * c[i] - b * s[i];
        xr[i + half] = b * c[i + half] + a * s[i + half];
      } else {
        xr[i] = a * c[i] + b * s[i + half];
        xr[i + half] = b * c[i + half] - a * s[i];
      }
    }
  }
}

LION_CLONES void swiglu_fwd_range(float* out, const float* gate, const float* up, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    const float g = gate[i];
    out[i] = g / (1.f + vexp(-g)) * up[i];
  }
}

LION_CLONES void swiglu_bwd_range(float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                                  long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    const float g = gate[i], s = 1.f / (1.f + vexp(-g));
    dgate[i] += dout[i] * up[i] * s * (1.f + g * (1.f - s));
    dup[i] += dout[i] * g * s;
  }
}

LION_CLONES void axpy_range(float* y, const float* x, float a, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) y[i] += a * x[i];
}

LION_CLONES void scale_range(float* x, float a, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) x[i] *= a;
}

LION_CLONES void dropout_fwd_range(float* out, const float* x, const uint8_t* mask, double scale, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) out[i] = mask[i] ? static_cast<float>(static_cast<double>(x[i]) * scale) : 0.f;
}

LION_CLONES void dropout_bwd_range(float* dx, const float* dy, const uint8_t* mask, double scale, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    if (mask[i]) dx[i] = static_cast<float>(static_cast<double>(dx[i]) + static_cast<double>(dy[i]) * scale);
  }
}

LION_CLONES double sumsq_range(const float* x, long lo, long hi) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (long i = lo; i < hi; i++) s += static_cast<double>(x[i]) * x[i];
  return s;
}

// log Σ exp over one row, max-shifted; -inf for an all -inf row.
LION_CLONES float row_lse(const float* x, long N) {
  float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
  for (long j = 0; j < N; j++) mx = std::max(mx, x[j]);
  if (mx == -INFINITY) return -INFINITY;
  double s = 0.0;  // float64: a long row (a 128k vocabulary) must not lose the small terms
#pragma omp simd reduction(+ : s)
  for (long j = 0; j < N; j++) s += vexp(x[j] - mx);
  return mx + static_cast<float>(std::log(s));
}

LION_CLONES void exp_shift(float* y, const float* x, float shift, float mul, long N) {
#pragma omp simd
  for (long j = 0; j < N; j++) y[j] = vexp(x[j] - shift) * mul;
}

LION_CLONES void softmax_bwd_row(float* dx, const float* dy, const float* y, long N, bool log) {
  float s = 0.f;
  if (log) {
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < N; j++) s += dy[j];
#pragma omp simd
    for (long j = 0; j < N; j++) dx[j] += dy[j] - vexp(y[j]) * s;
  } else {
#pragma omp simd reduction(+ : s)
    for (long j = 0; j < N; j++) s += dy[j] * y[j];
#pragma omp simd
    for (long j = 0; j < N; j++) dx[j] += y[j] * (dy[j] - s);
  }
}

LION_CLONES void ce_bwd_row(float* d, const float* x, float lse, float dloss, long V) {
#pragma omp simd
  for (long j = 0; j < V; j++) d[j] += dloss * vexp(x[j] - lse);
}

LION_CLONES void adamw_range(float* p, const float* g, float* m, float* v, long lo, long hi, float b1, float b2,
                             float step_size, float bc2sqrt, float eps, float decay) {
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    const float gi = g[i];
    const float mi = m[i] + (1.f - b1) * (gi - m[i]);
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) / bc2sqrt + eps);
  }
}

}  // namespace

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, long M, long C, float eps) {
  rows(M, C, [&](long lo, long hi) { rmsnorm_fwd_rows(y, rstd, x, w, lo, hi, C, eps); });
}

void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                      long M, long C) {
  rows(M, 3.0 * C, [&](long lo, long hi) { rmsnorm_bwd_rows(dx, dy, x, w, rstd, lo, hi, C); });
  if (dw) rows(C, 2.0 * M, [&](long lo, long hi) { rmsnorm_dw_cols(dw, dy, x, rstd, M, C, lo, hi); });
}

void rope(float* x, const float* cos, const float* sin, long B, long T, long NH, long D, bool backward) {
  rows(B * T * NH, D, [&](long lo, long hi) { rope_rows(x, cos, sin, lo, hi, T, NH, D, backward); });
}

void swiglu_forward(float* out, const float* gate, const float* up, long N) {
  rows(N, 8.0, [&](long lo, long hi) { swiglu_fwd_range(out, gate, up, lo, hi); });
}

void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, long N) {
  rows(N, 10.0, [&](long lo, long hi) { swiglu_bwd_range(dgate, dup, dout, gate, up, lo, hi); });
}

// One xorshift128 stream (Marsaglia 2003) in element order, as src/kernels/ref/elementwise.ts draws it: the
// stream is serial, so the mask is too (one integer step per element; the masked products run on the pool).
void dropout_mask(uint8_t* mask, double p, const uint32_t* seed, long N) {
  const uint64_t thr = static_cast<uint64_t>(std::floor(p * 4294967296.0));
  uint32_t a = seed[0] | 1u, b = seed[1], c = seed[2], d = seed[3];
  for (long i = 0; i < N; i++) {
    const uint32_t t = a ^ (a << 11);
    a = b; b = c; c = d;
    d = (d ^ (d >> 19)) ^ (t ^ (t >> 8));
    mask[i] = static_cast<uint64_t>(d) < thr ? 0 : 1;
  }
}

void dropout_forward(float* out, const float* x, const uint8_t* mask, double scale, long N) {
  rows(N, 1.0, [&](long lo, long hi) { dropout_fwd_range(out, x, mask, scale, lo, hi); });
}

void dropout_backward(float* dx, const float* dy, const uint8_t* mask, double scale, long N) {
  rows(N, 1.0, [&](long lo, long hi) { dropout_bwd_range(dx, dy, mask, scale, lo, hi); });
}

void axpy(float* y, const float* x, float a, long N) {
  rows(N, 1.0, [&](long lo, long hi) { axpy_range(y, x, a, lo, hi); });
}

void column_sum(float* out, const float* x, long M, long N) {
  rows(N, M, [&](long lo, long hi) {
    for (long i = 0; i < M; i++) axpy_range(out, x + i * N, 1.f, lo, hi);
  });
}

void scale(float* x, float a, long N) {
  rows(N, 1.0, [&](long lo, long hi) { scale_range(x, a, lo, hi); });
}

double sum_squares(const float* x, long N) {
  if (N * 1.0 < 65536.0 || threads() == 1) return sumsq_range(x, 0, N);
  double part[256] = {};
  parallel([&](int tid, int nt) {
    long lo, hi;
    split_range(N, tid, nt, lo, hi);
    part[tid] = sumsq_range(x, lo, hi);
  });
  double s = 0.0;
  for (int t = 0; t < threads() && t < 256; t++) s += part[t];
  return s;
}

void softmax_forward(float* y, const float* x, long M, long N, bool log) {
  rows(M, 4.0 * N, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) {
      const float l = row_lse(x + i * N, N);
      if (log) {
        for (long j = 0; j < N; j++) y[i * N + j] = x[i * N + j] - l;
      } else {
        exp_shift(y + i * N, x + i * N, l, 1.f, N);
      }
    }
  });
}

void softmax_backward(float* dx, const float* dy, const float* y, long M, long N, bool log) {
  rows(M, 4.0 * N, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) softmax_bwd_row(dx + i * N, dy + i * N, y + i * N, N, log);
  });
}

long cross_entropy_forward(float* losses, float* lse, const float* logits, const int32_t* targets, long M, long V,
                           int32_t ignore) {
  rows(M, 4.0 * V, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) {
      const float l = row_lse(logits + i * V, V);
      lse[i] = l;
      const int32_t t = targets[i];
      losses[i] = t == ignore ? 0.f : l - logits[i * V + t];
    }
  });
  long count = 0;
  for (long i = 0; i < M; i++) count += targets[i] != ignore;
  return count;
}

void cross_entropy_backward(float* dlogits, const float* logits, const float* lse, const int32_t* targets,
                            float dloss, long M, long V, int32_t ignore) {
  rows(M, 4.0 * V, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) {
      const int32_t t = targets[i];
      if (t == ignore) continue;
      ce_bwd_row(dlogits + i * V, logits + i * V, lse[i], dloss, V);
      dlogits[i * V + t] -= dloss;
    }
  });
}

void embedding_forward(float* out, const float* table, const int32_t* ids, long M, long C) {
  rows(M, C, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) std::copy(table + ids[i] * C, table + ids[i] * C + C, out + i * C);
  });
}

void embedding_backward(float* dtable, const float* dout, const int32_t* ids, long M, long C) {
  // Columns are split across threads, so repeated ids never race.
  rows(C, M, [&](long c0, long c1) {
    for (long i = 0; i < M; i++) axpy_range(dtable + ids[i] * C, dout + i * C, 1.f, c0, c1);
  });
}

void adamw(float* p, const float* g, float* m, float* v, long N, double lr, double b1, double b2, double eps,
           double wd, double step) {
  const double bc1 = 1.0 - std::pow(b1, step), bc2sqrt = std::sqrt(1.0 - std::pow(b2, step));
  const float step_size = static_cast<float>(lr / bc1), decay = static_cast<float>(1.0 - lr * wd);
  rows(N, 6.0, [&](long lo, long hi) {
    adamw_range(p, g, m, v, lo, hi, static_cast<float>(b1), static_cast<float>(b2), step_size,
                static_cast<float>(bc2sqrt), static_cast<float>(eps), decay);
  });
}

}  // namespace lion
