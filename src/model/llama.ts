/**
 * The decoder trunk shared by Llama and Qwen2: explicit forward and backward over a padded token batch,
 * computed only through the `Kernels` interface (src/kernels), with an optional LoRA adapter.
 *
 * Per layer (Hugging Face LlamaDecoderLayer): h1 = RMSNorm(x); q,k,v = linear(h1) (+ bias, + LoRA);
 * RoPE on q,k (rotate-half); a = attention(q,k,v; key-padding mask, causal or bidirectional);
 * x2 = x + o_proj(a); h2 = RMSNorm(x2); x' = x2 + down(silu(gate(h2)) · up(h2)). After the last layer,
 * hidden = RMSNorm(x) (the `last_hidden_state`), (B, T, C).
 *
 * Bidirectional (spec §2.2): no causal constraint; padded keys are masked. Positions: each sequence's real
 * tokens get RoPE positions 0..n−1 whatever the padding side (spec §2.2 allows it; left- and right-padded
 * batches give the same outputs at real tokens). A row's real tokens must be contiguous. Outputs at padded
 * positions are computed but meaningless; heads and losses must mask them.
 *
 * Precision (src/model/precision.ts): `dtype` stores the frozen base matrices (q/k/v/o/gate/up/down,
 * embedding, LM head) as fp32, bf16 or int8 in a separate store (src/model/reduced.ts) and multiplies them
 * with the matching kernels; norms, biases and LoRA stay fp32. `precision: 'bf16'` runs every matmul on
 * float32 tensors (master weights, LoRA, activations) with bf16 operands and fp32 accumulation, as autocast
 * does. Norms, softmax, attention and every reduction stay fp32. Reduced weights are frozen: full
 * fine-tuning needs fp32 weights (with precision bf16 for bf16 speed), and int8 is inference only.
 *
 * Memory: fp32 weights, gradients and AdamW moments live in `weights` (an Arena), reduced weights in
 * `reduced`; activations live in a second arena sized for the largest batch seen (B·T tokens) and reused. In
 * inference (`forward(batch, {train:false})`) every layer shares one set of activation buffers, so encoding
 * needs one layer's worth of activations. With `recompute`, training keeps only each layer's input (and its
 * LoRA dropout masks) and recomputes the layer's activations in one shared set during backward: the same
 * kernel calls on the same inputs, so results equal the stored-activation path.
 * Invariants: gradients exist only for trainable tensors; `backward` needs a preceding training forward on
 * the same batch; backward ACCUMULATES into gradients (call `zeroGrad` once per step).
 */
import { ShapeError, UsageError } from '../errors.js';
import { getKernels, ropeInvFreq, ropeTables, type Kernels } from '../kernels/index.js';
import { Rng } from '../util/rng.js';
import { Activations, type SavedPass } from './activations.js';
import { Arena, type ArenaSpec } from './arena.js';
import { fillDropoutMask, initLoraPair, loraNames, loraSpecs, mergePair, mergePairBf16, targetOf } from './lora.js';
import { loraScale, validateLora, type LoraConfig } from '../io/lora-config.js';
import type { Precision } from './precision.js';
import { ReducedStore, reducedForm, type WeightDtype } from './reduced.js';
import { layerLinears, parameterSpecs, type ModelConfig } from './registry.js';

const EMBED = 'model.embed_tokens.weight';

/**
 * A base matrix as stored: fp32, bf16 bits, or int8 with per-row scales (plus, for an int8 LM head, its
 * bf16 bits for exact recomputation).
 */
export type WeightView =
  | { dtype: 'fp32'; w: Float32Array }
  | { dtype: 'bf16'; w: Uint16Array }
  | { dtype: 'int8'; q: Int8Array; scale: Float32Array; exact: Uint16Array | null };

/** A padded batch of token ids. */
export interface TokenBatch {
  ids: Int32Array; // (B, T)
  mask: Uint8Array; // (B, T) 1 = real token
  B: number;
  T: number;
}

/** What trains: nothing, the LoRA adapter only (base frozen), or every weight (plus the adapter if any). */
export type Trainable = 'none' | 'lora' | 'all';

