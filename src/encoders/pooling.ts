/**
 * Dense pooling as configuration (the heads of sentence-transformers' Pooling module and of decoder
 * embedders), over final hidden states h (B, T, C) and the key-padding mask (B, T):
 *   mean              masked mean of the token states (sentence-transformers `pooling_mode_mean_tokens`)
 *   mean-normalized   masked mean of L2-normalised token states (Lion's dense head, spec §2.5; fused kernel)
 *   cls               the first real token ([CLS] for BERT)
 *   last              the last real token (RepLLaMA, e5-mistral, Qwen3-Embedding: the EOS they append)
 * then optional Matryoshka truncation to the first `dim` components and optional L2 normalisation (in that
 * order, so a truncated vector is still unit length). These loops are O(B·T·C), negligible beside the trunk.
 */
import { UsageError } from '../errors.js';
import type { Kernels } from '../kernels/types.js';
import { realStarts } from '../model/llama.js';

export type DensePooling = 'mean' | 'mean-normalized' | 'cls' | 'last';
export const DENSE_POOLINGS: readonly DensePooling[] = ['mean', 'mean-normalized', 'cls', 'last'];

/** Pools h (B, T, C) into (B, C). `k` is needed for `mean-normalized` (the fused kernel). */
export function poolDense(h: Float32Array, mask: Uint8Array, B: number, T: number, C: number, mode: DensePooling, k?: Kernels): Float32Array {
  const out = new Float32Array(B * C);
  if (mode === 'mean-normalized') {
    if (!k) throw new UsageError('mean-normalized pooling needs the kernels');
    k.meanPoolForward(out, new Float32Array(B * T), h, mask, B, T, C);
    return out;
  }
  const starts = realStarts(mask, B, T);
  for (let b = 0; b < B; b++) {
    let n = 0;
    while (starts[b]! + n < T && mask[b * T + starts[b]! + n]) n++;
    if (n === 0) continue; // an empty row pools to zeros
    const o = b * C;
    if (mode === 'mean') {
      const acc = new Float64Array(C);
      for (let t = starts[b]!; t < starts[b]! + n; t++) for (let j = 0; j < C; j++) acc[j] = acc[j]! + h[(b * T + t) * C + j]!;
      for (let j = 0; j < C; j++) out[o + j] = acc[j]! / n;
    } else if (mode === 'cls' || mode === 'last') {
      const t = mode === 'cls' ? starts[b]! : starts[b]! + n - 1;
      out.set(h.subarray((b * T + t) * C, (b * T + t + 1) * C), o);
    } else {
      throw new UsageError(`pooling "${String(mode)}" is not one of ${DENSE_POOLINGS.join(', ')}`, { field: 'pooling' });
    }
  }
  return out;
}

/** Keeps the first `dim` of C components per row (Matryoshka), then L2-normalises rows when `normalize`. */
export function finishDense(rows: Float32Array, B: number, C: number, opts: { dim?: number; normalize?: boolean }): Float32Array {
  const dim = opts.dim ?? C;
  if (!(Number.isInteger(dim) && dim >= 1 && dim <= C)) throw new UsageError(`truncation dimension ${dim} must be between 1 and ${C}`, { field: 'dim' });
  const out = dim === C ? rows : new Float32Array(B * dim);
  if (dim !== C) for (let b = 0; b < B; b++) out.set(rows.subarray(b * C, b * C + dim), b * dim);
  if (opts.normalize) {
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += out[b * dim + j]! ** 2;
      const r = 1 / Math.max(Math.sqrt(s), 1e-12); // F.normalize's eps
      for (let j = 0; j < dim; j++) out[b * dim + j] = out[b * dim + j]! * r;
    }
  }
  return out;
}
