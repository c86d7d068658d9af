/**
 * Reference matrix products: the definition the native GEMM is tested against.
 * Row-major, float64 accumulation, no blocking: one dot product per output element.
 * Generic over Float32Array | Float64Array so the gradient checks can run entirely in float64.
 */
import type { I32 } from '../types.js';

/** Float storage accepted by the reference kernels (float64 for finite-difference checks). */
export type Fl = Float32Array | Float64Array;
export type { I32 };

/** C (M, N) = alpha·op(A)·op(B) + beta·C; op(A) (M, K), op(B) (K, N); strides in elements. */
export function gemm(c: Fl, a: Fl, b: Fl, M: number, N: number, K: number, transA: boolean, transB: boolean,
  alpha: number, beta: number, lda?: number, ldb?: number, ldc?: number): void {
  const sa = lda ?? (transA ? M : K);
  const sb = ldb ?? (transB ? K : N);
  const sc = ldc ?? N;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let p = 0; p < K; p++) {
        const av = transA ? a[p * sa + i] : a[i * sa + p];
        const bv = transB ? b[j * sb + p] : b[p * sb + j];
        acc += av * bv;
      }
      const ci = i * sc + j;
      c[ci] = beta === 0 ? alpha * acc : alpha * acc + beta * c[ci];
    }
  }
}

/** y (M, N) = x (M, K) · Wᵀ + bias; W (N, K). */
export function linearForward(y: Fl, x: Fl, w: Fl, bias: Fl | null, M: number, K: number, N: number): void {
  gemm(y, x, w, M, N, K, false, true, 1, 0);
  if (bias) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) y[i * N + j] += bias[j];
}

/** dx (M, K) += dy · W; dw (N, K) += dyᵀ · x; db (N) += Σ_rows dy. */
export function linearBackward(dx: Fl | null, dw: Fl | null, db: Fl | null, dy: Fl, x: Fl, w: Fl,
  M: number, K: number, N: number): void {
  if (dx) gemm(dx, dy, w, M, K, N, false, false, 1, 1);
  if (dw) gemm(dw, dy, x, N, K, M, true, false, 1, 1);
  if (db) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let i = 0; i < M; i++) acc += dy[i * N + j];
      db[j] += acc;
    }
  }
}