export interface ModelOptions {
  /** Bidirectional attention (Lion's encoders, spec §2.2) or causal. Default true. */
  bidirectional?: boolean;
  /** Attach a LoRA adapter (initialised as peft does unless loaded afterwards). */
  lora?: LoraConfig | null;
  /** Default: 'lora' with an adapter, else 'none'. */
  trainable?: Trainable;
  /** Keep `lm_head.weight` (an untied LM head); false for a headless dense encoder. Default true. */
  withHead?: boolean;
  /** Backend; default `getKernels()`. */
  kernels?: Kernels;
  /** Seed of LoRA initialisation and dropout. Default 0. */
  seed?: number;
  /** Storage of the frozen base matrices: 'fp32' (default), 'bf16' or 'int8' (src/model/reduced.ts). */
  dtype?: WeightDtype;
  /** Matmul precision on fp32 tensors: 'fp32' (default) or 'bf16' (bf16 operands, fp32 accumulation). */
  precision?: Precision;
  /** Training keeps only each layer's input and recomputes its activations in backward. Default false. */
  recompute?: boolean;
  /**
   * Parameters kept fixed although `trainable` would train them: a parameter is frozen when its name contains
   * one of these strings (e.g. `embed_tokens`, `model.norm.weight`, `layers.0.`). Each must name at least one
   * trainable parameter. Default none.
   */
  freeze?: readonly string[];
}

/** A trainable tensor and its gradient (the optimiser's view; compatible with src/train/optimizer.ts `Param`). */
export interface ModelParam {
  name: string;
  value: Float32Array;
  grad: Float32Array;
}

type Linear = ReturnType<typeof layerLinears>[number];

/** Options of `forward`/`backward`. */
export interface PassOptions {
  /** Keep what backward needs and apply LoRA dropout (default: the model has something trainable). */
  train?: boolean;
  /**
   * Activation set to use (default "main"). Batches in different slots keep their activations side by side,
   * so e.g. queries and documents can both be run forward before either is backpropagated.
   */
  slot?: string;
}

export class LlamaModel {
  readonly config: ModelConfig;
  readonly bidirectional: boolean;
  readonly lora: LoraConfig | null;
  readonly trainable: Trainable;
  readonly k: Kernels;
  readonly dtype: WeightDtype;
  readonly precision: Precision;
  readonly recompute: boolean;
  /** fp32 parameters (HF names), LoRA tensors, `grad:<name>` gradients, `adam.m:`/`adam.v:<name>` moments. */
  readonly weights: Arena;
  /** Base matrices held in bf16 or int8 (empty for an fp32 model). */
  readonly reduced: ReducedStore;
  private readonly paramNames: string[];
  private readonly trainNames: string[];
  /** Activations per slot (one per batch whose backward is pending), plus shared backward scratch. */
  private readonly act: Activations<TokenBatch>;
  private cos = new Float32Array(0);
  private sin = new Float32Array(0);
  private ropeRows = 0;
  private readonly invFreq: Float32Array;
  private readonly linears: Linear[];
  private dropRng: Rng;

