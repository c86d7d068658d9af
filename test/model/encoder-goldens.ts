/**
 * Shared loader for the goldens of scripts/make_golden_encoders.py (BERT, DistilBERT, Mistral, Qwen3 and the
 * poolings): token ids with their lengths, and a padded TokenBatch on either side.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenBatch } from '../../src/model/llama.js';
import { goldenDir } from './golden.js';

export type Pooled = Record<'mean' | 'mean_normalized' | 'mean_of_normalized_tokens' | 'cls' | 'last' | 'last_normalized' | 'mean_truncated8_normalized', number[]>
  & Partial<Record<'splade_max' | 'splade_max_scaled' | 'splade_sum', number[]>>;
export type EncoderGolden = { ids: number[][]; lengths: number[]; hidden: number[]; logits: number[] } & Pooled;

export function encoderGoldenDir(arch: string): string {
  return join(goldenDir, arch);
}

export function loadEncoderGolden<T = EncoderGolden>(arch: string): T {
  return JSON.parse(readFileSync(join(goldenDir, arch, 'golden.json'), 'utf8')) as T;
}

/** The golden rows (real tokens only) padded on `side`. */
export function paddedBatch(g: { ids: number[][]; lengths: number[] }, side: 'left' | 'right', pad = 0): TokenBatch {
  const B = g.ids.length, T = Math.max(...g.lengths);
  const ids = new Int32Array(B * T).fill(pad), mask = new Uint8Array(B * T);
  g.lengths.forEach((n, b) => {
    const off = side === 'left' ? T - n : 0;
    for (let t = 0; t < n; t++) { ids[b * T + off + t] = g.ids[b]![t]!; mask[b * T + off + t] = 1; }
  });
  return { ids, mask, B, T };
}
