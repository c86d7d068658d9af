/**
 * Reference elementwise kernels, embeddings and AdamW. Flat loops over N elements; the obvious version.
 */
import type { Fl, I32 } from './matmul.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** out = silu(gate) · up. */
export function swigluForward(out: Fl, gate: Fl, up: Fl, N: number): void {
  for (let i = 0; i < N; i++) { const g = gate[i]; out[i] = g * sigmoid(g) * up[i]; }
}

/** dgate += dout·up·σ(g)(1 + g(1 − σ(g))); dup += dout·silu(g). */
export function swigluBackward(dgate: Fl, dup: Fl, dout: Fl, gate: Fl, up: Fl, N: number): void {
  for (let i = 0; i < N; i++) {
    const g = gate[i], s = sigmoid(g);
    dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] += dout[i] * g * s;
  }
}

export function axpy(y: Fl, x: Fl, alpha: number, N: number): void {
  for (let i = 0; i < N; i++) y[i] += alpha * x[i];
}

export function scale(x: Fl, alpha: number, N: number): void {
  for (let i = 0; i < N; i++) x[i] *= alpha;
}

export function sumSquares(x: Fl, N: number): number {
  let s = 0;
  for (let i = 0; i < N; i++) s += x[i] * x[i];
  return s;
}

/** Dropout keep-mask from the xorshift128 stream seeded by `seed` (see `Kernels.dropoutMask`). */
export function dropoutMask(mask: Uint8Array, p: number, seed: Uint32Array, N: number): void {
  const thr = Math.floor(p * 4294967296);
  let a = seed[0]! | 1, b = seed[1]!, c = seed[2]!, d = seed[3]!;
  for (let i = 0; i < N; i++) {
    const t = a ^ (a << 11);
    a = b; b = c; c = d;
    d = (d ^ (d >>> 19)) ^ (t ^ (t >>> 8));
    mask[i] = (d >>> 0) < thr ? 0 : 1;
  }
}

/** out = x ⊙ mask · scale. */
export function dropoutForward(out: Fl, x: Fl, mask: Uint8Array, scale: number, N: number): void {
  for (let i = 0; i < N; i++) out[i] = mask[i] ? x[i] * scale : 0;
}

/** dx += dy ⊙ mask · scale. */
export function dropoutBackward(dx: Fl, dy: Fl, mask: Uint8Array, scale: number, N: number): void {
  for (let i = 0; i < N; i++) if (mask[i]) dx[i] += dy[i] * scale;
}

/** out[i] = table[ids[i]]; out (M, C), table (V, C). */
export function embeddingForward(out: Fl, table: Fl, ids: I32, M: number, C: number): void {
  const V = table.length / C;
  for (let i = 0; i < M; i++) {
    const id = ids[i];
    if (id < 0 || id >= V) throw new RangeError(`embeddingForward: token id ${id} at row ${i} is outside [0, ${V})`);
    for (let j = 0; j < C; j++) out[i * C + j] = table[id * C + j];
  }
}

/** dtable[ids[i]] += dout[i]. */
export function embeddingBackward(dtable: Fl, dout: Fl, ids: I32, M: number, C: number): void {
  for (let i = 0; i < M; i++) {
    const id = ids[i];
    for (let j = 0; j < C; j++) dtable[id * C + j] += dout[i * C + j];
  }
}

/** torch.optim.AdamW, one step (step counts from 1). */
export function adamw(param: Fl, grad: Fl, m: Fl, v: Fl, N: number, lr: number, beta1: number, beta2: number,
  eps: number, weightDecay: number, step: number): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < N; i++) {
    const g = grad[i];
    const mi = m[i] + (1 - beta1) * (g - m[i]);
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2sqrt + eps);
  }
}
