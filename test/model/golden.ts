/**
 * Shared helpers of the model tests: the golden fixtures written by scripts/make_golden.py (tiny random
 * Llama and Qwen2 in Hugging Face layout, with PyTorch float64 outputs), the backends to test, a mean
 * next-token cross-entropy on the LM head, and a relative comparison that names the worst element.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative, ref, type Kernels } from '../../src/kernels/index.js';
import { openCheckpoint, readTensor } from '../../src/io/safetensors.js';
import type { LlamaModel, TokenBatch } from '../../src/model/llama.js';
import { fixtures } from '../helpers.js';

export const goldenDir = join(fixtures, 'golden');

export interface GoldenCase {
  name: string;
  causal: boolean;
  lora: boolean;
  loss: number;
  grads: string[];
  adamwLosses: number[];
}

export interface Golden {
  dir: string;
  ids: number[][];
  mask: number[][];
  labels: number[][];
  lora: { r: number; lora_alpha: number; lora_dropout: number; adapterKeys: 'sparse' | 'dense' };
  adamw: { lr: number; beta1: number; beta2: number; eps: number; weight_decay: number; steps: number };
  cases: GoldenCase[];
  tensor(name: string): Float32Array;
}

export function loadGolden(model: 'llama' | 'qwen2'): Golden {
  const dir = join(goldenDir, model);
  const g = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Omit<Golden, 'dir' | 'tensor'>;
  const ck = openCheckpoint(join(dir, 'golden.safetensors'));
  return {
    ...g,
    dir,
    tensor(name: string) {
      const info = ck.tensors.get(name);
      assert.ok(info, `golden tensor ${name} missing`);
      return readTensor(info);
    },
  };
}

/** The golden batch (right-padded), or the same sequences left-padded. */
export function goldenBatch(g: Golden, side: 'right' | 'left' = 'right'): { batch: TokenBatch; labels: Int32Array } {
  const B = g.ids.length, T = g.ids[0]!.length;
  const ids = new Int32Array(B * T), mask = new Uint8Array(B * T), labels = new Int32Array(B * T).fill(-100);
  for (let b = 0; b < B; b++) {
    const n = g.mask[b]!.reduce((a, x) => a + x, 0);
    const off = side === 'left' ? T - n : 0;
    for (let t = 0; t < T; t++) { ids[b * T + t] = g.ids[b]![n - 1]!; } // pad with any id
    for (let t = 0; t < n; t++) {
      ids[b * T + off + t] = g.ids[b]![t]!;
      mask[b * T + off + t] = 1;
      labels[b * T + off + t] = g.labels[b]![t]!;
    }
  }
  return { batch: { ids, mask, B, T }, labels };
}

/** Rows of (B·T, X) at the real positions, in (b, t) order. */
export function realRows(x: Float32Array, mask: Uint8Array, X: number): Float32Array {
  const rows: number[] = [];
  mask.forEach((m, i) => { if (m) rows.push(i); });
  const out = new Float32Array(rows.length * X);
  rows.forEach((r, j) => out.set(x.subarray(r * X, (r + 1) * X), j * X));
  return out;
}

/**
 * Asserts |a − b| ≤ rtol · max(|b|, scale) elementwise, with scale = rms of b (so tiny entries of a tensor are
 * held to the tensor's own magnitude, not to zero).
 */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string): number {
  assert.equal(a.length, b.length, `${what}: length`);
  let ss = 0;
  for (let i = 0; i < b.length; i++) ss += b[i]! * b[i]!;
  const scale = Math.sqrt(ss / Math.max(1, b.length));
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), scale, 1e-30);
    if (!(err <= worst)) { worst = err; at = i; }
  }
  assert.ok(worst <= rtol, `${what}: relative error ${worst.toExponential(2)} > ${rtol} at ${at} (got ${a[at]}, want ${b[at]})`);
  return worst;
}

/** Backends to test: ref always, native when the addon is built. */
export function backends(): { name: string; k: Kernels | null; skip: string | false }[] {
  let native: Kernels | null = null;
  let why = '';
  try { native = loadNative(); } catch (e) { why = e instanceof Error ? e.message : String(e); }
  return [
    { name: 'ref', k: ref, skip: false },
    { name: 'native', k: native, skip: native ? false : `native kernels not built (${why})` },
  ];
}

/**
 * Mean next-token cross-entropy through the LM head at the labelled positions; with `backward`, also
 * runs the model's backward pass from it (`train`, default `backward`, applies LoRA dropout). Returns the loss.
 */
export function lmLoss(model: LlamaModel, batch: TokenBatch, labels: Int32Array, backward: boolean, train = backward): { loss: number; logits: Float32Array } {
  const k = model.k, N = batch.B * batch.T, V = model.config.vocabSize, C = model.config.hiddenSize;
  const hidden = model.forward(batch, { train });
  const logits = new Float32Array(N * V), losses = new Float32Array(N), lse = new Float32Array(N);
  model.lmHeadForward(logits, hidden, N);
  const count = k.crossEntropyForward(losses, lse, logits, labels, N, V, -100);
  let sum = 0;
  for (let i = 0; i < N; i++) sum += losses[i]!;
  if (backward) {
    const dlogits = new Float32Array(N * V), dh = new Float32Array(N * C);
    k.crossEntropyBackward(dlogits, logits, lse, labels, 1 / count, N, V, -100);
    model.lmHeadBackward(dh, dlogits, hidden, N);
    model.backward(dh);
  }
  return { loss: sum / count, logits };
}