  constructor(config: ModelConfig, opts: ModelOptions = {}) {
    this.config = config;
    this.bidirectional = opts.bidirectional ?? true;
    this.lora = opts.lora ?? null;
    if (this.lora) validateLora(this.lora);
    this.trainable = opts.trainable ?? (this.lora ? 'lora' : 'none');
    if (this.trainable === 'lora' && !this.lora) throw new UsageError('trainable "lora" needs a LoRA config', { field: 'trainable' });
    this.k = opts.kernels ?? getKernels();
    this.dtype = opts.dtype ?? 'fp32';
    this.precision = opts.precision ?? 'fp32';
    this.recompute = opts.recompute ?? false;
    if (!['fp32', 'bf16', 'int8'].includes(this.dtype)) throw new UsageError(`weight dtype must be fp32, bf16 or int8, got '${this.dtype}'`, { field: 'dtype' });
    if (!['fp32', 'bf16'].includes(this.precision)) throw new UsageError(`precision must be fp32 or bf16, got '${this.precision}'`, { field: 'precision' });
    if (this.dtype !== 'fp32' && this.trainable === 'all') {
      throw new UsageError(`full fine-tuning needs fp32 master weights, not ${this.dtype}`, { field: 'dtype', hint: 'load the model in fp32 and train with --precision bf16 for bf16 matmuls' });
    }
    if (this.dtype === 'int8' && this.trainable !== 'none') {
      throw new UsageError('int8 weights are for inference only', { field: 'dtype', hint: 'train LoRA on a bf16 base (dtype bf16), or use precision bf16 on fp32 weights' });
    }
    this.linears = layerLinears(config);
    const withHead = opts.withHead ?? true;
    const base = parameterSpecs(config, withHead);
    const adapter = this.lora ? loraSpecs(config, this.lora) : [];
    this.paramNames = [...base, ...adapter].map((s) => s.name);
    let trainSpecs = this.trainable === 'all' ? [...base, ...adapter] : this.trainable === 'lora' ? adapter : [];
    for (const f of opts.freeze ?? []) {
      if (!f || !trainSpecs.some((s) => s.name.includes(f))) {
        throw new UsageError(`freeze: '${f}' names no trainable parameter`, { field: 'freeze', hint: `trainable parameters: ${trainSpecs.slice(0, 12).map((s) => s.name).join(', ')}${trainSpecs.length > 12 ? ', ...' : ''}` });
      }
    }
    if (opts.freeze?.length) trainSpecs = trainSpecs.filter((s) => !opts.freeze!.some((f) => s.name.includes(f)));
    if (opts.freeze?.length && trainSpecs.length === 0) throw new UsageError('freeze leaves no parameter to train', { field: 'freeze' });
    this.trainNames = trainSpecs.map((s) => s.name);
    const kept = base.filter((s) => !reducedForm(s.name, this.dtype, config, withHead));
    this.reduced = new ReducedStore(base.flatMap((s) => {
      const form = reducedForm(s.name, this.dtype, config, withHead);
      return form ? [{ ...s, form }] : [];
    }));
    const specs: ArenaSpec[] = [...kept, ...adapter];
    for (const pre of ['grad:', 'adam.m:', 'adam.v:']) for (const s of trainSpecs) specs.push({ name: pre + s.name, shape: s.shape });
    this.weights = new Arena(specs);
    this.invFreq = ropeInvFreq(config.headDim, config.ropeTheta, config.ropeScaling);
    this.act = new Activations({ config, linears: this.linears, lora: this.lora, trainable: this.trainable !== 'none', recompute: this.recompute });
    const seed = opts.seed ?? 0;
    this.dropRng = Rng.derive(seed, 0x10a);
    if (this.lora) this.initLora(Rng.derive(seed, 0x1a));
  }

  // ------------------------------------------------------------------------------------------ parameters
  /** fp32 parameter `name` (HF or LoRA name); a reduced base matrix is read with `weight(name)`. */
  param(name: string): Float32Array {
    if (this.reduced.has(name)) throw new UsageError(`${name} is stored as ${this.dtype}, not float32 (read it with weight(name))`);
    return this.weights.get(name);
  }

  /** True when the model has parameter `name` (in any dtype). */
  hasParam(name: string): boolean {
    return this.weights.has(name) || this.reduced.has(name);
  }

  /** True when parameter `name` is held in bf16/int8 (`weight(name)`), not in the fp32 arena. */
  isReduced(name: string): boolean {
    return this.reduced.has(name);
  }

  /** Base matrix `name` as stored (the product form: int8 when it has one, else bf16, else fp32). */
  weight(name: string): WeightView {
    if (!this.reduced.has(name)) return { dtype: 'fp32', w: this.weights.get(name) };
    const t = this.reduced.get(name);
    return t.q ? { dtype: 'int8', q: t.q, scale: t.scale!, exact: t.bf16 } : { dtype: 'bf16', w: t.bf16! };
  }

  /** Names of every parameter (base and adapter), in checkpoint order, whatever their dtype. */
  parameterNames(): string[] {
    return [...this.paramNames];
  }

  /** The fp32 parameters (base and adapter) by name, in checkpoint order; reduced ones are left out. */
  parameters(): { name: string; value: Float32Array; shape: readonly number[] }[] {
    return this.paramNames.filter((n) => !this.reduced.has(n)).map((name) => ({ name, value: this.weights.get(name), shape: this.weights.shape(name) }));
  }

  /** Shape of parameter `name`, whatever its dtype. */
  paramShape(name: string): readonly number[] {
    return this.reduced.has(name) ? this.reduced.get(name).shape : this.weights.shape(name);
  }

  /** Bytes of parameters, gradients and moments (fp32 arena plus reduced store). */
  get weightBytes(): number {
    return this.weights.bytes + this.reduced.bytes;
  }

