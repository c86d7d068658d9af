/**
 * The dense encoder (spec §2.5): the masked mean over real tokens of the L2-normalised final hidden states
 * (F.normalize, eps 1e-12), BOS included, NOT re-normalised (‖e‖ ≤ 1), scored by inner product. τ = 0.01 only
 * scales scores inside the training losses. Runs on the fused `meanPoolForward`/`meanPoolBackward` kernels.
 */
import { ShapeError } from '../errors.js';
import type { LlamaModel, TokenBatch } from '../model/llama.js';
import type { Encoder } from './contract.js';
import { hiddenGradScratch } from './scratch.js';

/** What the pooling backward pass needs from its forward pass. */
export interface DenseForward {
  rep: Float32Array; // (B, C)
  norms: Float32Array; // (B, T)
  hidden: Float32Array; // (B, T, C) view into the model's activations, valid until the next forward
  batch: TokenBatch;
  /** The model's activation slot the forward pass used (backward must use the same). */
  slot: string;
}

/** Trunk + masked mean of normalised states. `train` keeps what backward needs; batches in different `slot`s can
 * all be run forward before their backward passes. */
export function denseForward(model: LlamaModel, batch: TokenBatch, train = false, slot = 'main'): DenseForward {
  const C = model.config.hiddenSize;
  const { B, T } = batch;
  const hidden = model.forward(batch, { train, slot });
  const rep = new Float32Array(B * C);
  const norms = new Float32Array(B * T);
  model.k.meanPoolForward(rep, norms, hidden, batch.mask, B, T, C);
  return { rep, norms, hidden, batch, slot };
}

/** Backpropagate ∂loss/∂rep (B, C) through the pooling and the trunk (gradients accumulate). */
export function denseBackward(model: LlamaModel, f: DenseForward, drep: Float32Array): void {
  const C = model.config.hiddenSize;
  const { B, T } = f.batch;
  if (drep.length !== B * C) throw new ShapeError(`dense backward: drep holds ${drep.length} values, expected B·C = ${B * C}`);
  const dh = hiddenGradScratch(model, B * T * C);
  model.k.meanPoolBackward(dh, drep, f.hidden, f.norms, f.batch.mask, B, T, C);
  model.backward(dh, { slot: f.slot });
}

/**
 * The dense head type (registry key 'dense'): hidden-size rows pooled by the masked mean of normalised states,
 * no LM head, a flat inner-product index, scores scaled by 1/τ in the losses, adapters in the base-model key
 * layout.
 */
export const denseEncoder: Encoder<DenseForward> = {
  kind: 'dense',
  vectors: 'dense',
  index: 'flat',
  needsLmHead: false,
  flops: false,
  adapterLayout: 'dense',
  dimension: (config) => config.hiddenSize,
  forward: denseForward,
  backward: denseBackward,
  row: (rep, dim, b) => rep.slice(b * dim, (b + 1) * dim),
  firstNonFinite(model, f) {
    for (let i = 0; i < f.rep.length; i++) if (!Number.isFinite(f.rep[i]!)) return Math.floor(i / model.config.hiddenSize);
    return -1;
  },
  scoreScale: (tau) => 1 / tau,
};
