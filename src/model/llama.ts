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
 * Memory: weights, gradients and AdamW moments live in `weights` (an Arena); activations live in a second
 * arena sized for the largest batch seen (B·T tokens) and reused. In inference (`forward(batch, {train:false})`)
 * every layer shares one set of activation buffers, so encoding needs one layer's worth of activations.
 * Invariants: gradients exist only for trainable tensors; `backward` needs a preceding training forward on
 * the same batch; backward ACCUMULATES into gradients (call `zeroGrad` once per step).
 */
import { ShapeError, UsageError } from '../errors.js';
import { getKernels, ropeInvFreq, ropeTables, type Kernels } from '../kernels/index.js';
import { Rng } from '../train/rng.js';
import { Arena, type ArenaSpec } from './arena.js';
import {
  addMasked, applyMask, fillDropoutMask, initLoraPair, loraNames, loraScale, loraSpecs, mergePair, targetOf, validateLora,
  type LoraConfig,
} from './lora.js';
import { layerLinears, parameterSpecs, type ModelConfig } from './registry.js';

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
}

/** A trainable tensor and its gradient (the optimiser's view; compatible with src/train/optimizer.ts `Param`). */
export interface ModelParam {
  name: string;
  value: Float32Array;
  grad: Float32Array;
}

type Linear = ReturnType<typeof layerLinears>[number];