  /** Trainable tensors with their gradients, for the optimiser. */
  trainableParams(): ModelParam[] {
    return this.trainNames.map((name) => ({ name, value: this.weights.get(name), grad: this.weights.get('grad:' + name) }));
  }

  /** AdamW moments of a trainable tensor, held in the weight arena. */
  moments(name: string): { m: Float32Array; v: Float32Array } {
    return { m: this.weights.get('adam.m:' + name), v: this.weights.get('adam.v:' + name) };
  }

  /** Restarts the LoRA dropout stream (the masks drawn next are a function of `seed` alone). */
  reseedDropout(seed: number): void {
    this.dropRng = Rng.derive(seed, 0x10a);
  }

  /** Sets every gradient to zero. */
  zeroGrad(): void {
    for (const n of this.trainNames) this.weights.get('grad:' + n).fill(0);
  }

  private gradOf(name: string): Float32Array | null {
    return this.weights.has('grad:' + name) ? this.weights.get('grad:' + name) : null;
  }

  /** The LM head (V, C): `lm_head.weight`, or the input embedding when tied. */
  headName(): string {
    if (this.config.tieWordEmbeddings) return EMBED;
    if (!this.hasParam('lm_head.weight')) throw new UsageError('this model was built without an LM head (withHead: false)');
    return 'lm_head.weight';
  }

  private initLora(rng: Rng): void {
    const lora = this.lora!;
    for (let l = 0; l < this.config.numLayers; l++) {
      for (const lin of this.linears) {
        if (!lora.targets.includes(targetOf(lin.module))) continue;
        const n = loraNames(l, lin.module);
        initLoraPair(this.weights.get(n.a), this.weights.get(n.b), lin.in, rng);
      }
    }
  }

  /** Folds the adapter into the base weights (W += s·B·A); `unmergeLora` undoes it. */
  mergeLora(): void { this.foldLora(1); }

  /** W −= s·B·A (the inverse of `mergeLora`, exact up to rounding). */
  unmergeLora(): void { this.foldLora(-1); }

  private foldLora(sign: 1 | -1): void {
    const lora = this.lora;
    if (!lora) throw new UsageError('the model has no LoRA adapter to merge');
    if (this.dtype === 'int8') throw new UsageError('an int8 model runs its adapter unmerged (merging would quantise twice)');
    for (let l = 0; l < this.config.numLayers; l++) {
      for (const lin of this.linears) {
        if (!lora.targets.includes(targetOf(lin.module))) continue;
        const n = loraNames(l, lin.module);
        const w = this.weight(`model.layers.${l}.${lin.module}.weight`);
        const args = [this.param(n.a), this.param(n.b), lin.out, lin.in, lora.r, loraScale(lora), sign] as const;
        if (w.dtype === 'fp32') mergePair(this.k, w.w, ...args);
        else if (w.dtype === 'bf16') mergePairBf16(this.k, w.w, ...args);
      }
    }
    this.merged = sign === 1;
  }

  /** True while the adapter is folded into the base weights (the adapter path is then skipped). */
  merged = false;

  // ------------------------------------------------------------------------------------------ buffers
  /** Grows the RoPE tables to T rows. */
  private ensureRope(T: number): void {
    if (T <= this.ropeRows) return;
    const D = this.config.headDim;
    this.ropeRows = Math.max(T, 2 * this.ropeRows);
    this.cos = new Float32Array(this.ropeRows * D);
    this.sin = new Float32Array(this.ropeRows * D);
    ropeTables(this.cos, this.sin, this.invFreq, this.ropeRows);
  }

  /** Frees the activations of every slot (they are reallocated by the next forward). */
  releaseActivations(): void {
    this.act.release();
  }

  /** Bytes of activations held by `slot` (default "main") and by the scratch shared by all slots. */
  activationBytes(slot = 'main'): { slot: number; scratch: number } {
    return this.act.bytes(slot);
  }

  // ------------------------------------------------------------------------------------------ products
  /** y (M, N) = x (M, K) · Wᵀ + bias, in W's storage dtype (fp32 weights: in the model's precision). */
  private linFwd(y: Float32Array, x: Float32Array, w: WeightView, bias: Float32Array | null, M: number, K: number, N: number): void {
    const k = this.k;
    if (w.dtype === 'int8') k.linearForwardInt8(y, x, w.q, w.scale, bias, M, K, N);
    else if (w.dtype === 'bf16' || this.precision === 'bf16') k.linearForwardBf16(y, x, w.w, bias, M, K, N);
    else k.linearForward(y, x, w.w, bias, M, K, N);
  }

