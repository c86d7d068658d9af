/**
 * PEFT LoRA adapters on disk: `adapter_config.json` + `adapter_model.safetensors`, with peft's key names, so
 * an adapter Lion trains loads in Python peft and the released Lion-SP/DS adapters load in Lion (spec §9).
 *
 * Key layouts (peft prefixes the wrapped model's own key with `base_model.model.`):
 *   sparse  (adapter over …ForCausalLM / LlamaBiForMNTP): base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight
 *   dense   (adapter over …Model / LlamaBiModel):         base_model.model.layers.N.self_attn.q_proj.lora_A.weight
 * Inside Lion both map to `model.layers.N.self_attn.q_proj.lora_A.weight` (src/model/lora.ts; the config type and its checks are src/io/lora-config.ts). An adapter
 * name segment (`lora_A.default.weight`) is accepted on read. Only plain LoRA is read: rsLoRA, DoRA, per-layer
 * rank/alpha patterns and LoRA biases are ModelErrors. `adapter_model.bin` (PyTorch zip format) is read through
 * the restricted unpickler of src/io/torchbin.ts when there is no safetensors file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, ModelError, NotFoundError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { PatternError, SafeRegex } from '../util/safe-regex.js';
import { readSafetensorsHeader, writeSafetensors, type TensorInfo } from './safetensors.js';
import { readTorchCheckpoint } from './torchbin.js';
import { LORA_TARGETS, validateLora, type LoraConfig, type LoraTarget } from './lora-config.js';

/** Which wrapped model the keys name: sparse = …ForCausalLM (`model.` kept), dense = headless …Model. */
export type AdapterLayout = 'sparse' | 'dense';

/** An adapter's config and where each of its tensors lives (read lazily into the model's arena). */
export interface PeftAdapter {
  dir: string;
  lora: LoraConfig;
  /** `base_model_name_or_path`, as written. */
  baseModel: string | null;
  layout: AdapterLayout;
  /** Lion name (`model.layers.N.….lora_A.weight`) → tensor in the adapter file. */
  tensors: Map<string, TensorInfo>;
  /** adapter_config.json as read. */
  raw: Record<string, unknown>;
}

/** Reads an adapter directory's config and tensor headers. */
export function readPeftAdapter(dir: string): PeftAdapter {
  const cfgFile = join(dir, 'adapter_config.json');
  if (!existsSync(cfgFile)) throw new NotFoundError('adapter_config.json not found', { file: cfgFile, hint: 'point at a PEFT adapter directory' });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new FormatError('adapter_config.json is not valid JSON', { file: cfgFile, cause: e });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FormatError('adapter_config.json is not a JSON object', { file: cfgFile });
  const lora = loraFromConfig(raw, cfgFile);
  const st = join(dir, 'adapter_model.safetensors'), bin = join(dir, 'adapter_model.bin');
  const weights = existsSync(st) ? st : bin;
  if (!existsSync(weights)) throw new NotFoundError('adapter_model.safetensors (or adapter_model.bin) not found', { file: st });
  // adapter_model.bin: PyTorch zip checkpoint, read by the restricted unpickler (nothing is executed)
  const header = weights === st ? readSafetensorsHeader(st) : readTorchCheckpoint(bin);
  const tensors = new Map<string, TensorInfo>();
  let layout: AdapterLayout | null = null;
  for (const [key, info] of header.tensors) {
    const m = /^base_model\.model\.(.+)\.(lora_[AB])(?:\.[^.]+)?\.weight$/.exec(key);
    if (!m) throw new ModelError(`tensor ${key} is not a LoRA A/B weight under base_model.model.`, { file: weights, field: key });
    let module = m[1]!;
    let kind: AdapterLayout;
    if (module.startsWith('model.layers.')) kind = 'sparse';
    else if (module.startsWith('layers.')) { kind = 'dense'; module = 'model.' + module; }
    else throw new ModelError(`tensor ${key} does not adapt a decoder layer`, { file: weights, field: key });
    if (layout && layout !== kind) throw new ModelError(`tensor ${key} mixes the sparse and dense key layouts`, { file: weights, field: key });
    layout = kind;
    tensors.set(`${module}.${m[2]}.weight`, info);
  }
  if (!layout) throw new ModelError('the adapter holds no LoRA tensors', { file: weights });
  const base = raw['base_model_name_or_path'];
  return { dir, lora, baseModel: typeof base === 'string' ? base : null, layout, tensors, raw };
}

