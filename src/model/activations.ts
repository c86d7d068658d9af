/**
 * The trunk's activation storage: named buffers per *slot* (one per batch whose backward is pending), plus a
 * scratch arena shared by every slot for backward temporaries and the recompute work set.
 *
 * Layout (names `L<l>.<field>` per layer, `xf`/`hidden`/`rstdf` after the last layer):
 *   - inference, or a model with nothing trainable: one layer's set `L0.*`, reused by every layer;
 *   - training: a full set per layer (x, h1, rstd1, q, k, v, att, lse, x2, h2, rstd2, gate, up, a, and per
 *     adapted linear its LoRA input `u` and dropout keep-mask `drop`);
 *   - training with recompute: per layer only its input `x` and its dropout masks; every other field lives
 *     in the shared work set `w.*`, recomputed layer by layer in backward.
 * Scratch (shared): `d.*` gradients of one layer, `s.xd`/`d.xd` dropout temporaries, `w.*` (recompute).
 * Slots are sized for the largest batch (B·T tokens) they have seen; smaller batches use a prefix of each.
 */
import { Arena, type ArenaSpec } from './arena.js';
import { targetOf } from './lora.js';
import type { LoraConfig } from '../io/lora-config.js';
import type { ModelConfig } from './registry.js';

/** What a training forward leaves for its backward. */
export interface SavedPass<B> {
  batch: B;
  starts: Int32Array;
  shifted: boolean;
}

interface Slot<B> {
  act: Arena;
  tokens: number;
  saved: SavedPass<B> | null;
}

export interface ActivationLayout {
  config: ModelConfig;
  linears: readonly { module: string; in: number }[];
  lora: LoraConfig | null;
  /** The model has something trainable (per-layer sets, scratch). */
  trainable: boolean;
  recompute: boolean;
}

export class Activations<B> {
  private readonly slots = new Map<string, Slot<B>>();
  private cur: Slot<B> | null = null;
  private scratch: Arena | null = null;
  private scratchTokens = 0;
  private pass = { train: false, recompute: false };

  constructor(private readonly L: ActivationLayout) {}

  /** True when the layout keeps only layer inputs (a trainable model with `recompute`). */
  get recomputes(): boolean {
    return this.L.recompute && this.L.trainable;
  }

  /** Whether the pass in progress is a training pass. */
  get training(): boolean {
    return this.pass.train;
  }

  /** Starts a forward pass in `slot` for N tokens: grows the slot (and the scratch when needed). */
  begin(slotName: string, N: number, train: boolean): void {
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = this.L.config;
    const dropout = this.L.trainable && this.L.lora !== null && this.L.lora.dropout > 0;
    let slot = this.slots.get(slotName);
    if (!slot || N > slot.tokens) {
      const specs: ArenaSpec[] = [];
      for (let l = 0; l < (this.L.trainable ? this.L.config.numLayers : 1); l++) {
        if (!this.recomputes) { specs.push(...this.layerSpecs(`L${l}.`, N, dropout)); continue; }
        specs.push({ name: `L${l}.x`, shape: [N, C] });
        if (dropout) for (const lin of this.adapted()) specs.push(dropSpec(`L${l}.`, lin.module, lin.in, N));
      }
      specs.push({ name: 'xf', shape: [N, C] }, { name: 'hidden', shape: [N, C] }, { name: 'rstdf', shape: [N] });
      this.slots.delete(slotName); // let the old arena go before allocating the new one
      slot = { act: new Arena(specs), tokens: N, saved: null };
      this.slots.set(slotName, slot);
    }
    if ((train || this.recomputes) && N > this.scratchTokens) {
      const maxIn = Math.max(C, H * D, F);
      const specs: ArenaSpec[] = [
        { name: 'd.x', shape: [N, C] }, { name: 'd.h', shape: [N, C] }, { name: 'd.att', shape: [N, H * D] },
        { name: 'd.q', shape: [N, H * D] }, { name: 'd.k', shape: [N, KVH * D] }, { name: 'd.v', shape: [N, KVH * D] },
        ...(this.L.config.qkNorm ? [{ name: 'd.qr', shape: [N, H * D] }, { name: 'd.kr', shape: [N, KVH * D] }] : []),
        { name: 'd.gate', shape: [N, F] }, { name: 'd.up', shape: [N, F] }, { name: 'd.a', shape: [N, F] },
      ];
      if (this.L.lora) specs.push({ name: 'd.u', shape: [N, this.L.lora.r] });
      if (dropout) specs.push({ name: 's.xd', shape: [N, maxIn] }, { name: 'd.xd', shape: [N, maxIn] });
      if (this.recomputes) specs.push(...this.layerSpecs('w.', N, false).filter((x) => x.name !== 'w.x'));
      this.scratch = null;
      this.scratch = new Arena(specs);
      this.scratchTokens = N;
    }
    this.cur = slot;
    this.pass = { train, recompute: this.recomputes };
  }