  /** dx += dy·W, dw += dyᵀ·x, db += Σ dy (reduced W: frozen, dw/db null), in the matching precision. */
  private linBwd(dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, dy: Float32Array, x: Float32Array,
    w: WeightView, M: number, K: number, N: number): void {
    const k = this.k;
    if (w.dtype === 'int8') throw new UsageError('int8 weights have no backward pass (inference only)');
    if (w.dtype === 'bf16' || this.precision === 'bf16') k.linearBackwardBf16(dx, dw, db, dy, x, w.w, M, K, N);
    else k.linearBackward(dx, dw, db, dy, x, w.w, M, K, N);
  }

  /** gemm on fp32 tensors in the model's precision (LoRA products). */
  private mm(c: Float32Array, a: Float32Array, b: Float32Array, M: number, N: number, K: number, tA: boolean, tB: boolean, alpha: number, beta: number): void {
    if (this.precision === 'bf16') this.k.gemmBf16(c, a, b, M, N, K, tA, tB, alpha, beta);
    else this.k.gemm(c, a, b, M, N, K, tA, tB, alpha, beta);
  }

  // ------------------------------------------------------------------------------------------ forward
  /**
   * Runs the trunk and returns the final hidden states (B, T, C) (a view into the slot's activations, valid
   * until the next forward in the same slot). `train` (default: the model has something trainable) keeps
   * what backward needs and applies LoRA dropout.
   */
  forward(batch: TokenBatch, opts: PassOptions = {}): Float32Array {
    const { B, T, ids, mask } = batch;
    const c = this.config;
    const N = B * T;
    if (ids.length !== N || mask.length !== N) throw new ShapeError(`token batch: ids and mask must hold B·T = ${N} values`, { field: 'ids' });
    const train = (opts.train ?? this.trainable !== 'none') && this.trainable !== 'none';
    this.ensureRope(T);
    this.act.begin(opts.slot ?? 'main', N, train);
    const starts = realStarts(mask, B, T);
    const shifted = starts.some((s) => s !== 0);
    for (let i = 0; i < N; i++) {
      if (ids[i]! < 0 || ids[i]! >= c.vocabSize) throw new ShapeError(`token id ${ids[i]} at position ${i} is outside the vocabulary (${c.vocabSize})`, { field: 'ids' });
    }
    const C = c.hiddenSize;
    const x0 = this.act.at(0, 'x', N);
    if (this.reduced.has(EMBED)) this.k.embeddingForwardBf16(x0, this.reduced.get(EMBED).bf16!, ids, N, C);
    else this.k.embeddingForward(x0, this.param(EMBED), ids, N, C);
    const saved = { batch, starts, shifted };
    for (let l = 0; l < c.numLayers; l++) this.layerForward(l, saved, true, true);
    const hidden = this.act.get('hidden', N);
    this.k.rmsnormForward(hidden, this.act.get('rstdf', N), this.act.get('xf', N), this.param('model.norm.weight'), N, C, c.rmsNormEps);
    this.act.save(train ? saved : null);
    return hidden;
  }

