/**
 * The model registry: architecture differences as data (DESIGN.md rule 6). Each supported `model_type` has
 * a normaliser from Hugging Face `config.json` to `ModelConfig`, the one shape the trunk (llama.ts) reads;
 * `parameterSpecs` lists the weights of a config under their Hugging Face names, and `checkpointKeys` says
 * which keys of a checkpoint may hold each one. An unknown `model_type` is a ModelError.
 *
 * Supported: `llama` (Llama 2/3/3.1/3.2, optional `head_dim`, `attention_bias`, `mlp_bias`, Llama-3
 * `rope_scaling`), `mistral` (the Llama block), `qwen2` (q/k/v biases, no o_proj bias, no sliding window) and
 * `qwen3` (per-head q/k RMSNorm before RoPE, explicit head_dim).
 * BERT-family encoders are a separate trunk (src/model/bert.ts).
 */
import { boolField, idField, intField, numField, readHfConfig, type HfConfig } from '../io/hfconfig.js';
import { ModelError } from '../errors.js';
import { ropeScalingFromConfig, type RopeScaling } from '../kernels/index.js';

/** Normalised decoder config: every field the trunk needs, whatever the architecture. */
export interface ModelConfig {
  modelType: string;
  vocabSize: number; // V
  hiddenSize: number; // C
  numLayers: number; // L
  numHeads: number; // H
  numKvHeads: number; // KVH
  headDim: number; // D
  intermediateSize: number; // F
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Biases on q_proj, k_proj, v_proj (Qwen2; Llama with `attention_bias`). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama with `attention_bias` only). */
  oBias: boolean;
  /** Biases on gate/up/down (Llama `mlp_bias`). */
  mlpBias: boolean;
  /** RMSNorm over each head of q and k before RoPE, weights (D) (Qwen3 `q_norm`/`k_norm`). */
  qkNorm?: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

interface Entry {
  normalise(cfg: HfConfig): ModelConfig;
}

