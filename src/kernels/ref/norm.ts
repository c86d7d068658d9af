/**
 * Reference RMSNorm, softmax, log-softmax and cross-entropy (row-wise over (M, N) matrices).
 * Sums run in float64; each forward stores what its backward needs (rstd, lse) in caller buffers.
 */
import type { Fl, I32 } from './matmul.js';

/** y = x · rstd · w with rstd = 1/sqrt(mean(x²) + eps) per row (Hugging Face LlamaRMSNorm order). */
export function rmsnormForward(y: Fl, rstd: Fl, x: Fl, w: Fl, M: number, C: number, eps: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * C;
    let ss = 0;
    for (let j = 0; j < C; j++) ss += x[o + j] * x[o + j];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[i] = r;
    for (let j = 0; j < C; j++) y[o + j] = x[o + j] * r * w[j];
  }
}

/** dx += r·w⊙dy − r³/C · x · Σ(w⊙dy⊙x); dw += Σ_rows dy⊙x·r. */
export function rmsnormBackward(dx: Fl, dw: Fl | null, dy: Fl, x: Fl, w: Fl, rstd: Fl, M: number, C: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * C;
    const r = rstd[i];
    let dot = 0;
    for (let j = 0; j < C; j++) dot += w[j] * dy[o + j] * x[o + j];
    const k = (r * r * r * dot) / C;
    for (let j = 0; j < C; j++) dx[o + j] += r * w[j] * dy[o + j] - k * x[o + j];
    if (dw) for (let j = 0; j < C; j++) dw[j] += dy[o + j] * x[o + j] * r;
  }
}

/** log Σ exp(x[o .. o+N)), stable. */
export function logSumExp(x: Fl, o: number, N: number): number {
  let mx = -Infinity;
  for (let j = 0; j < N; j++) if (x[o + j] > mx) mx = x[o + j];
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < N; j++) s += Math.exp(x[o + j] - mx);
  return mx + Math.log(s);
}

export function softmaxForward(y: Fl, x: Fl, M: number, N: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * N;
    const l = logSumExp(x, o, N);
    for (let j = 0; j < N; j++) y[o + j] = Math.exp(x[o + j] - l);
  }
}

export function softmaxBackward(dx: Fl, dy: Fl, y: Fl, M: number, N: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * N;
    let s = 0;
    for (let j = 0; j < N; j++) s += dy[o + j] * y[o + j];
    for (let j = 0; j < N; j++) dx[o + j] += y[o + j] * (dy[o + j] - s);
  }
}

export function logSoftmaxForward(y: Fl, x: Fl, M: number, N: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * N;
    const l = logSumExp(x, o, N);
    for (let j = 0; j < N; j++) y[o + j] = x[o + j] - l;
  }
}

export function logSoftmaxBackward(dx: Fl, dy: Fl, y: Fl, M: number, N: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * N;
    let s = 0;
    for (let j = 0; j < N; j++) s += dy[o + j];
    for (let j = 0; j < N; j++) dx[o + j] += dy[o + j] - Math.exp(y[o + j]) * s;
  }
}

/** losses[i] = lse_i − logits[i, t_i] (0 for ignored rows); returns the count of rows not ignored. */
export function crossEntropyForward(losses: Fl, lse: Fl, logits: Fl, targets: I32, M: number, V: number,
  ignoreIndex: number): number {
  let count = 0;
  for (let i = 0; i < M; i++) {
    const o = i * V;
    const l = logSumExp(logits, o, V);
    lse[i] = l;
    const t = targets[i];
    if (t === ignoreIndex) { losses[i] = 0; continue; }
    if (t < 0 || t >= V) throw new RangeError(`crossEntropyForward: target ${t} at row ${i} is outside [0, ${V})`);
    losses[i] = l - logits[o + t];
    count++;
  }
  return count;
}

export function crossEntropyBackward(dlogits: Fl, logits: Fl, lse: Fl, targets: I32, dloss: number, M: number,
  V: number, ignoreIndex: number): void {
  for (let i = 0; i < M; i++) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    const o = i * V;
    const l = lse[i];
    for (let j = 0; j < V; j++) dlogits[o + j] += dloss * Math.exp(logits[o + j] - l);
    dlogits[o + t] -= dloss;
  }
}