  /**
   * Layer `l` forward from its input `x` (named by `an`). `draw`: draw fresh dropout masks (false when
   * recomputing, which reuses the forward's). `full`: also compute the layer's output (the next layer's input);
   * a recompute stops at the MLP activation and the down projection's LoRA input, all that backward reads.
   */
  private layerForward(l: number, s: SavedPass<TokenBatch>, draw: boolean, full: boolean): void {
    const c = this.config, k = this.k;
    const { B, T, mask } = s.batch;
    const N = B * T;
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = c;
    const p = `model.layers.${l}.`;
    const n = (f: string) => this.act.at(l, f, N);
    const x = n('x'), h1 = n('h1'), q = n('q'), kk = n('k'), v = n('v'), att = n('att'), x2 = n('x2'), h2 = n('h2');
    k.rmsnormForward(h1, n('rstd1'), x, this.param(p + 'input_layernorm.weight'), N, C, c.rmsNormEps);
    if (c.qkNorm) {
      // Qwen3: RMSNorm over each head of q and k (weights (D)), before RoPE
      const qr = n('qr'), kr = n('kr');
      this.linearForward(l, 0, h1, qr, N, draw);
      this.linearForward(l, 1, h1, kr, N, draw);
      k.rmsnormForward(q, n('rstdq'), qr, this.param(p + 'self_attn.q_norm.weight'), N * H, D, c.rmsNormEps);
      k.rmsnormForward(kk, n('rstdk'), kr, this.param(p + 'self_attn.k_norm.weight'), N * KVH, D, c.rmsNormEps);
    } else {
      this.linearForward(l, 0, h1, q, N, draw);
      this.linearForward(l, 1, h1, kk, N, draw);
    }
    this.linearForward(l, 2, h1, v, N, draw);
    this.rope(q, B, T, H, s.starts, s.shifted, false);
    this.rope(kk, B, T, KVH, s.starts, s.shifted, false);
    k.attentionForward(att, n('lse'), q, kk, v, mask, B, T, H, KVH, D, !this.bidirectional, 1 / Math.sqrt(D));
    this.linearForward(l, 3, att, x2, N, draw);
    k.axpy(x2, x, 1, N * C);
    k.rmsnormForward(h2, n('rstd2'), x2, this.param(p + 'post_attention_layernorm.weight'), N, C, c.rmsNormEps);
    const gate = n('gate'), up = n('up'), act = n('a');
    this.linearForward(l, 4, h2, gate, N, draw);
    this.linearForward(l, 5, h2, up, N, draw);
    k.swigluForward(act, gate, up, N * F);
    if (!full) { this.loraInput(l, 6, act, N, draw); return; }
    const next = l + 1 < c.numLayers ? this.act.at(l + 1, 'x', N) : this.act.get('xf', N);
    this.linearForward(l, 6, act, next, N, draw);
    k.axpy(next, x2, 1, N * C);
  }

  /** y (N, out) = x·Wᵀ + b (+ s·(drop(x)·Aᵀ)·Bᵀ) for linear `li` of layer `l`; `draw` draws the dropout mask. */
  private linearForward(l: number, li: number, x: Float32Array, y: Float32Array, N: number, draw: boolean): void {
    const lin = this.linears[li]!;
    const p = `model.layers.${l}.${lin.module}`;
    this.linFwd(y, x, this.weight(p + '.weight'), lin.bias ? this.param(p + '.bias') : null, N, lin.in, lin.out);
    const u = this.loraInput(l, li, x, N, draw);
    if (u) this.mm(y, u, this.param(loraNames(l, lin.module).b), N, lin.out, this.lora!.r, false, true, loraScale(this.lora!), 1); // y += s·u·Bᵀ
  }

  /** u (N, R) = drop(x)·Aᵀ of linear `li` of layer `l` (null when it has no active adapter). */
  private loraInput(l: number, li: number, x: Float32Array, N: number, draw: boolean): Float32Array | null {
    const lin = this.linears[li]!;
    const lora = this.lora;
    if (!lora || this.merged || !lora.targets.includes(targetOf(lin.module))) return null;
    const u = this.act.at(l, `${lin.module}.u`, N);
    let xin = x;
    if (this.act.training && lora.dropout > 0) {
      const drop = this.dropMask(l, lin.module, lin.in, N);
      if (draw) fillDropoutMask(this.k, drop, lora.dropout, this.dropRng);
      xin = this.act.get('s.xd', N).subarray(0, N * lin.in);
      this.k.dropoutForward(xin, x, drop, 1 / (1 - lora.dropout), N * lin.in);
    }
    this.linFwd(u, xin, { dtype: 'fp32', w: this.param(loraNames(l, lin.module).a) }, null, N, lin.in, lora.r); // (N, R)
    return u;
  }

  /** The dropout keep-mask (N·in bytes) of one adapted linear, a byte view of its float slot. */
  private dropMask(l: number, module: string, inF: number, N: number): Uint8Array {
    const f = this.act.at(l, `${module}.drop`, N);
    return new Uint8Array(f.buffer, f.byteOffset, N * inF);
  }

