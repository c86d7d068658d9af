/**
 * The sparse encoder (spec §2.4): w_v = log1p(relu(max over real tokens t of LMHead(h_t)_v · d^-1/4)), a
 * vocabulary-sized vector, scored by dot product. The fused `sparseHeadForward` kernel never materialises the
 * (B, T, V) logits; it keeps the running max and its token position (argmax), and the backward pass goes back
 * through those positions only. Query and document share the encoder.
 *
 * In reduced precision (a bf16 or int8 model, or precision bf16) the head's search pass runs on the reduced
 * weights (`sparseHeadForwardBf16` / `sparseHeadForwardInt8`) to find each maximum position, and the logit
 * at that position is recomputed exactly (fp32 hidden state · the head's bf16 or fp32 row), so a weight can
 * differ from fp32 only where the search picked another position; `headAgreement` measures how often.
 *
 * `toSparseVec` turns a dense (V) row into a SparseVec (ascending ids, non-zero weights), optionally keeping the
 * top-k weights (ties to the smaller id) for indexing; the paper indexes every non-zero (no pruning).
 */
import { NonFiniteError, ShapeError } from '../errors.js';
import type { LlamaModel, TokenBatch } from '../model/llama.js';
import type { Encoder } from './contract.js';
import { hiddenGradScratch } from './scratch.js';
import type { SparseVec } from '../types.js';

/** The logit scale d^-1/4 (d = hidden size), applied for every model size as the reference does. */
export function sparseScale(hiddenSize: number): number {
  return hiddenSize ** -0.25;
}

/** What the sparse head's backward pass needs from its forward pass. */
export interface SparseForward {
  rep: Float32Array; // (B, V)
  argmax: Int32Array; // (B, V)
  hidden: Float32Array; // (B, T, C) view into the model's activations, valid until the next forward
  batch: TokenBatch;
  /** The model's activation slot the forward pass used (backward must use the same). */
  slot: string;
}

/** Trunk + sparse head. `train` keeps what backward needs; batches in different `slot`s can
 * all be run forward before their backward passes. */
export function sparseForward(model: LlamaModel, batch: TokenBatch, train = false, slot = 'main'): SparseForward {
  const { hiddenSize: C, vocabSize: V } = model.config;
  const { B, T } = batch;
  const hidden = model.forward(batch, { train, slot });
  const rep = new Float32Array(B * V);
  const argmax = new Int32Array(B * V);
  sparseHead(model, rep, argmax, hidden, batch.mask, B, T);
  return { rep, argmax, hidden, batch, slot };
}

/** The sparse head on hidden states (B, T, C) in the head's storage dtype (fp32 weights: the model's precision). */
export function sparseHead(model: LlamaModel, rep: Float32Array, argmax: Int32Array, hidden: Float32Array, mask: Uint8Array | null, B: number, T: number): void {
  sparseHeadScaled(model, rep, argmax, hidden, mask, B, T, sparseScale(model.config.hiddenSize));
}

/** `sparseHead` with another logit scale `s` (SPLADE-style encoders use 1: no d^-1/4). */
export function sparseHeadScaled(model: LlamaModel, rep: Float32Array, argmax: Int32Array, hidden: Float32Array, mask: Uint8Array | null, B: number, T: number, s: number): void {
  const { hiddenSize: C, vocabSize: V } = model.config;
  const w = model.weight(model.headName()), k = model.k;
  if (w.dtype === 'int8') k.sparseHeadForwardInt8(rep, argmax, hidden, w.q, w.scale, w.exact!, mask, B, T, C, V, s);
  else if (w.dtype === 'bf16' || model.precision === 'bf16') k.sparseHeadForwardBf16(rep, argmax, hidden, w.w, mask, B, T, C, V, s);
  else k.sparseHeadForward(rep, argmax, hidden, w.w, mask, B, T, C, V, s);
}