function common(cfg: HfConfig): ModelConfig {
  const act = cfg.raw['hidden_act'] ?? 'silu';
  if (act !== 'silu') throw new ModelError(`hidden_act "${String(act)}" is not supported (Llama/Qwen2 use silu)`, { file: cfg.file, field: 'hidden_act' });
  const hiddenSize = intField(cfg, 'hidden_size');
  const numHeads = intField(cfg, 'num_attention_heads');
  const numKvHeads = intField(cfg, 'num_key_value_heads', numHeads);
  const headDim = cfg.raw['head_dim'] == null ? hiddenSize / numHeads : intField(cfg, 'head_dim');
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new ModelError(`head_dim ${headDim} must be an even integer`, { file: cfg.file, field: 'head_dim' });
  if (numHeads % numKvHeads !== 0) throw new ModelError(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`, { file: cfg.file, field: 'num_key_value_heads' });
  return checkBounds(cfg, {
    modelType: String(cfg.raw['model_type']),
    vocabSize: intField(cfg, 'vocab_size'),
    hiddenSize,
    numLayers: intField(cfg, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: intField(cfg, 'intermediate_size'),
    rmsNormEps: numField(cfg, 'rms_norm_eps', 1e-6),
    ropeTheta: numField(cfg, 'rope_theta', 10000),
    ropeScaling: ropeScalingFromConfig(cfg.raw['rope_scaling'], cfg.file),
    maxPositionEmbeddings: intField(cfg, 'max_position_embeddings', 2048),
    tieWordEmbeddings: boolField(cfg, 'tie_word_embeddings', false),
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    qkNorm: false,
    bosTokenId: idField(cfg, 'bos_token_id'),
    eosTokenId: idField(cfg, 'eos_token_id'),
  });
}

/**
 * Sane limits on every size in config.json, checked before anything is allocated: a config that claims a
 * billion layers or a negative epsilon is a ModelError naming the field, not an out-of-memory crash or a model
 * that silently computes NaN. The limits are far above any Llama/Qwen2 checkpoint (405B: 126 layers, 16384
 * hidden, 53248 intermediate, 128256 vocabulary).
 */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 22, hidden_size: 1 << 16, num_hidden_layers: 1024, num_attention_heads: 1024,
  num_key_value_heads: 1024, head_dim: 1024, intermediate_size: 1 << 20, max_position_embeddings: 1 << 24,
  /** Parameters in all (float32 arena): 2^36 (~69 billion). */
  parameters: 2 ** 36,
} as const;

function checkBounds(cfg: HfConfig, c: ModelConfig): ModelConfig {
  const fail = (field: string, what: string) => new ModelError(`config field "${field}" ${what}`, { file: cfg.file, field });
  const sizes: Array<[keyof typeof CONFIG_LIMITS, number]> = [
    ['vocab_size', c.vocabSize], ['hidden_size', c.hiddenSize], ['num_hidden_layers', c.numLayers],
    ['num_attention_heads', c.numHeads], ['num_key_value_heads', c.numKvHeads], ['head_dim', c.headDim],
    ['intermediate_size', c.intermediateSize], ['max_position_embeddings', c.maxPositionEmbeddings],
  ];
  for (const [field, v] of sizes) {
    if (!(v >= 1)) throw fail(field, `must be at least 1 (got ${v})`);
    if (v > CONFIG_LIMITS[field]) throw fail(field, `is ${v}, above Lion's limit of ${CONFIG_LIMITS[field]}`);
  }
  if (!(c.rmsNormEps > 0 && c.rmsNormEps < 1)) throw fail('rms_norm_eps', `must be a small positive number (got ${c.rmsNormEps}); a zero or negative epsilon makes the norm NaN`);
  if (!(c.ropeTheta > 0)) throw fail('rope_theta', `must be positive (got ${c.ropeTheta})`);
  const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F, vocabSize: V } = c;
  const perLayer = C * (H * D) * 2 + C * (KVH * D) * 2 + 3 * C * F + 2 * C;
  const params = c.numLayers * perLayer + 2 * V * C + C;
  if (params > CONFIG_LIMITS.parameters) {
    throw fail('num_hidden_layers', `and the other sizes describe ${params.toExponential(2)} parameters, above Lion's limit of ${CONFIG_LIMITS.parameters.toExponential(2)}`);
  }
  return c;
}

const REGISTRY: Record<string, Entry> = {
  llama: {
    normalise(cfg) {
      const c = common(cfg);
      const bias = boolField(cfg, 'attention_bias', false);
      return { ...c, qkvBias: bias, oBias: bias, mlpBias: boolField(cfg, 'mlp_bias', false) };
    },
  },
  // Mistral is the Llama block. Its sliding window (4096 in v0.1, none later) only matters for sequences
  // longer than the window; Lion encodes a few hundred tokens, where windowed attention is full attention.
  mistral: {
    normalise(cfg) {
      const c = common(cfg);
      const bias = boolField(cfg, 'attention_bias', false);
      return { ...c, qkvBias: bias, oBias: bias };
    },
  },
  // Qwen3: the Llama block with q_norm/k_norm, head_dim independent of hidden_size, optional attention_bias.
  qwen3: {
    normalise(cfg) {
      if (cfg.raw['use_sliding_window'] === true) {
        throw new ModelError('Qwen3 sliding-window attention is not supported', { file: cfg.file, field: 'use_sliding_window' });
      }
      const bias = boolField(cfg, 'attention_bias', false);
      return { ...common(cfg), qkvBias: bias, oBias: bias, qkNorm: true };
    },
  },
  qwen2: {
    normalise(cfg) {
      if (cfg.raw['use_sliding_window'] === true) {
        throw new ModelError('Qwen2 sliding-window attention is not supported', { file: cfg.file, field: 'use_sliding_window' });
      }
      return { ...common(cfg), qkvBias: true };
    },
  },
};

