/**
 * AdamW and global-norm gradient clipping over named float32 parameter views (spec §4.1: AdamW β 0.9/0.999,
 * ε 1e-8, weight decay 0, clip 1.0). The update follows torch.optim.AdamW exactly:
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * State (m, v, t) is plain Float32Arrays keyed by parameter name, so checkpoints save and restore it by name.
 * The arithmetic is the kernel interface's (`adamw`, `sumSquares`, `scale`): native when the addon is built.
 */
import { ShapeError } from '../errors.js';
import { getKernels, type Kernels } from '../kernels/index.js';

/** A trainable tensor: its values and the gradient accumulated into it. */
import type { Param } from '../types.js';
export type { Param } from '../types.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Moments for every parameter plus the step count, in a form checkpoints save by name. */
export interface AdamWState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export function initAdamW(params: readonly Param[]): AdamWState {
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const p of params) { m.set(p.name, new Float32Array(p.value.length)); v.set(p.name, new Float32Array(p.value.length)); }
  return { step: 0, m, v };
}

/** One AdamW step at learning rate `lr`; increments `state.step`. Gradients are left as they are. */
export function adamwStep(params: readonly Param[], state: AdamWState, lr: number, cfg: AdamWConfig, k: Kernels = getKernels()): void {
  state.step += 1;
  for (const p of params) {
    const m = state.m.get(p.name), v = state.v.get(p.name);
    if (!m || !v || m.length !== p.value.length) throw new ShapeError(`AdamW: no state of the right size for ${p.name}`, { field: p.name });
    k.adamw(p.value, p.grad, m, v, p.value.length, lr, cfg.beta1, cfg.beta2, cfg.eps, cfg.weightDecay, state.step);
  }
}

/** Global L2 norm of all gradients. */
export function gradNorm(params: readonly Param[], k: Kernels = getKernels()): number {
  let s = 0;
  for (const p of params) s += k.sumSquares(p.grad, p.grad.length);
  return Math.sqrt(s);
}

/**
 * Scale all gradients so their global norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_: coefficient
 * maxNorm/(norm + 1e-6), applied only when below 1). Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Param[], maxNorm: number, k: Kernels = getKernels()): number {
  const norm = gradNorm(params, k);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const p of params) k.scale(p.grad, coef, p.grad.length);
  return norm;
}

export function zeroGrads(params: readonly Param[]): void {
  for (const p of params) p.grad.fill(0);
}