/** Backpropagate ∂loss/∂rep (B, V) through the head and the trunk (gradients accumulate). */
export function sparseBackward(model: LlamaModel, f: SparseForward, drep: Float32Array): void {
  const { hiddenSize: C, vocabSize: V } = model.config;
  const { B, T } = f.batch;
  if (drep.length !== B * V) throw new ShapeError(`sparse backward: drep holds ${drep.length} values, expected B·V = ${B * V}`);
  const head = model.headName();
  const dh = hiddenGradScratch(model, B * T * C);
  const w = model.weight(head);
  if (w.dtype === 'fp32') {
    const dw = model.trainableParams().find((p) => p.name === head)?.grad ?? null;
    model.k.sparseHeadBackward(dh, dw, drep, f.rep, f.argmax, f.hidden, w.w, B, T, C, V, sparseScale(C));
  } else {
    const bits = w.dtype === 'bf16' ? w.w : w.exact!; // a reduced head is frozen
    model.k.sparseHeadBackwardBf16(dh, drep, f.rep, f.argmax, f.hidden, bits, B, T, C, V, sparseScale(C));
  }
  model.backward(dh, { slot: f.slot });
}

/** Row `b` of a (B, V) rep as a SparseVec; `topK` > 0 keeps only the k largest weights. */
export function toSparseVec(rep: Float32Array, V: number, b: number, topK = 0): SparseVec {
  const o = b * V;
  let terms: number[] = [];
  for (let v = 0; v < V; v++) if (rep[o + v]! > 0) terms.push(v);
  if (topK > 0 && terms.length > topK) {
    terms.sort((x, y) => rep[o + y]! - rep[o + x]! || x - y);
    terms = terms.slice(0, topK).sort((x, y) => x - y);
  }
  const weights = new Float32Array(terms.length);
  terms.forEach((v, i) => { weights[i] = rep[o + v]!; });
  return { terms: Uint32Array.from(terms), weights };
}

const headChecked = new WeakSet<LlamaModel>();

/** The sparse head's weights must be finite (a NaN logit would silently lose its term); checked once per model. */
function checkHeadOnce(model: LlamaModel): void {
  if (headChecked.has(model)) return;
  const name = model.headName();
  const C = model.config.hiddenSize;
  const bad = (i: number, v: string): never => { throw new NonFiniteError(`weight ${name}[${Math.floor(i / C)}, ${i % C}] is ${v}`, { field: name }); };
  const w = model.weight(name);
  if (w.dtype === 'fp32') {
    for (let i = 0; i < w.w.length; i++) if (!Number.isFinite(w.w[i]!)) bad(i, String(w.w[i]));
  } else {
    // bf16 bits (an int8 head keeps its exact bf16 copy; its int8 codes are finite by construction)
    const bits = w.dtype === 'bf16' ? w.w : w.exact;
    if (bits) for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7f80) === 0x7f80) bad(i, bits[i]! & 0x7f ? 'NaN' : 'infinite');
  }
  headChecked.add(model);
}

/**
 * The sparse head type (registry key 'sparse'): vocabulary-sized rows, the LM head kept, an inverted index,
 * FLOPS regularisation, scores unscaled in the losses, adapters in the causal-LM key layout.
 */
export const sparseEncoder: Encoder<SparseForward> = {
  kind: 'sparse',
  vectors: 'sparse',
  index: 'inverted',
  needsLmHead: true,
  flops: true,
  adapterLayout: 'sparse',
  dimension: (config) => config.vocabSize,
  forward: sparseForward,
  backward: sparseBackward,
  row: toSparseVec,
  firstNonFinite(model, f) {
    checkHeadOnce(model);
    // The head's running max skips NaN logits, so look at the trunk's states (real tokens only) as well.
    const { B, T, mask } = f.batch;
    const C = model.config.hiddenSize;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (!mask[b * T + t]) continue;
        const o = (b * T + t) * C;
        for (let c = 0; c < C; c++) if (!Number.isFinite(f.hidden[o + c]!)) return b;
      }
    }
    for (let i = 0; i < f.rep.length; i++) if (!Number.isFinite(f.rep[i]!)) return Math.floor(i / model.config.vocabSize);
    return -1;
  },
  scoreScale: () => 1,
};

