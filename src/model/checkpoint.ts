/**
 * Loading and saving models in Hugging Face layout: a base directory (`config.json`, `model.safetensors` or
 * shards + `model.safetensors.index.json`) and optionally a PEFT adapter directory (spec §9 loading path:
 * read the adapter's `base_model_name_or_path`, load the base, load A and B, merge with s = alpha/r).
 *
 * Every weight is read straight into its final storage (src/io/safetensors.ts): an fp32 arena slot, or for a
 * bf16/int8 model (`dtype`) its bf16 bits or int8 values (src/model/reduced.ts), so loading a model needs its
 * size in that dtype plus a 4 MiB scratch buffer — a BF16 checkpoint loaded as bf16 is copied byte for byte,
 * never widened. int8 tensors are quantised row block by row block as they stream in (from the bf16 copy
 * when the tensor keeps one). Every expected tensor must be present with the right shape; tensors the trunk
 * does not use are an error (a wrong architecture), except the ones listed in IGNORED.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError, NotFoundError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { resolveModelDir } from '../util/hfcache.js';
import {
  readTensorBf16Into, readTensorChunks, readTensorInto, writeSafetensors, type SafetensorsIndex, type TensorInfo, type TensorToWrite,
} from '../io/safetensors.js';
import { isTorchTensor, readWeight } from '../io/torchbin.js';
import { openWeights } from '../io/weights.js';
import { readPeftAdapter, writePeftAdapter, type AdapterLayout, type PeftAdapter } from '../io/peft.js';
import { getKernels } from '../kernels/index.js';
import { LlamaModel, type ModelOptions } from './llama.js';
import type { LoraConfig } from '../io/lora-config.js';
import { resolveDtype, type DtypeRequest } from './precision.js';
import { checkpointKeys, loadModelConfig, parameterSpecs, toHfConfig } from './registry.js';

/** Checkpoint tensors that carry nothing the trunk needs. */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

export interface LoadOptions extends Omit<ModelOptions, 'lora' | 'dtype'> {
  /** A PEFT adapter directory to load on top of the base. */
  adapter?: string;
  /**
   * Fold the adapter into the base weights after loading (inference; spec §9). Default false. An int8 model
   * keeps its adapter unmerged (the adapter path runs in fp32 beside the int8 product).
   */
  merge?: boolean;
  /** Branch, tag or commit of a model named by hub id in the local Hugging Face cache (default main). */
  revision?: string;
  /** A fresh LoRA adapter (initialised from `seed` as peft does) when no `adapter` directory is given. */
  lora?: LoraConfig | null;
  /** Storage of the base matrices: fp32 (default), bf16, int8, or 'auto' (`defaultDtype` of the kernels). */
  dtype?: DtypeRequest;
}