/** One activation set: its arena, the tokens it is sized for, and the training batch it holds (if any). */
interface Slot {
  act: Arena;
  tokens: number;
  saved: { batch: TokenBatch; starts: Int32Array; shifted: boolean } | null;
}

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
  /** Parameters (HF names), LoRA tensors, `grad:<name>` gradients, `adam.m:`/`adam.v:<name>` moments. */
  readonly weights: Arena;
  private readonly paramNames: string[];
  private readonly trainNames: string[];
  /** Activations per slot (one per batch whose backward is pending), plus shared backward scratch. */
  private readonly slots = new Map<string, Slot>();
  private cur: Slot | null = null;
  private scratch: Arena | null = null;
  private scratchTokens = 0;
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
    this.linears = layerLinears(config);
    const base = parameterSpecs(config, opts.withHead ?? true);
    const adapter = this.lora ? loraSpecs(config, this.lora) : [];
    this.paramNames = [...base, ...adapter].map((s) => s.name);
    const trainSpecs = this.trainable === 'all' ? [...base, ...adapter] : this.trainable === 'lora' ? adapter : [];
    this.trainNames = trainSpecs.map((s) => s.name);
    const specs: ArenaSpec[] = [...base, ...adapter];
    for (const pre of ['grad:', 'adam.m:', 'adam.v:']) for (const s of trainSpecs) specs.push({ name: pre + s.name, shape: s.shape });
    this.weights = new Arena(specs);
    this.invFreq = ropeInvFreq(config.headDim, config.ropeTheta, config.ropeScaling);
    const seed = opts.seed ?? 0;
    this.dropRng = Rng.derive(seed, 0x10a);
    if (this.lora) this.initLora(Rng.derive(seed, 0x1a));
  }

  // ------------------------------------------------------------------------------------------ parameters
  /** Parameter `name` (HF or LoRA name). */
  param(name: string): Float32Array {
    return this.weights.get(name);
  }

  /** Every parameter (base and adapter) by name, in checkpoint order. */
  parameters(): { name: string; value: Float32Array; shape: readonly number[] }[] {
    return this.paramNames.map((name) => ({ name, value: this.weights.get(name), shape: this.weights.shape(name) }));
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
    if (this.config.tieWordEmbeddings) return 'model.embed_tokens.weight';
    if (!this.weights.has('lm_head.weight')) throw new UsageError('this model was built without an LM head (withHead: false)');
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
    for (let l = 0; l < this.config.numLayers; l++) {
      for (const lin of this.linears) {
        if (!lora.targets.includes(targetOf(lin.module))) continue;
        const n = loraNames(l, lin.module);
        mergePair(this.k, this.param(`model.layers.${l}.${lin.module}.weight`), this.param(n.a), this.param(n.b),
          lin.out, lin.in, lora.r, loraScale(lora), sign);
      }
    }
    this.merged = sign === 1;
  }

  /** True while the adapter is folded into the base weights (the adapter path is then skipped). */
  merged = false;

  // ------------------------------------------------------------------------------------------ buffers
  private layerSpecs(pre: string, N: number, dropout: boolean): ArenaSpec[] {
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = this.config;
    const s: ArenaSpec[] = [
      { name: pre + 'x', shape: [N, C] }, { name: pre + 'h1', shape: [N, C] }, { name: pre + 'rstd1', shape: [N] },
      { name: pre + 'q', shape: [N, H * D] }, { name: pre + 'k', shape: [N, KVH * D] }, { name: pre + 'v', shape: [N, KVH * D] },
      { name: pre + 'att', shape: [N, H * D] }, { name: pre + 'lse', shape: [N * H] },
      { name: pre + 'x2', shape: [N, C] }, { name: pre + 'h2', shape: [N, C] }, { name: pre + 'rstd2', shape: [N] },
      { name: pre + 'gate', shape: [N, F] }, { name: pre + 'up', shape: [N, F] }, { name: pre + 'a', shape: [N, F] },
    ];
    if (this.lora) {
      for (const lin of this.linears) {
        if (!this.lora.targets.includes(targetOf(lin.module))) continue;
        s.push({ name: `${pre}${lin.module}.u`, shape: [N, this.lora.r] });
        // keep-mask bytes (N, in), stored in float slots of 4 bytes each
        if (dropout) s.push({ name: `${pre}${lin.module}.drop`, shape: [N, Math.ceil(lin.in / 4)] });
      }
    }
    return s;
  }

  /** Grows the RoPE tables to T rows, the slot's activations to N tokens and the scratch (training) to N. */
  private ensureActivations(slotName: string, N: number, T: number, train: boolean): Slot {
    if (T > this.ropeRows) {
      const D = this.config.headDim;
      this.ropeRows = Math.max(T, 2 * this.ropeRows);
      this.cos = new Float32Array(this.ropeRows * D);
      this.sin = new Float32Array(this.ropeRows * D);
      ropeTables(this.cos, this.sin, this.invFreq, this.ropeRows);
    }
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = this.config;
    const trainable = this.trainable !== 'none';
    const dropout = trainable && this.lora !== null && this.lora.dropout > 0;
    let slot = this.slots.get(slotName);
    if (!slot || N > slot.tokens) {
      const specs: ArenaSpec[] = [];
      const kept = trainable ? this.config.numLayers : 1;
      for (let l = 0; l < kept; l++) specs.push(...this.layerSpecs(`L${l}.`, N, dropout));
      specs.push({ name: 'xf', shape: [N, C] }, { name: 'hidden', shape: [N, C] }, { name: 'rstdf', shape: [N] });
      this.slots.delete(slotName); // let the old arena go before allocating the new one
      slot = { act: new Arena(specs), tokens: N, saved: null };
      this.slots.set(slotName, slot);
    }
    if (train && N > this.scratchTokens) {
      const maxIn = Math.max(C, H * D, F);
      const specs: ArenaSpec[] = [
        { name: 'd.x', shape: [N, C] }, { name: 'd.h', shape: [N, C] }, { name: 'd.att', shape: [N, H * D] },
        { name: 'd.q', shape: [N, H * D] }, { name: 'd.k', shape: [N, KVH * D] }, { name: 'd.v', shape: [N, KVH * D] },
        { name: 'd.gate', shape: [N, F] }, { name: 'd.up', shape: [N, F] }, { name: 'd.a', shape: [N, F] },
      ];
      if (this.lora) specs.push({ name: 'd.u', shape: [N, this.lora.r] });
      if (dropout) specs.push({ name: 's.xd', shape: [N, maxIn] }, { name: 'd.xd', shape: [N, maxIn] });
      this.scratch = null;
      this.scratch = new Arena(specs);
      this.scratchTokens = N;
    }
    return slot;
  }

  /**
   * Tensor `name` for the current batch of N tokens (its first N rows): backward scratch (`d.*`, `s.*`)
   * from the shared scratch arena, everything else from the current slot.
   */
  private A(name: string, N: number): Float32Array {
    const shared = name.startsWith('d.') || name.startsWith('s.');
    const a = shared ? this.scratch! : this.cur!.act;
    const shape = a.shape(name);
    const per = shape.length > 1 ? shape.slice(1).reduce((x, y) => x * y, 1) : shape[0]! / (shared ? this.scratchTokens : this.cur!.tokens);
    return a.prefix(name, N * per);
  }

  /** Frees the activations of every slot (they are reallocated by the next forward). */
  releaseActivations(): void {
    this.slots.clear();
    this.cur = null;
    this.scratch = null;
    this.scratchTokens = 0;
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
    this.cur = this.ensureActivations(opts.slot ?? 'main', N, T, train);
    const starts = realStarts(mask, B, T);
    const shifted = starts.some((s) => s !== 0);
    for (let i = 0; i < N; i++) {
      if (ids[i]! < 0 || ids[i]! >= c.vocabSize) throw new ShapeError(`token id ${ids[i]} at position ${i} is outside the vocabulary (${c.vocabSize})`, { field: 'ids' });
    }
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = c;
    const k = this.k;
    const L = (l: number) => `L${train ? l : 0}.`;
    k.embeddingForward(this.A(L(0) + 'x', N), this.param('model.embed_tokens.weight'), ids, N, C);
    const scale = 1 / Math.sqrt(D);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}.`, a = L(l);
      const x = this.A(a + 'x', N), h1 = this.A(a + 'h1', N), q = this.A(a + 'q', N), kk = this.A(a + 'k', N);
      const v = this.A(a + 'v', N), att = this.A(a + 'att', N), x2 = this.A(a + 'x2', N), h2 = this.A(a + 'h2', N);
      k.rmsnormForward(h1, this.A(a + 'rstd1', N), x, this.param(p + 'input_layernorm.weight'), N, C, c.rmsNormEps);
      this.linearForward(l, 0, a, h1, q, N, train);
      this.linearForward(l, 1, a, h1, kk, N, train);
      this.linearForward(l, 2, a, h1, v, N, train);
      this.rope(q, B, T, H, starts, shifted, false);
      this.rope(kk, B, T, KVH, starts, shifted, false);
      k.attentionForward(att, this.A(a + 'lse', N), q, kk, v, mask, B, T, H, KVH, D, !this.bidirectional, scale);
      this.linearForward(l, 3, a, att, x2, N, train);
      k.axpy(x2, x, 1, N * C);
      k.rmsnormForward(h2, this.A(a + 'rstd2', N), x2, this.param(p + 'post_attention_layernorm.weight'), N, C, c.rmsNormEps);
      const gate = this.A(a + 'gate', N), up = this.A(a + 'up', N), act = this.A(a + 'a', N);
      this.linearForward(l, 4, a, h2, gate, N, train);
      this.linearForward(l, 5, a, h2, up, N, train);
      k.swigluForward(act, gate, up, N * F);
      const next = l + 1 < c.numLayers ? this.A(L(l + 1) + 'x', N) : this.A('xf', N);
      this.linearForward(l, 6, a, act, next, N, train);
      k.axpy(next, x2, 1, N * C);
    }
    const hidden = this.A('hidden', N);
    k.rmsnormForward(hidden, this.A('rstdf', N), this.A('xf', N), this.param('model.norm.weight'), N, C, c.rmsNormEps);
    this.cur.saved = train ? { batch, starts, shifted } : null;
    return hidden;
  }

  /** y (N, out) = x·Wᵀ + b (+ s·(drop(x)·Aᵀ)·Bᵀ) for linear `li` of layer `l`. */
  private linearForward(l: number, li: number, a: string, x: Float32Array, y: Float32Array, N: number, train: boolean): void {
    const lin = this.linears[li]!;
    const p = `model.layers.${l}.${lin.module}`;
    this.k.linearForward(y, x, this.param(p + '.weight'), lin.bias ? this.param(p + '.bias') : null, N, lin.in, lin.out);
    const lora = this.lora;
    if (!lora || this.merged || !lora.targets.includes(targetOf(lin.module))) return;
    const n = loraNames(l, lin.module);
    const u = this.A(`${a}${lin.module}.u`, N);
    let xin = x;
    if (train && lora.dropout > 0) {
      const drop = this.dropMask(a, lin.module, lin.in, N);
      fillDropoutMask(drop, lora.dropout, this.dropRng);
      xin = this.A('s.xd', N).subarray(0, N * lin.in);
      applyMask(xin, x, drop, 1 / (1 - lora.dropout), N * lin.in);
    }
    this.k.linearForward(u, xin, this.param(n.a), null, N, lin.in, lora.r); // (N, R)
    this.k.gemm(y, u, this.param(n.b), N, lin.out, lora.r, false, true, loraScale(lora), 1); // y += s·u·Bᵀ
  }

  /** The dropout keep-mask (N·in bytes) of one adapted linear, a byte view of its float slot. */
  private dropMask(a: string, module: string, inF: number, N: number): Uint8Array {
    const f = this.A(`${a}${module}.drop`, N);
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
    const slot = this.slots.get(opts.slot ?? 'main');
    const s = slot?.saved;
    if (!slot || !s) throw new UsageError(`backward needs a training forward first (forward(batch, {train: true}) in slot "${opts.slot ?? 'main'}")`);
    this.cur = slot;
    const { B, T, ids, mask } = s.batch;
    const c = this.config;
    const N = B * T;
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = c;
    if (dHidden.length !== N * C) throw new ShapeError(`dHidden holds ${dHidden.length} values, expected B·T·C = ${N * C}`);
    const k = this.k;
    const dx = this.A('d.x', N), dh = this.A('d.h', N);
    dx.fill(0);
    k.rmsnormBackward(dx, this.gradOf('model.norm.weight'), dHidden, this.A('xf', N), this.param('model.norm.weight'), this.A('rstdf', N), N, C);
    const scale = 1 / Math.sqrt(D);
    for (let l = c.numLayers - 1; l >= 0; l--) {
      const p = `model.layers.${l}.`, a = `L${l}.`;
      // MLP block: x' = x2 + down(silu(gate)·up); dx holds d x'
      const dact = this.A('d.a', N), dgate = this.A('d.gate', N), dup = this.A('d.up', N);
      dact.fill(0);
      this.linearBackward(l, 6, a, this.A(a + 'a', N), dx, dact, N);
      dgate.fill(0); dup.fill(0);
      k.swigluBackward(dgate, dup, dact, this.A(a + 'gate', N), this.A(a + 'up', N), N * F);
      dh.fill(0);
      this.linearBackward(l, 4, a, this.A(a + 'h2', N), dgate, dh, N);
      this.linearBackward(l, 5, a, this.A(a + 'h2', N), dup, dh, N);
      k.rmsnormBackward(dx, this.gradOf(p + 'post_attention_layernorm.weight'), dh, this.A(a + 'x2', N),
        this.param(p + 'post_attention_layernorm.weight'), this.A(a + 'rstd2', N), N, C);
      // attention block: x2 = x + o_proj(att); dx holds d x2
      const datt = this.A('d.att', N), dq = this.A('d.q', N), dk = this.A('d.k', N), dv = this.A('d.v', N);
      datt.fill(0);
      this.linearBackward(l, 3, a, this.A(a + 'att', N), dx, datt, N);
      dq.fill(0); dk.fill(0); dv.fill(0);
      k.attentionBackward(dq, dk, dv, datt, this.A(a + 'att', N), this.A(a + 'lse', N), this.A(a + 'q', N), this.A(a + 'k', N),
        this.A(a + 'v', N), mask, B, T, H, KVH, D, !this.bidirectional, scale);
      this.rope(dq, B, T, H, s.starts, s.shifted, true);
      this.rope(dk, B, T, KVH, s.starts, s.shifted, true);
      // below layer 0's input norm only the embedding and that norm's weight learn: skip dh when both are frozen
      const wantDh = l > 0 || this.gradOf('model.embed_tokens.weight') !== null || this.gradOf(p + 'input_layernorm.weight') !== null;
      const h1 = this.A(a + 'h1', N), dh1 = wantDh ? dh : null;
      dh.fill(0);
      this.linearBackward(l, 0, a, h1, dq, dh1, N);
      this.linearBackward(l, 1, a, h1, dk, dh1, N);
      this.linearBackward(l, 2, a, h1, dv, dh1, N);
      if (wantDh) {
        k.rmsnormBackward(dx, this.gradOf(p + 'input_layernorm.weight'), dh, this.A(a + 'x', N),
          this.param(p + 'input_layernorm.weight'), this.A(a + 'rstd1', N), N, C);
      }
    }
    const dE = this.gradOf('model.embed_tokens.weight');
    if (dE) k.embeddingBackward(dE, dx, ids, N, C);
  }

  /** dx (N, in) += dy·W (+ LoRA path; dx null skips it); dW, db, dA, dB accumulated when trainable. */
  private linearBackward(l: number, li: number, a: string, x: Float32Array, dy: Float32Array, dx: Float32Array | null, N: number): void {
    const lin = this.linears[li]!;
    const p = `model.layers.${l}.${lin.module}`;
    const k = this.k;
    k.linearBackward(dx, this.gradOf(p + '.weight'), lin.bias ? this.gradOf(p + '.bias') : null, dy, x, this.param(p + '.weight'), N, lin.in, lin.out);
    const lora = this.lora;
    if (!lora || this.merged || !lora.targets.includes(targetOf(lin.module))) return;
    const n = loraNames(l, lin.module);
    const s = loraScale(lora), r = lora.r;
    const u = this.A(`${a}${lin.module}.u`, N), du = this.A('d.u', N);
    const dB = this.gradOf(n.b);
    if (dB) k.gemm(dB, dy, u, lin.out, r, N, true, false, s, 1); // dB (out, R) += s·dyᵀ·u
    k.gemm(du, dy, this.param(n.b), N, r, lin.out, false, false, s, 0); // du (N, R) = s·dy·B
    if (lora.dropout > 0) {
      const drop = this.dropMask(a, lin.module, lin.in, N), keep = 1 / (1 - lora.dropout);
      const xd = this.A('s.xd', N).subarray(0, N * lin.in), dxd = this.A('d.xd', N).subarray(0, N * lin.in);
      applyMask(xd, x, drop, keep, N * lin.in);
      if (dx) dxd.fill(0);
      k.linearBackward(dx ? dxd : null, this.gradOf(n.a), null, du, xd, this.param(n.a), N, lin.in, r);
      if (dx) addMasked(dx, dxd, drop, keep, N * lin.in);
    } else {
      k.linearBackward(dx, this.gradOf(n.a), null, du, x, this.param(n.a), N, lin.in, r);
    }
  }

  // ------------------------------------------------------------------------------------------ LM head
  /** logits (N, V) = hidden (N, C) · headᵀ (the MNTP / causal-LM readout). */
  lmHeadForward(logits: Float32Array, hidden: Float32Array, N: number): void {
    this.k.linearForward(logits, hidden, this.param(this.headName()), null, N, this.config.hiddenSize, this.config.vocabSize);
  }

  /** dHidden (N, C) += dLogits·head; the head's gradient accumulates when it is trainable. */
  lmHeadBackward(dHidden: Float32Array, dLogits: Float32Array, hidden: Float32Array, N: number): void {
    const name = this.headName();
    this.k.linearBackward(dHidden, this.gradOf(name), null, dLogits, hidden, this.param(name), N, this.config.hiddenSize, this.config.vocabSize);
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