/** How far a reduced-precision sparse head is from the exact one, over the same texts. */
export interface SparseAgreement {
  /** (text, vocabulary entry) pairs compared, and those where either side has a non-zero weight. */
  entries: number;
  active: number;
  /** Among the active pairs: how many took their maximum at another token position, and the rate. */
  positionsDiffer: number;
  positionDiffRate: number;
  /** Mean over texts of |top-10 terms ∩ top-10 terms| / 10 (ties to the smaller id). */
  top10Overlap: number;
  /** Largest |weight difference| over all pairs, and the largest exact weight (for scale). */
  maxAbsDiff: number;
  maxWeight: number;
  /** Mean non-zeros per text, exact and reduced. */
  nnzExact: number;
  nnzReduced: number;
}

/** Compares two (B, V) sparse head outputs (reps and argmax positions): `exact` against `reduced`. */
export function compareSparse(exact: { rep: Float32Array; argmax: Int32Array }, reduced: { rep: Float32Array; argmax: Int32Array }, B: number, V: number): SparseAgreement {
  let active = 0, differ = 0, maxAbsDiff = 0, maxWeight = 0, nnzE = 0, nnzR = 0, overlap = 0;
  for (let i = 0; i < B * V; i++) {
    const a = exact.rep[i]!, b = reduced.rep[i]!;
    if (a > 0) nnzE++;
    if (b > 0) nnzR++;
    if (a > 0 || b > 0) { active++; if (exact.argmax[i] !== reduced.argmax[i]) differ++; }
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
    maxWeight = Math.max(maxWeight, a);
  }
  for (let b = 0; b < B; b++) {
    const top = (rep: Float32Array) => new Set(toSparseVec(rep, V, b, 10).terms);
    const x = top(exact.rep), y = top(reduced.rep);
    let both = 0;
    for (const t of x) if (y.has(t)) both++;
    overlap += Math.max(x.size, y.size) === 0 ? 1 : both / Math.max(x.size, y.size);
  }
  return {
    entries: B * V, active, positionsDiffer: differ, positionDiffRate: active ? differ / active : 0, top10Overlap: B ? overlap / B : 1,
    maxAbsDiff, maxWeight, nnzExact: B ? nnzE / B : 0, nnzReduced: B ? nnzR / B : 0,
  };
}

/**
 * The head alone: runs the model's reduced-precision sparse head and the exact fp32 head (the same stored
 * weights widened to fp32, tile by tile of the vocabulary) on the same hidden states (B, T, C) and compares
 * them. For an fp32 model at fp32 precision both are the exact head.
 * @example const h = model.forward(batch, { train: false }); sparseHeadAgreement(model, h, batch.mask, B, T).positionDiffRate
 */
export function sparseHeadAgreement(model: LlamaModel, hidden: Float32Array, mask: Uint8Array | null, B: number, T: number): SparseAgreement {
  const { hiddenSize: C, vocabSize: V } = model.config;
  const k = model.k;
  const reduced = { rep: new Float32Array(B * V), argmax: new Int32Array(B * V) };
  sparseHead(model, reduced.rep, reduced.argmax, hidden, mask, B, T);
  const w = model.weight(model.headName());
  const exact = { rep: new Float32Array(B * V), argmax: new Int32Array(B * V) };
  const tile = Math.max(1, Math.min(V, Math.floor((1 << 22) / C)));
  const wt = new Float32Array(tile * C), rt = new Float32Array(B * tile), at = new Int32Array(B * tile);
  for (let v0 = 0; v0 < V; v0 += tile) {
    const n = Math.min(tile, V - v0);
    const rows = wt.subarray(0, n * C);
    if (w.dtype === 'fp32') rows.set(w.w.subarray(v0 * C, (v0 + n) * C));
    else k.fromBf16(rows, (w.dtype === 'bf16' ? w.w : w.exact!).subarray(v0 * C, (v0 + n) * C), n * C);
    k.sparseHeadForward(rt.subarray(0, B * n), at.subarray(0, B * n), hidden, rows, mask, B, T, C, n, sparseScale(C));
    for (let b = 0; b < B; b++) {
      exact.rep.set(rt.subarray(b * n, (b + 1) * n), b * V + v0);
      exact.argmax.set(at.subarray(b * n, (b + 1) * n), b * V + v0);
    }
  }
  return compareSparse(exact, reduced, B, V);
}