/** Reads tensors into the model's storage, one open file descriptor per shard. */
function readAll(model: LlamaModel, jobs: { info: TensorInfo; name: string }[]): void {
  const fds = new Map<string, number>();
  try {
    for (const { info, name } of jobs) {
      let fd = fds.get(info.file);
      if (fd === undefined) { fd = openSync(info.file, 'r'); fds.set(info.file, fd); }
      if (isTorchTensor(info) && !info.torch.direct) readGathered(model, name, info);
      else if (model.isReduced(name)) readReduced(model, name, info, fd);
      else readTensorInto(info, model.param(name), fd);
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

/** A strided or deflated tensor of a PyTorch checkpoint: gathered into float32, then stored as the model keeps it. */
function readGathered(model: LlamaModel, name: string, info: TensorInfo): void {
  const f = readWeight(info);
  if (!model.isReduced(name)) { model.param(name).set(f); return; }
  const t = model.reduced.get(name);
  const [rows, K] = t.shape;
  if (t.bf16) {
    model.k.toBf16(t.bf16, f, f.length);
    if (t.q) model.k.quantizeInt8(t.q, t.scale!, t.bf16, rows, K);
  } else model.k.quantizeInt8(t.q!, t.scale!, f, rows, K);
}

/** One reduced tensor: bf16 bits in place, then (int8) quantised from them, or quantised as rows stream in. */
function readReduced(model: LlamaModel, name: string, info: TensorInfo, fd: number): void {
  const t = model.reduced.get(name);
  const [rows, K] = t.shape;
  if (t.bf16) {
    readTensorBf16Into(info, t.bf16, fd);
    if (t.q) model.k.quantizeInt8(t.q, t.scale!, t.bf16, rows, K);
    return;
  }
  readTensorChunks(info, K, (chunk, start) => {
    const r0 = start / K, n = chunk.length / K;
    model.k.quantizeInt8(t.q!.subarray(start, start + chunk.length), t.scale!.subarray(r0, r0 + n), chunk, n, K);
  }, fd);
}

function checkShape(info: TensorInfo, want: readonly number[], name: string): void {
  if (info.shape.length !== want.length || info.shape.some((d, i) => d !== want[i])) {
    throw new ModelError(`tensor ${info.name} has shape [${info.shape.join(', ')}], config.json implies [${want.join(', ')}] for ${name}`,
      { file: info.file, field: info.name });
  }
}

/** Base weights of `model` from checkpoint `ckpt` (found in directory `dir`). */
function loadBase(model: LlamaModel, ckpt: SafetensorsIndex, dir: string): void {
  const used = new Set<string>();
  const jobs: { info: TensorInfo; name: string }[] = [];
  const withHead = model.hasParam('lm_head.weight');
  for (const spec of parameterSpecs(model.config, withHead)) {
    const key = checkpointKeys(spec.name).find((k) => ckpt.tensors.has(k));
    if (key === undefined) {
      throw new ModelError(`tensor ${spec.name} (shape [${spec.shape.join(', ')}]) is missing from the checkpoint`,
        { file: ckpt.files.length === 1 ? ckpt.files[0] : dir, field: spec.name });
    }
    const info = ckpt.tensors.get(key)!;
    checkShape(info, spec.shape, spec.name);
    used.add(key);
    jobs.push({ info, name: spec.name });
  }
  for (const [key, info] of ckpt.tensors) {
    if (used.has(key) || IGNORED.test(key)) continue;
    // a tied or headless model may meet an lm_head it does not use
    if (key === 'lm_head.weight' && (model.config.tieWordEmbeddings || !withHead)) continue;
    throw new ModelError(`tensor ${key} is not part of a ${model.config.modelType} model with this config.json`, { file: info.file, field: key });
  }
  readAll(model, jobs);
}

/** Loads the adapter's A and B matrices into a model built with the adapter's LoRA config. */
export function loadAdapterInto(model: LlamaModel, adapter: PeftAdapter): void {
  const jobs: { info: TensorInfo; name: string }[] = [];
  const want = new Set<string>();
  for (const p of model.parameters()) {
    if (!p.name.includes('.lora_')) continue;
    want.add(p.name);
    const info = adapter.tensors.get(p.name);
    if (!info) throw new ModelError(`LoRA tensor ${p.name} is missing from the adapter`, { file: join(adapter.dir, 'adapter_model.safetensors'), field: p.name });
    checkShape(info, p.shape, p.name);
    jobs.push({ info, name: p.name });
  }
  for (const [name, info] of adapter.tensors) {
    if (!want.has(name)) throw new ModelError(`tensor ${info.name} adapts a module this model does not have`, { file: info.file, field: info.name });
  }
  readAll(model, jobs);
}

/**
 * Loads a model from a Hugging Face directory (or a hub id cached locally), optionally with a PEFT adapter on top.
 *
 * @example
 * ```ts
 * const m = loadModel('Llama-3.2-1B', { adapter: 'Lion-SP-1B-llama3-marco-mntp', merge: true });
 * const hidden = m.forward(batch, { train: false }); // (B, T, C)
 * ```
 */
export function loadModel(nameOrDir: string, opts: LoadOptions = {}): LlamaModel {
  const dir = resolveModelDir(nameOrDir, { revision: opts.revision });
  const config = loadModelConfig(dir);
  const ckpt = openWeights(dir);
  const adapter = opts.adapter ? readPeftAdapter(resolveModelDir(opts.adapter)) : null;
  const merge = opts.merge ?? false;
  const kernels = opts.kernels ?? getKernels();
  const lora = adapter?.lora ?? opts.lora ?? null;
  const model = new LlamaModel(config, {
    bidirectional: opts.bidirectional, withHead: opts.withHead, kernels, seed: opts.seed,
    lora, trainable: opts.trainable ?? (merge || !lora ? 'none' : 'lora'),
    dtype: resolveDtype(opts.dtype, kernels), precision: opts.precision, recompute: opts.recompute, freeze: opts.freeze,
  });
  loadBase(model, ckpt, dir);
  if (adapter) {
    loadAdapterInto(model, adapter);
    if (merge && model.dtype !== 'int8') model.mergeLora();
  }
  return model;
}

/**
 * The base directory an adapter names (`base_model_name_or_path`), resolved against the adapter directory
 * when relative, else looked up as a hub id in the local Hugging Face cache (src/util/hfcache.ts); `override`
 * wins. A base found nowhere is a NotFoundError saying where Lion looked.
 */
export function resolveAdapterBase(adapterDir: string, override?: string): string {
  if (override) return resolveModelDir(override);
  const a = readPeftAdapter(adapterDir);
  const base = a.baseModel;
  if (!base) throw new ModelError('adapter_config.json names no base_model_name_or_path', { file: join(adapterDir, 'adapter_config.json'), field: 'base_model_name_or_path' });
  try {
    // a path relative to the adapter folder or the working directory, else a hub id in the local HF cache
    return resolveModelDir(base, { relativeTo: adapterDir });
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    throw new NotFoundError(`base model: ${e.message}`, {
      file: join(adapterDir, 'adapter_config.json'), field: 'base_model_name_or_path',
      hint: `${e.hint}; or pass the base folder explicitly`,
    });
  }
}

/** Loads an adapter directory together with the base it names (spec §9), merged by default. */
export function loadAdapterModel(adapterDir: string, opts: LoadOptions & { base?: string } = {}): LlamaModel {
  const { base, ...rest } = opts;
  return loadModel(resolveAdapterBase(adapterDir, base), { merge: true, ...rest, adapter: adapterDir });
}

/** How `saveModel` writes the base weights. */
export interface SaveOptions {
  /** Stored dtype (default F32). */
  dtype?: 'F32' | 'BF16';
  /**
   * Largest shard in bytes (default: one file). Larger models are cut, in parameter order, into
   * `model-0000i-of-0000n.safetensors` plus `model.safetensors.index.json`, as Hugging Face shards them.
   */
  maxShardBytes?: number;
}

/** Writes `config.json` and the base weights (one file or shards + index) atomically into `dir`. */
export async function saveModel(model: LlamaModel, dir: string, opts: SaveOptions | 'F32' | 'BF16' = {}): Promise<void> {
  const o: SaveOptions = typeof opts === 'string' ? { dtype: opts } : opts;
  const dtype = o.dtype ?? 'F32';
  const bytes = dtype === 'F32' ? 4 : 2;
  const base: TensorToWrite[] = model.parameterNames().filter((n) => !n.includes('.lora_')).map((name) => {
    const w = model.weight(name), shape = model.paramShape(name);
    if (w.dtype === 'fp32') return { name, shape, data: w.w, dtype };
    if (w.dtype === 'int8') throw new ModelError(`${name} is held in int8; save from a model loaded in fp32 or bf16`, { file: dir, field: name });
    if (dtype === 'BF16') return { name, shape, data: w.w };
    const wide = new Float32Array(w.w.length); // an F32 copy of a bf16 tensor, one tensor at a time
    model.k.fromBf16(wide, w.w, w.w.length);
    return { name, shape, data: wide, dtype };
  });
  const total = base.reduce((a, t) => a + t.data.length * bytes, 0);
  const max = o.maxShardBytes ?? Infinity;
  if (total <= max) {
    await writeSafetensors(join(dir, 'model.safetensors'), base);
  } else {
    const shards: (typeof base)[] = [[]];
    let size = 0;
    for (const t of base) {
      const b = t.data.length * bytes;
      if (size > 0 && size + b > max) { shards.push([]); size = 0; }
      shards[shards.length - 1]!.push(t);
      size += b;
    }
    const pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    for (let i = 0; i < shards.length; i++) {
      const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
      await writeSafetensors(join(dir, file), shards[i]!);
      for (const t of shards[i]!) weightMap[t.name] = file;
    }
    await writeFileAtomic(join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
  }
  const hf = { ...toHfConfig(model.config), torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float32' };
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(hf, null, 2) + '\n');
}

/** Writes the model's LoRA adapter in peft's layout (sparse: over …ForCausalLM; dense: over the bare model). */
export async function saveAdapter(model: LlamaModel, dir: string, opts: { layout: AdapterLayout; baseModel: string }): Promise<void> {
  if (!model.lora) throw new ModelError('the model has no LoRA adapter to save');
  if (model.merged) throw new ModelError('the adapter is merged into the base; unmerge it before saving');
  const tensors = model.parameters().filter((p) => p.name.includes('.lora_'));
  await writePeftAdapter(dir, { ...opts, tensors, lora: model.lora, taskType: opts.layout === 'sparse' ? 'CAUSAL_LM' : null });
}
