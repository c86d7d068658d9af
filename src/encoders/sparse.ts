/**
 * The sparse encoder (spec §2.4): w_v = log1p(relu(max over real tokens t of LMHead(h_t)_v · d^-1/4)), a
 * vocabulary-sized vector, scored by dot product. The fused `sparseHeadForward` kernel never materialises the
 * (B, T, V) logits; it keeps the running max and its token position (argmax), and the backward pass goes back
 * through those positions only. Query and document share the encoder.
 *
 * `toSparseVec` turns a dense (V) row into a SparseVec (ascending ids, non-zero weights), optionally keeping the
 * top-k weights (ties to the smaller id) for indexing; the paper indexes every non-zero (no pruning).
 */
import { ShapeError } from '../errors.js';
import type { LlamaModel, TokenBatch } from '../model/llama.js';
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
  model.k.sparseHeadForward(rep, argmax, hidden, model.param(model.headName()), batch.mask, B, T, C, V, sparseScale(C));
  return { rep, argmax, hidden, batch, slot };
}

/** Backpropagate ∂loss/∂rep (B, V) through the head and the trunk (gradients accumulate). */
export function sparseBackward(model: LlamaModel, f: SparseForward, drep: Float32Array): void {
  const { hiddenSize: C, vocabSize: V } = model.config;
  const { B, T } = f.batch;
  if (drep.length !== B * V) throw new ShapeError(`sparse backward: drep holds ${drep.length} values, expected B·V = ${B * V}`);
  const head = model.headName();
  const dw = model.trainableParams().find((p) => p.name === head)?.grad ?? null;
  const dh = hiddenGradScratch(model, B * T * C);
  model.k.sparseHeadBackward(dh, dw, drep, f.rep, f.argmax, f.hidden, model.param(head), B, T, C, V, sparseScale(C));
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