  /** RoPE on x (B, T, NH, D) in place, positions 0..n−1 over each row's real tokens. */
  private rope(x: Float32Array, B: number, T: number, NH: number, starts: Int32Array, shifted: boolean, back: boolean): void {
    const D = this.config.headDim;
    const f = back ? this.k.ropeBackward.bind(this.k) : this.k.ropeForward.bind(this.k);
    if (!shifted) { f(x, this.cos, this.sin, B, T, NH, D); return; }
    for (let b = 0; b < B; b++) {
      const s = starts[b]!;
      if (s >= T) continue;
      f(x.subarray((b * T + s) * NH * D, (b + 1) * T * NH * D), this.cos, this.sin, 1, T - s, NH, D);
    }
  }

  // ------------------------------------------------------------------------------------------ backward
  /**
   * Backpropagates dHidden (B, T, C) (gradient of the loss w.r.t. the hidden states `forward` returned)
   * into the gradients of the trainable tensors (accumulated). Rows of padded positions should be zero.
   * `slot` names the forward being backpropagated (default "main"); its activations stay valid.
   */
  backward(dHidden: Float32Array, opts: { slot?: string } = {}): void {
    const s = this.act.resume(opts.slot ?? 'main');
    if (!s) throw new UsageError(`backward needs a training forward first (forward(batch, {train: true}) in slot "${opts.slot ?? 'main'}")`);
    const { B, T, ids, mask } = s.batch;
    const c = this.config;
    const N = B * T;
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = c;
    if (dHidden.length !== N * C) throw new ShapeError(`dHidden holds ${dHidden.length} values, expected B·T·C = ${N * C}`);
    const k = this.k;
    const d = (f: string) => this.act.get(f, N);
    const dx = d('d.x'), dh = d('d.h');
    dx.fill(0);
    k.rmsnormBackward(dx, this.gradOf('model.norm.weight'), dHidden, d('xf'), this.param('model.norm.weight'), d('rstdf'), N, C);
    const scale = 1 / Math.sqrt(D);
    for (let l = c.numLayers - 1; l >= 0; l--) {
      if (this.act.recomputes) this.layerForward(l, s, false, false);
      const p = `model.layers.${l}.`;
      const n = (f: string) => this.act.at(l, f, N);
      // MLP block: x' = x2 + down(silu(gate)·up); dx holds d x'
      const dact = d('d.a'), dgate = d('d.gate'), dup = d('d.up');
      dact.fill(0);
      this.linearBackward(l, 6, n('a'), dx, dact, N);
      dgate.fill(0); dup.fill(0);
      k.swigluBackward(dgate, dup, dact, n('gate'), n('up'), N * F);
      dh.fill(0);
      this.linearBackward(l, 4, n('h2'), dgate, dh, N);
      this.linearBackward(l, 5, n('h2'), dup, dh, N);
      k.rmsnormBackward(dx, this.gradOf(p + 'post_attention_layernorm.weight'), dh, n('x2'),
        this.param(p + 'post_attention_layernorm.weight'), n('rstd2'), N, C);
      // attention block: x2 = x + o_proj(att); dx holds d x2
      const datt = d('d.att'), dq = d('d.q'), dk = d('d.k'), dv = d('d.v');
      datt.fill(0);
      this.linearBackward(l, 3, n('att'), dx, datt, N);
      dq.fill(0); dk.fill(0); dv.fill(0);
      k.attentionBackward(dq, dk, dv, datt, n('att'), n('lse'), n('q'), n('k'), n('v'), mask, B, T, H, KVH, D, !this.bidirectional, scale);
      this.rope(dq, B, T, H, s.starts, s.shifted, true);
      this.rope(dk, B, T, KVH, s.starts, s.shifted, true);
      // below layer 0's input norm only the embedding and that norm's weight learn: skip dh when both are frozen
      const wantDh = l > 0 || this.gradOf(EMBED) !== null || this.gradOf(p + 'input_layernorm.weight') !== null;
      const h1 = n('h1'), dh1 = wantDh ? dh : null;
      let dqIn = dq, dkIn = dk;
      if (c.qkNorm) {
        dqIn = d('d.qr'); dkIn = d('d.kr');
        dqIn.fill(0); dkIn.fill(0);
        k.rmsnormBackward(dqIn, this.gradOf(p + 'self_attn.q_norm.weight'), dq, n('qr'), this.param(p + 'self_attn.q_norm.weight'), n('rstdq'), N * H, D);
        k.rmsnormBackward(dkIn, this.gradOf(p + 'self_attn.k_norm.weight'), dk, n('kr'), this.param(p + 'self_attn.k_norm.weight'), n('rstdk'), N * KVH, D);
      }
      dh.fill(0);
      this.linearBackward(l, 0, h1, dqIn, dh1, N);
      this.linearBackward(l, 1, h1, dkIn, dh1, N);
      this.linearBackward(l, 2, h1, dv, dh1, N);
      if (wantDh) {
        k.rmsnormBackward(dx, this.gradOf(p + 'input_layernorm.weight'), dh, n('x'),
          this.param(p + 'input_layernorm.weight'), n('rstd1'), N, C);
      }
    }
    const dE = this.gradOf(EMBED);
    if (dE) k.embeddingBackward(dE, dx, ids, N, C);
  }

