/**
 * LoRA (Hu et al. 2021) as peft applies it to a Llama/Qwen2 linear layer:
 *   y = x·Wᵀ + b + s · (dropout(x)·Aᵀ)·Bᵀ,   s = alpha / r,   A (R, in), B (out, R)
 * on any of q/k/v/o/gate/up/down of every layer (spec §2.3: r 16, alpha 32, dropout 0.05, all seven).
 *
 * Tensors live in the model's weight arena under peft's names without the `base_model.model.` prefix:
 * `model.layers.N.self_attn.q_proj.lora_A.weight` (src/io/peft.ts adds and strips the prefix). A fresh
 * adapter is initialised as peft does: A ~ kaiming_uniform(a = √5) = U(−1/√in, 1/√in), B = 0, so the model
 * starts equal to its base. Merging folds s·B·A into W (the released checkpoints are used merged, spec §9).
 */
import type { Kernels } from '../kernels/index.js';
import { Rng } from '../util/rng.js';
import { layerLinears, type ModelConfig, type TensorSpec } from './registry.js';
import type { LoraConfig, LoraTarget } from '../io/lora-config.js';

/** `self_attn.q_proj` → `q_proj`. */
export function targetOf(module: string): LoraTarget {
  return module.slice(module.lastIndexOf('.') + 1) as LoraTarget;
}

/** Arena names of the A and B matrices adapting `model.layers.{layer}.{module}`. */
export function loraNames(layer: number, module: string): { a: string; b: string } {
  const base = `model.layers.${layer}.${module}`;
  return { a: `${base}.lora_A.weight`, b: `${base}.lora_B.weight` };
}

/** The adapter's tensors: A (R, in) then B (out, R) for each targeted linear of each layer. */
export function loraSpecs(cfg: ModelConfig, lora: LoraConfig): TensorSpec[] {
  const specs: TensorSpec[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const lin of layerLinears(cfg)) {
      if (!lora.targets.includes(targetOf(lin.module))) continue;
      const n = loraNames(l, lin.module);
      specs.push({ name: n.a, shape: [lora.r, lin.in] }, { name: n.b, shape: [lin.out, lora.r] });
    }
  }
  return specs;
}

/** peft's initialisation: A ~ U(−1/√in, 1/√in) (kaiming_uniform with a = √5), B = 0. */
export function initLoraPair(a: Float32Array, b: Float32Array, inFeatures: number, rng: Rng): void {
  const bound = 1 / Math.sqrt(inFeatures);
  for (let i = 0; i < a.length; i++) a[i] = (2 * rng.float() - 1) * bound;
  b.fill(0);
}

/**
 * W (out, in) += sign · s · B (out, R) · A (R, in): merge (sign 1) or unmerge (sign −1).
 */
export function mergePair(k: Kernels, w: Float32Array, a: Float32Array, b: Float32Array, out: number, inF: number, r: number,
  scale: number, sign: 1 | -1): void {
  k.gemm(w, b, a, out, inF, r, false, false, sign * scale, 1);
}

/**
 * The bf16 twin of `mergePair`: W (out, in, bfloat16 bits) = bf16(W + sign · s · B·A), computed in float32 a
 * block of rows at a time (one rounding per element, as merging into a bf16 model in PyTorch).
 */
export function mergePairBf16(k: Kernels, w: Uint16Array, a: Float32Array, b: Float32Array, out: number, inF: number, r: number,
  scale: number, sign: 1 | -1): void {
  const rows = Math.max(1, Math.min(out, Math.floor((1 << 20) / inF)));
  const tmp = new Float32Array(rows * inF);
  for (let o = 0; o < out; o += rows) {
    const n = Math.min(rows, out - o);
    const wv = w.subarray(o * inF, (o + n) * inF), t = tmp.subarray(0, n * inF);
    k.fromBf16(t, wv, n * inF);
    k.gemm(t, b.subarray(o * r, (o + n) * r), a, n, inF, r, false, false, sign * scale, 1);
    k.toBf16(wv, t, n * inF);
  }
}

/**
 * Dropout keep-mask: each byte is 0 with probability p, else 1 (the 1/(1−p) scale is applied by `applyMask`).
 * Draws from a local xorshift128 stream seeded by `rng` (dropout needs speed, not cryptographic quality:
 * a training step draws one number per input element of every adapted linear layer).
 */
export function fillDropoutMask(mask: Uint8Array, p: number, rng: Rng): void {
  const thr = Math.floor(p * 4294967296);
  let a = rng.u32() | 1, b = rng.u32(), c = rng.u32(), d = rng.u32();
  for (let i = 0; i < mask.length; i++) {
    const t = a ^ (a << 11);
    a = b; b = c; c = d;
    d = (d ^ (d >>> 19)) ^ (t ^ (t >>> 8));
    mask[i] = (d >>> 0) < thr ? 0 : 1;
  }
}

/** out = x ⊙ mask · scale over N elements (dropout glue; mask bytes are 0 or 1). */
export function applyMask(out: Float32Array, x: Float32Array, mask: Uint8Array, scale: number, N: number): void {
  for (let i = 0; i < N; i++) out[i] = mask[i] ? x[i]! * scale : 0;
}

/** dx += dxd ⊙ mask · scale over N elements (the backward of `applyMask`). */
export function addMasked(dx: Float32Array, dxd: Float32Array, mask: Uint8Array, scale: number, N: number): void {
  for (let i = 0; i < N; i++) if (mask[i]) dx[i] += dxd[i]! * scale;
}
