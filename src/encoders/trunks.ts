/**
 * One seam over the two trunk families, for inference: a decoder (Llama, Qwen2, Mistral; src/model/llama.ts,
 * LM head tied or not) and a BERT-family encoder (src/model/bert.ts, MLM head with its transform). Both give
 * final hidden states (B, T, C) and a SPLADE representation (B, V) pooled by max (fused kernel) or sum, so the
 * simple API (src/api/) and the pipeline (src/encoders/load.ts) choose a family once and never branch on it again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { readHfConfig } from '../io/hfconfig.js';
import type { Kernels } from '../kernels/types.js';
import { isBertConfig, loadBertModel, type BertModel } from '../model/bert.js';
import { loadModel, resolveAdapterBase } from '../model/checkpoint.js';
import type { LlamaModel, TokenBatch } from '../model/llama.js';
import type { DtypeRequest } from '../model/precision.js';
import { resolveModelDir } from '../util/hfcache.js';
import { sparseHeadScaled } from './sparse.js';

export type TrunkFamily = 'decoder' | 'bert';

/** A loaded trunk (and head) ready to encode. */
export interface Trunk {
  readonly family: TrunkFamily;
  readonly hiddenSize: number; // C
  readonly vocabSize: number; // V
  readonly kernels: Kernels;
  /** The decoder model itself (what the head types of registry.ts run on); undefined for other families. */
  readonly decoder: LlamaModel | undefined;
  /** Final hidden states (B, T, C), valid until the next call. */
  hidden(batch: TokenBatch): Float32Array;
  /** log1p(relu(s·logits)) pooled over real tokens by max or sum: (B, V). Needs the LM/MLM head. */
  sparse(batch: TokenBatch, pooling: 'max' | 'sum', scale: number): Float32Array;
}

/** Where a model's files are: the weights folder, an optional adapter, and the folder with tokenizer.json. */
export interface ModelLocation {
  base: string;
  adapter?: string;
  tokenizer: string;
  /** The folder whose sentence-transformers files describe the encoder (the adapter's or the base's). */
  configDir: string;
}

/**
 * Resolves a model folder, a cached hub id, or a PEFT adapter folder (its base from base_model_name_or_path,
 * itself a folder or a cached hub id; or `base` given explicitly).
 */
export function locateModel(nameOrDir: string, opts: { adapter?: string; base?: string; revision?: string } = {}): ModelLocation {
  const dir = resolveModelDir(nameOrDir, { revision: opts.revision });
  let base = dir, adapter = opts.adapter ? resolveModelDir(opts.adapter) : undefined;
  if (!adapter && existsSync(join(dir, 'adapter_config.json'))) adapter = dir;
  if (adapter && adapter === dir) base = resolveAdapterBase(adapter, opts.base);
  const tokenizer = adapter && existsSync(join(adapter, 'tokenizer.json')) ? adapter : base;
  return { base, adapter, tokenizer, configDir: adapter ?? base };
}

class DecoderTrunk implements Trunk {
  readonly family = 'decoder' as const;
  constructor(readonly model: LlamaModel) {}
  get hiddenSize(): number { return this.model.config.hiddenSize; }
  get vocabSize(): number { return this.model.config.vocabSize; }
  get kernels(): Kernels { return this.model.k; }
  get decoder(): LlamaModel { return this.model; }
  hidden(batch: TokenBatch): Float32Array { return this.model.forward(batch, { train: false }); }
  sparse(batch: TokenBatch, pooling: 'max' | 'sum', scale: number): Float32Array {
    const m = this.model, { hiddenSize: C, vocabSize: V } = m.config, { B, T, mask } = batch;
    const h = this.hidden(batch);
    const rep = new Float32Array(B * V);
    if (pooling === 'max') {
      sparseHeadScaled(m, rep, new Int32Array(B * V), h, mask, B, T, scale);
      return rep;
    }
    const rows = Math.max(1, Math.floor((4 << 20) / V));
    const logits = new Float32Array(rows * V);
    for (let i0 = 0; i0 < B * T; i0 += rows) {
      const n = Math.min(rows, B * T - i0);
      m.lmHeadForward(logits, h.subarray(i0 * C, (i0 + n) * C), n);
      for (let r = 0; r < n; r++) {
        if (!mask[i0 + r]) continue;
        const o = Math.floor((i0 + r) / T) * V;
        for (let u = 0; u < V; u++) { const z = scale * logits[r * V + u]!; if (z > 0) rep[o + u] = rep[o + u]! + Math.log1p(z); }
      }
    }
    return rep;
  }
}

class BertTrunk implements Trunk {
  readonly family = 'bert' as const;
  constructor(readonly model: BertModel) {}
  get hiddenSize(): number { return this.model.config.hiddenSize; }
  get vocabSize(): number { return this.model.config.vocabSize; }
  get kernels(): Kernels { return this.model.k; }
  readonly decoder = undefined;
  hidden(batch: TokenBatch): Float32Array { return this.model.forward(batch); }
  sparse(batch: TokenBatch, pooling: 'max' | 'sum', scale: number): Float32Array { return this.model.sparseRep(batch, pooling, scale); }
}

/** Loads the trunk at `loc`; `withHead` keeps the LM/MLM head (sparse), `causal` picks decoder attention. */
export function loadTrunk(loc: ModelLocation, opts: { withHead: boolean; causal?: boolean; kernels?: Kernels; dtype?: DtypeRequest }): Trunk {
  if (isBertConfig(readHfConfig(loc.base))) {
    if (loc.adapter) throw new ModelError('LoRA adapters are read for decoder models only, not BERT encoders', { file: join(loc.adapter, 'adapter_config.json') });
    if (opts.dtype !== undefined && opts.dtype !== 'fp32' && opts.dtype !== 'auto') throw new ModelError(`BERT encoders run in fp32 (dtype ${opts.dtype} is for decoders)`, { file: join(loc.base, 'config.json'), field: 'dtype' });
    return new BertTrunk(loadBertModel(loc.base, { withHead: opts.withHead, kernels: opts.kernels }));
  }
  return new DecoderTrunk(loadModel(loc.base, {
    adapter: loc.adapter, merge: Boolean(loc.adapter), withHead: opts.withHead, trainable: 'none',
    bidirectional: !(opts.causal ?? false), kernels: opts.kernels, dtype: opts.dtype,
  }));
}
