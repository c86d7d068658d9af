/**
 * Per-model scratch for the heads' backward passes: the (B, T, C) gradient w.r.t. the final hidden states is
 * needed once per backward and dropped right after `model.backward`, so one buffer per model is reused across
 * steps instead of allocating (and first-touching) a fresh one every call. It grows to the largest batch seen.
 */
import type { LlamaModel } from '../model/llama.js';

const dHidden = new WeakMap<LlamaModel, Float32Array>();

/** A zeroed (n) view for ∂loss/∂hidden, valid until the next call for the same model. */
export function hiddenGradScratch(model: LlamaModel, n: number): Float32Array {
  let buf = dHidden.get(model);
  if (!buf || buf.length < n) {
    buf = new Float32Array(n);
    dHidden.set(model, buf);
    return buf;
  }
  const view = buf.subarray(0, n);
  view.fill(0);
  return view;
}