  /** dx (N, in) += dy·W (+ LoRA path; dx null skips it); dW, db, dA, dB accumulated when trainable. */
  private linearBackward(l: number, li: number, x: Float32Array, dy: Float32Array, dx: Float32Array | null, N: number): void {
    const lin = this.linears[li]!;
    const p = `model.layers.${l}.${lin.module}`;
    this.linBwd(dx, this.gradOf(p + '.weight'), lin.bias ? this.gradOf(p + '.bias') : null, dy, x, this.weight(p + '.weight'), N, lin.in, lin.out);
    const lora = this.lora;
    if (!lora || this.merged || !lora.targets.includes(targetOf(lin.module))) return;
    const n = loraNames(l, lin.module);
    const s = loraScale(lora), r = lora.r;
    const u = this.act.at(l, `${lin.module}.u`, N), du = this.act.get('d.u', N);
    const A: WeightView = { dtype: 'fp32', w: this.param(n.a) };
    const dB = this.gradOf(n.b);
    if (dB) this.mm(dB, dy, u, lin.out, r, N, true, false, s, 1); // dB (out, R) += s·dyᵀ·u
    this.mm(du, dy, this.param(n.b), N, r, lin.out, false, false, s, 0); // du (N, R) = s·dy·B
    if (lora.dropout > 0) {
      const drop = this.dropMask(l, lin.module, lin.in, N), keep = 1 / (1 - lora.dropout);
      const xd = this.act.get('s.xd', N).subarray(0, N * lin.in), dxd = this.act.get('d.xd', N).subarray(0, N * lin.in);
      this.k.dropoutForward(xd, x, drop, keep, N * lin.in);
      if (dx) dxd.fill(0);
      this.linBwd(dx ? dxd : null, this.gradOf(n.a), null, du, xd, A, N, lin.in, r);
      if (dx) this.k.dropoutBackward(dx, dxd, drop, keep, N * lin.in);
    } else {
      this.linBwd(dx, this.gradOf(n.a), null, du, x, A, N, lin.in, r);
    }
  }

  // ------------------------------------------------------------------------------------------ LM head
  /** logits (N, V) = hidden (N, C) · headᵀ (the MNTP / causal-LM readout), in the head's dtype. */
  lmHeadForward(logits: Float32Array, hidden: Float32Array, N: number): void {
    this.linFwd(logits, hidden, this.weight(this.headName()), null, N, this.config.hiddenSize, this.config.vocabSize);
  }

  /** dHidden (N, C) += dLogits·head; the head's gradient accumulates when it is trainable. */
  lmHeadBackward(dHidden: Float32Array, dLogits: Float32Array, hidden: Float32Array, N: number): void {
    const name = this.headName();
    const w = this.weight(name);
    const exact: WeightView = w.dtype === 'int8' ? { dtype: 'bf16', w: w.exact! } : w;
    this.linBwd(dHidden, this.gradOf(name), null, dLogits, hidden, exact, N, this.config.hiddenSize, this.config.vocabSize);
  }
}

/**
 * Index of each row's first real token (T when the row is all padding); throws when a row's real tokens
 * are not one contiguous run (neither left- nor right-padded).
 */
export function realStarts(mask: Uint8Array, B: number, T: number): Int32Array {
  const starts = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let t = 0;
    while (t < T && mask[b * T + t] === 0) t++;
    starts[b] = t;
    while (t < T && mask[b * T + t] !== 0) t++;
    while (t < T && mask[b * T + t] === 0) t++;
    if (t < T) throw new ShapeError(`attention mask row ${b}: real tokens must be contiguous (left or right padding)`, { field: 'mask' });
  }
  return starts;
}