  /** Records what the forward pass in progress leaves for backward (null: nothing, an inference pass). */
  save(saved: SavedPass<B> | null): void {
    this.cur!.saved = saved;
  }

  /** Starts the backward pass of slot `slotName`; returns its saved forward, or null when there is none. */
  resume(slotName: string): SavedPass<B> | null {
    const slot = this.slots.get(slotName);
    if (!slot?.saved) return null;
    this.cur = slot;
    this.pass = { train: true, recompute: this.recomputes };
    return slot.saved;
  }

  /**
   * Arena name of activation `field` of layer `l` in the pass in progress: inference shares layer 0's set;
   * training keeps a set per layer; the recompute layout keeps only each layer's input `x` and its dropout
   * masks (inference: layer 0's), everything else in the shared work set `w.`.
   */
  name(l: number, field: string): string {
    if (this.pass.recompute && field !== 'x' && !field.endsWith('.drop')) return `w.${field}`;
    return `L${this.pass.train ? l : 0}.${field}`;
  }

  /**
   * Tensor `name` for the current batch of N tokens (its first N rows): scratch and the recompute work set
   * (`d.*`, `s.*`, `w.*`) from the shared arena, everything else from the current slot.
   */
  get(name: string, N: number): Float32Array {
    const shared = name.startsWith('d.') || name.startsWith('s.') || name.startsWith('w.');
    const a = shared ? this.scratch! : this.cur!.act;
    const shape = a.shape(name);
    const per = shape.length > 1 ? shape.slice(1).reduce((x, y) => x * y, 1) : shape[0]! / (shared ? this.scratchTokens : this.cur!.tokens);
    return a.prefix(name, N * per);
  }

  /** Activation `field` of layer `l` for N tokens (`get(name(l, field), N)`). */
  at(l: number, field: string, N: number): Float32Array {
    return this.get(this.name(l, field), N);
  }

  /** Bytes held by slot `slotName` (0 when it does not exist) and by the shared scratch. */
  bytes(slotName: string): { slot: number; scratch: number } {
    return { slot: this.slots.get(slotName)?.act.bytes ?? 0, scratch: this.scratch?.bytes ?? 0 };
  }

  /** Frees every slot and the scratch (they are reallocated by the next forward). */
  release(): void {
    this.slots.clear();
    this.cur = null;
    this.scratch = null;
    this.scratchTokens = 0;
  }

  private adapted(): { module: string; in: number }[] {
    const lora = this.L.lora;
    return lora ? this.L.linears.filter((lin) => lora.targets.includes(targetOf(lin.module))) : [];
  }

  private layerSpecs(pre: string, N: number, dropout: boolean): ArenaSpec[] {
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = this.L.config;
    const s: ArenaSpec[] = [
      { name: pre + 'x', shape: [N, C] }, { name: pre + 'h1', shape: [N, C] }, { name: pre + 'rstd1', shape: [N] },
      { name: pre + 'q', shape: [N, H * D] }, { name: pre + 'k', shape: [N, KVH * D] }, { name: pre + 'v', shape: [N, KVH * D] },
      { name: pre + 'att', shape: [N, H * D] }, { name: pre + 'lse', shape: [N * H] },
      // Qwen3: q and k before their per-head RMSNorm, and its statistics
      ...(this.L.config.qkNorm ? [{ name: pre + 'qr', shape: [N, H * D] }, { name: pre + 'kr', shape: [N, KVH * D] },
        { name: pre + 'rstdq', shape: [N, H] }, { name: pre + 'rstdk', shape: [N, KVH] }] : []),
      { name: pre + 'x2', shape: [N, C] }, { name: pre + 'h2', shape: [N, C] }, { name: pre + 'rstd2', shape: [N] },
      { name: pre + 'gate', shape: [N, F] }, { name: pre + 'up', shape: [N, F] }, { name: pre + 'a', shape: [N, F] },
    ];
    for (const lin of this.adapted()) {
      s.push({ name: `${pre}${lin.module}.u`, shape: [N, this.L.lora!.r] });
      if (dropout) s.push(dropSpec(pre, lin.module, lin.in, N));
    }
    return s;
  }
}

/** Keep-mask bytes (N, in) of one adapted linear, stored in float slots of 4 bytes each. */
function dropSpec(pre: string, module: string, inF: number, N: number): ArenaSpec {
  return { name: `${pre}${module}.drop`, shape: [N, Math.ceil(inF / 4)] };
}
