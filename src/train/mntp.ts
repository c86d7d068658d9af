/**
 * MNTP (masked next-token prediction) data and loss, after LLM2Vec and the reference run_mntp.py (spec §2.3).
 *
 * Data: every passage is tokenised with BOS in front (no EOS), passages are concatenated and cut into blocks of
 * `blockLen` (512) tokens, and the final incomplete block is dropped (the reference drops the remainder of each
 * 1,000-passage batch instead; that only changes which few tokens are lost). Blocks span passage boundaries.
 *
 * Masking (Hugging Face DataCollatorForLanguageModeling, mlm_probability 0.2): each non-special token is chosen
 * independently with probability 0.2; a chosen token becomes the mask token with probability 0.8, a uniformly
 * random id in [0, vocabSize) with probability 0.1, and stays itself otherwise. `labels` holds the original id at
 * chosen positions and IGNORE (−100) elsewhere. Every block draws from its own stream Rng.derive(seed, block), so
 * masks do not depend on batch size or on where a resumed run restarts.
 *
 * Loss: the shifted causal-LM cross-entropy — position t's logits predict labels[t+1] — averaged over all chosen
 * positions of the batch. `mntpTargets` lists the (row, target) pairs so the LM head runs only on those rows
 * (about 20 % of positions) instead of materialising (B, T, V) logits.
 */
import { ShapeError, UsageError } from '../errors.js';
import { Rng } from '../util/rng.js';

/** Label value of positions that are not predicted. */
export const IGNORE = -100;

/** Streaming packer: push passages, collect full blocks; the partial block at the end is never emitted. */
export class BlockPacker {
  private block: Int32Array;
  private fill = 0;

  /** `bosId` is put before every passage (null: passages already start with it). */
  constructor(readonly blockLen: number, readonly bosId: number | null) {
    if (!(blockLen > 1)) throw new UsageError(`MNTP block length must be at least 2, got ${blockLen}`);
    this.block = new Int32Array(blockLen);
  }

  /** Append one passage; returns the blocks it completed (usually none or one). */
  push(ids: ArrayLike<number>): Int32Array[] {
    const done: Int32Array[] = [];
    const put = (id: number) => {
      this.block[this.fill++] = id;
      if (this.fill === this.blockLen) { done.push(this.block); this.block = new Int32Array(this.blockLen); this.fill = 0; }
    };
    if (this.bosId !== null) put(this.bosId);
    for (let k = 0; k < ids.length; k++) put(ids[k]!);
    return done;
  }
}

/**
 * Pack tokenised passages into blocks of `blockLen`, each passage preceded by `bosId` (null: the passages already
 * start with it, as a tokenizer's `encode` returns them); the last partial block is dropped.
 */
export function* packBlocks(passages: Iterable<ArrayLike<number>>, blockLen: number, bosId: number | null): Generator<Int32Array> {
  const packer = new BlockPacker(blockLen, bosId);
  for (const p of passages) yield* packer.push(p);
}

export interface MaskOptions {
  /** Id that replaces 80 % of chosen tokens ("_" for Llama-3 tokenizers). */
  maskId: number;
  /** Random replacements are drawn from [0, vocabSize) (the tokenizer's length, as the reference). */
  vocabSize: number;
  /** Ids never chosen (BOS, EOS, padding). */
  specialIds: ReadonlySet<number>;
  /** Probability that a non-special token is chosen. Default 0.2. */
  probability?: number;
}

/** A masked block: model input and labels (original id at chosen positions, IGNORE elsewhere). */
export interface MaskedBlock {
  inputIds: Int32Array; // (T)
  labels: Int32Array; // (T)
}

/** Mask one block with the 80/10/10 rule using `rng`. */
export function maskBlock(block: ArrayLike<number>, opts: MaskOptions, rng: Rng): MaskedBlock {
  const p = opts.probability ?? 0.2;
  const T = block.length;
  const inputIds = Int32Array.from(block as ArrayLike<number>);
  const labels = new Int32Array(T).fill(IGNORE);
  for (let t = 0; t < T; t++) {
    const id = inputIds[t]!;
    if (opts.specialIds.has(id) || rng.float() >= p) continue;
    labels[t] = id;
    const u = rng.float();
    if (u < 0.8) inputIds[t] = opts.maskId;
    else if (u < 0.9) inputIds[t] = rng.int(opts.vocabSize);
  }
  return { inputIds, labels };
}

/** The prediction rows of a batch of label rows (B, T): row b·T + t predicts labels[b, t+1]. */
export interface MntpTargets {
  rows: Int32Array; // (P) flattened positions whose hidden state is read out
  targets: Int32Array; // (P) token ids to predict
}

export function mntpTargets(labels: Int32Array, B: number, T: number): MntpTargets {
  if (labels.length !== B * T) throw new ShapeError(`MNTP labels: ${labels.length} values for ${B}×${T}`);
  const rows: number[] = [], targets: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const y = labels[b * T + t + 1]!;
      if (y !== IGNORE) { rows.push(b * T + t); targets.push(y); }
    }
  }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets) };
}

/**
 * Mean cross-entropy of `logits` (P, V) against `targets` (P). Adds weight·∂loss/∂logits into `dlogits` if given.
 * Accumulates in float64. Returns 0 for P = 0.
 */
export function crossEntropy(
  logits: Float32Array, targets: Int32Array, V: number, dlogits: Float32Array | null = null, weight = 1,
): number {
  const P = targets.length;
  if (logits.length !== P * V) throw new ShapeError(`cross-entropy: ${logits.length} logits for ${P}×${V}`);
  if (P === 0) return 0;
  let loss = 0;
  for (let i = 0; i < P; i++) {
    const o = i * V;
    const y = targets[i]!;
    if (y < 0 || y >= V) throw new ShapeError(`cross-entropy: target ${y} outside the vocabulary [0, ${V})`);
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[o + v]!);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v]! - m);
    const lse = m + Math.log(s);
    loss += lse - logits[o + y]!;
    if (dlogits) {
      const w = weight / P;
      for (let v = 0; v < V; v++) dlogits[o + v] += w * Math.exp(logits[o + v]! - lse);
      dlogits[o + y] -= w;
    }
  }
  return loss / P;
}
