/**
 * Turning texts into padded token batches the way the paper's encoders see them (spec §2.6): BOS in front, no
 * EOS, truncation at the maximum length (BOS counts), LEFT padding with the pad id (Llama-3: <|end_of_text|>).
 * The trunk gives every row positions 0..n−1 over its real tokens and heads pool with the mask, so the padding
 * side does not change any representation; left padding is kept to match the reference byte for byte.
 *
 * Length bucketing: `lengthBatches` sorts sequences by length and cuts batches of at most `maxBatch` rows and
 * `maxTokens` padded tokens (rows × longest), which bounds activation memory whatever the corpus looks like.
 */
import { UsageError } from '../errors.js';
import type { TokenBatch } from '../model/llama.js';

/** What an encoder needs from a tokenizer. */
export interface EncoderTokenizer {
  /** Token ids of `text` with BOS prepended and no EOS. */
  encode(text: string): number[];
  /** The padding id (Llama-3: `<|end_of_text|>`). */
  padId: number;
}

/** Left-padded batch of `seqs`, each cut to `maxLen` tokens. */
export function tokenBatch(seqs: readonly ArrayLike<number>[], padId: number, maxLen: number): TokenBatch {
  if (!(maxLen >= 1)) throw new UsageError(`maximum length must be at least 1, got ${maxLen}`);
  const B = seqs.length;
  let T = 1;
  for (const s of seqs) T = Math.max(T, Math.min(s.length, maxLen));
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Uint8Array(B * T);
  seqs.forEach((s, b) => {
    const n = Math.min(s.length, maxLen);
    const o = b * T + (T - n);
    for (let t = 0; t < n; t++) { ids[o + t] = s[t]!; mask[o + t] = 1; }
  });
  return { ids, mask, B, T };
}

export interface BucketOptions {
  /** Rows per batch at most. */
  maxBatch: number;
  /** Padded tokens (rows × longest row) per batch at most (a single longer row still gets its own batch). */
  maxTokens: number;
}

/** Groups of indices into `lengths`, sorted by length, each group within the limits. */
export function lengthBatches(lengths: readonly number[], opts: BucketOptions): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const longest = lengths[i]!; // sorted ascending: the newcomer is the longest
    if (cur.length > 0 && (cur.length + 1 > opts.maxBatch || (cur.length + 1) * longest > opts.maxTokens)) {
      out.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * The first `maxLength` tokens of `text` without tokenising all of it: a prefix of 16 characters per token (at
 * least 4,096) is tokenised, doubled while it yields too few tokens to be clear of the cut. A 60 MB line costs
 * what its first few thousand characters cost.
 */
export function truncatedTokens(tok: EncoderTokenizer, text: string, maxLength: number): number[] {
  const margin = 16;
  let cut = Math.max(4096, 16 * (maxLength + margin));
  for (;;) {
    if (cut >= text.length) return tok.encode(text).slice(0, maxLength);
    const ids = tok.encode(text.slice(0, cut));
    // Only the tokens near the cut can differ from the full text's; keep those clear of it.
    if (ids.length >= maxLength + margin) return ids.slice(0, maxLength);
    cut *= 4;
  }
}