/** peft LoraConfig → Lion LoraConfig, refusing what Lion does not compute. */
export function loraFromConfig(raw: Record<string, unknown>, file: string): LoraConfig {
  const fail = (field: string, msg: string): never => { throw new ModelError(msg, { file, field }); };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new FormatError('adapter_config.json is not a JSON object', { file });
  if (raw['peft_type'] !== undefined && raw['peft_type'] !== 'LORA') fail('peft_type', `peft_type ${JSON.stringify(raw['peft_type'])} is not LORA`);
  const r = raw['r'], alpha = raw['lora_alpha'] ?? r, dropout = raw['lora_dropout'] ?? 0;
  if (typeof r !== 'number') fail('r', '"r" must be a number');
  if (typeof alpha !== 'number') fail('lora_alpha', '"lora_alpha" must be a number');
  if (typeof dropout !== 'number') fail('lora_dropout', '"lora_dropout" must be a number');
  if (raw['use_rslora'] === true) fail('use_rslora', 'rsLoRA adapters are not supported');
  if (raw['use_dora'] === true) fail('use_dora', 'DoRA adapters are not supported');
  if (raw['fan_in_fan_out'] === true) fail('fan_in_fan_out', 'fan_in_fan_out adapters are not supported');
  for (const f of ['rank_pattern', 'alpha_pattern']) {
    const v = raw[f];
    if (v && typeof v === 'object' && Object.keys(v).length > 0) fail(f, `per-module ${f} is not supported`);
  }
  if (raw['bias'] !== undefined && raw['bias'] !== 'none') fail('bias', `bias "${String(raw['bias'])}" is not supported (only "none")`);
  let targets = raw['target_modules'];
  if (typeof targets === 'string') {
    // peft full-matches a string against every module key. The pattern comes from a file, so it runs on a
    // matcher that cannot backtrack (src/util/safe-regex.ts): `(.*.*)*X` costs microseconds, not forever.
    let re: SafeRegex;
    try { re = new SafeRegex(targets); } catch (e) {
      if (e instanceof PatternError) fail('target_modules', `"target_modules" is not a usable pattern: ${e.message}`);
      throw e;
    }
    targets = LORA_TARGETS.filter((t) => {
      const path = `layers.0.${t.endsWith('_proj') && 'qkvo'.includes(t[0]!) && t.length === 6 ? 'self_attn' : 'mlp'}.${t}`;
      return re!.fullMatch(path) || re!.fullMatch('model.' + path) || re!.fullMatch(t);
    });
  }
  if (!Array.isArray(targets) || targets.length === 0) fail('target_modules', '"target_modules" must list the adapted modules');
  const list = targets as unknown[];
  if (!list.every((t) => typeof t === 'string')) fail('target_modules', '"target_modules" must be a list of module names (strings) or one pattern');
  const bad = (list as string[]).filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (bad.length) fail('target_modules', `target modules ${bad.join(', ')} are not Llama linear layers (${LORA_TARGETS.join(', ')})`);
  const lora: LoraConfig = { r: r as number, alpha: alpha as number, dropout: dropout as number, targets: list as LoraTarget[] };
  if (!Number.isSafeInteger(lora.r) || lora.r < 1 || lora.r > 65536) fail('r', `"r" must be an integer in [1, 65536], got ${lora.r}`);
  if (!Number.isFinite(lora.alpha) || !Number.isFinite(lora.dropout) || lora.dropout < 0 || lora.dropout >= 1) fail('lora_alpha', 'lora_alpha must be finite and lora_dropout in [0, 1)');
  validateLora(lora, file);
  return lora;
}

/** Options for writing an adapter. */
export interface WritePeftOptions {
  layout: AdapterLayout;
  /** Recorded as `base_model_name_or_path`. */
  baseModel: string;
  /** The tensors, by Lion name (`model.layers.N.….lora_A.weight`), with their shapes. */
  tensors: { name: string; value: Float32Array; shape: readonly number[] }[];
  lora: LoraConfig;
  /** peft `task_type` (null for a bare model). */
  taskType?: string | null;
}

/** peft's key for a Lion LoRA tensor name in the given layout. */
export function peftKey(name: string, layout: AdapterLayout): string {
  return 'base_model.model.' + (layout === 'dense' ? name.slice('model.'.length) : name);
}

/** Writes `adapter_config.json` and `adapter_model.safetensors` (float32) atomically into `dir`. */
export async function writePeftAdapter(dir: string, opts: WritePeftOptions): Promise<void> {
  const { lora } = opts;
  await writeSafetensors(join(dir, 'adapter_model.safetensors'),
    opts.tensors.map((t) => ({ name: peftKey(t.name, opts.layout), shape: t.shape, data: t.value })));
  const config = {
    peft_type: 'LORA',
    task_type: opts.taskType ?? null,
    base_model_name_or_path: opts.baseModel,
    r: lora.r,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    target_modules: [...lora.targets],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_rslora: false,
    use_dora: false,
    rank_pattern: {},
    alpha_pattern: {},
  };
  await writeFileAtomic(join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
}