/** The `model_type`s Lion can run. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(REGISTRY);

/** Normalises a parsed config.json; an unknown `model_type` is a ModelError naming the file. */
export function normaliseConfig(cfg: HfConfig): ModelConfig {
  const type = cfg.raw['model_type'];
  const entry = typeof type === 'string' ? REGISTRY[type] : undefined;
  if (!entry) {
    throw new ModelError(`model_type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`, { file: cfg.file, field: 'model_type' });
  }
  return entry.normalise(cfg);
}

/** Reads and normalises `<dir>/config.json`. */
export function loadModelConfig(dir: string): ModelConfig {
  return normaliseConfig(readHfConfig(dir));
}

/** The config.json a ModelConfig round-trips through (for saving a model). */
export function toHfConfig(c: ModelConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: [({ qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', mistral: 'MistralForCausalLM' } as Record<string, string>)[c.modelType] ?? 'LlamaForCausalLM'],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWordEmbeddings,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    torch_dtype: 'float32',
  };
  if (c.ropeScaling) {
    const r = c.ropeScaling;
    out['rope_scaling'] = { rope_type: 'llama3', factor: r.factor, low_freq_factor: r.lowFreqFactor, high_freq_factor: r.highFreqFactor, original_max_position_embeddings: r.originalMaxPositionEmbeddings };
  }
  if (c.modelType === 'llama' || c.modelType === 'qwen3' || c.modelType === 'mistral') {
    out['attention_bias'] = c.oBias;
    out['mlp_bias'] = c.mlpBias;
  }
  return out;
}

/** A tensor of the arena: a Hugging Face name and a shape. */
export interface TensorSpec {
  name: string;
  shape: number[];
}

/** Linear layers of one decoder layer: HF module path and (out, in) features. */
export function layerLinears(c: ModelConfig): { module: string; out: number; in: number; bias: boolean }[] {
  const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D, intermediateSize: F } = c;
  return [
    { module: 'self_attn.q_proj', out: H * D, in: C, bias: c.qkvBias },
    { module: 'self_attn.k_proj', out: KVH * D, in: C, bias: c.qkvBias },
    { module: 'self_attn.v_proj', out: KVH * D, in: C, bias: c.qkvBias },
    { module: 'self_attn.o_proj', out: C, in: H * D, bias: c.oBias },
    { module: 'mlp.gate_proj', out: F, in: C, bias: c.mlpBias },
    { module: 'mlp.up_proj', out: F, in: C, bias: c.mlpBias },
    { module: 'mlp.down_proj', out: C, in: F, bias: c.mlpBias },
  ];
}

/**
 * Every weight of the model under its Hugging Face (`…ForCausalLM`) name, in checkpoint order.
 * `lm_head.weight` is absent when embeddings are tied, or when `withHead` is false (a headless encoder).
 */
export function parameterSpecs(c: ModelConfig, withHead = true): TensorSpec[] {
  const C = c.hiddenSize;
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, C] }];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    specs.push({ name: p + 'input_layernorm.weight', shape: [C] });
    for (const lin of layerLinears(c)) {
      if (lin.module === 'mlp.gate_proj') specs.push({ name: p + 'post_attention_layernorm.weight', shape: [C] });
      if (lin.module === 'self_attn.o_proj' && c.qkNorm) {
        specs.push({ name: p + 'self_attn.q_norm.weight', shape: [c.headDim] }, { name: p + 'self_attn.k_norm.weight', shape: [c.headDim] });
      }
      specs.push({ name: `${p}${lin.module}.weight`, shape: [lin.out, lin.in] });
      if (lin.bias) specs.push({ name: `${p}${lin.module}.bias`, shape: [lin.out] });
    }
  }
  specs.push({ name: 'model.norm.weight', shape: [C] });
  if (withHead && !c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, C] });
  return specs;
}

/**
 * Checkpoint keys that may hold parameter `name`: the `…ForCausalLM` key itself, and for the trunk the
 * headless `…Model` key without the `model.` prefix (how LlamaBiModel/dense checkpoints are saved).
 */
export function checkpointKeys(name: string): string[] {
  return name.startsWith('model.') ? [name, name.slice('model.'.length)] : [name];
}
