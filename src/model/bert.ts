/**
 * BERT and DistilBERT encoders (inference): the trunk of `BertModel` / `DistilBertModel` and the masked-LM
 * head of `…ForMaskedLM`, so SPLADE checkpoints (naver/splade-v3, SPLADE++, opensearch-neural-sparse) run as
 * sparse encoders and BERT-style embedders as dense ones. Training goes through the decoder trunk (llama.ts);
 * this file has no backward pass.
 *
 * Per token (Devlin et al. 2019; Hugging Face BertEmbeddings): x = LayerNorm(word[id] + position[p] +
 * token_type[0]), absolute learned positions p = 0..n−1 over each row's real tokens (so left and right padding
 * agree; HF's right-padded arange gives the same), token type 0 (single-segment encoding; DistilBERT has none).
 * Per layer, POST-norm: x = LN(x + O·attn(Q x, K x, V x)); x = LN(x + W2·gelu(W1·x)), bidirectional attention
 * with the key-padding mask, GELU the exact erf form. MLM head: t = LN(gelu(Wt·h + bt));
 * logits = t·Eᵀ + b, the decoder tied to the word embeddings E (`tie_word_embeddings`, default true) plus its
 * own bias b (V).
 *
 * Weights are stored under the `BertForMaskedLM` names without the `bert.` prefix (`embeddings.…`,
 * `encoder.layer.N.…`, `cls.predictions.…`); `checkpointKeys` lists where each may live in a checkpoint:
 * BertForMaskedLM (`bert.` prefix), BertModel (no prefix), old TF-converted LayerNorm `gamma`/`beta`, and the
 * DistilBERT names (`distilbert.transformer.layer.N.attention.q_lin`, `vocab_transform`, …).
 *
 * Kernels: projections and attention run through `Kernels` (linearForward, attentionForward, embeddingForward,
 * axpy, sparseHeadForward). LayerNorm (with bias) and erf-GELU are not in the kernel interface yet; they are
 * written here as plain TypeScript loops (float64 accumulation) and are the candidates to move into
 * src/kernels when BERT needs to be fast.
 */
import { closeSync, openSync } from 'node:fs';
import { ModelError, ShapeError } from '../errors.js';
import { boolField, intField, numField, readHfConfig, type HfConfig } from '../io/hfconfig.js';
import { openWeights, readWeightInto } from '../io/weights.js';
import { getKernels, type Kernels } from '../kernels/index.js';
import { resolveModelDir } from '../util/hfcache.js';
import { realStarts, type TokenBatch } from './llama.js';
import type { TensorSpec } from './registry.js';

/** Normalised BERT-family config. */
export interface BertConfig {
  modelType: 'bert' | 'distilbert';
  vocabSize: number; // V
  hiddenSize: number; // C
  numLayers: number; // L
  numHeads: number; // H
  headDim: number; // D
  intermediateSize: number; // F
  maxPositionEmbeddings: number; // P
  /** Token-type rows (BERT 2; DistilBERT 0: no token-type embedding). */
  typeVocabSize: number;
  layerNormEps: number;
  tieWordEmbeddings: boolean;
  padTokenId: number | null;
}

export const BERT_MODEL_TYPES: readonly string[] = ['bert', 'distilbert'];

/** True when config.json describes a BERT-family encoder. */
export function isBertConfig(cfg: HfConfig): boolean {
  return BERT_MODEL_TYPES.includes(String(cfg.raw['model_type']));
}

/** config.json → BertConfig (BERT and DistilBERT spell the same fields differently). */
export function normaliseBertConfig(cfg: HfConfig): BertConfig {
  const distil = cfg.raw['model_type'] === 'distilbert';
  const actKey = distil ? 'activation' : 'hidden_act';
  const act = cfg.raw[actKey] ?? 'gelu';
  if (act !== 'gelu') throw new ModelError(`${actKey} "${String(act)}" is not supported (BERT encoders use gelu, the erf form)`, { file: cfg.file, field: actKey });
  const hiddenSize = intField(cfg, distil ? 'dim' : 'hidden_size');
  const numHeads = intField(cfg, distil ? 'n_heads' : 'num_attention_heads');
  if (numHeads === 0 || hiddenSize % numHeads !== 0) throw new ModelError(`hidden size ${hiddenSize} is not a multiple of the ${numHeads} heads`, { file: cfg.file, field: distil ? 'n_heads' : 'num_attention_heads' });
  if (!distil && cfg.raw['position_embedding_type'] !== undefined && cfg.raw['position_embedding_type'] !== 'absolute') {
    throw new ModelError(`position_embedding_type "${String(cfg.raw['position_embedding_type'])}" is not supported (only absolute)`, { file: cfg.file, field: 'position_embedding_type' });
  }
  const pad = cfg.raw['pad_token_id'];
  return {
    modelType: distil ? 'distilbert' : 'bert',
    vocabSize: intField(cfg, 'vocab_size'),
    hiddenSize,
    numLayers: intField(cfg, distil ? 'n_layers' : 'num_hidden_layers'),
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: intField(cfg, distil ? 'hidden_dim' : 'intermediate_size'),
    maxPositionEmbeddings: intField(cfg, 'max_position_embeddings', 512),
    typeVocabSize: distil ? 0 : intField(cfg, 'type_vocab_size', 2),
    layerNormEps: distil ? 1e-12 : numField(cfg, 'layer_norm_eps', 1e-12),
    tieWordEmbeddings: boolField(cfg, 'tie_word_embeddings', true),
    padTokenId: typeof pad === 'number' ? pad : null,
  };
}

/** Every weight under its canonical name; the MLM head only `withHead`. */
export function bertParameterSpecs(c: BertConfig, withHead: boolean): TensorSpec[] {
  const { vocabSize: V, hiddenSize: C, intermediateSize: F } = c;
  const s: TensorSpec[] = [
    { name: 'embeddings.word_embeddings.weight', shape: [V, C] },
    { name: 'embeddings.position_embeddings.weight', shape: [c.maxPositionEmbeddings, C] },
  ];
  if (c.typeVocabSize > 0) s.push({ name: 'embeddings.token_type_embeddings.weight', shape: [c.typeVocabSize, C] });
  s.push({ name: 'embeddings.LayerNorm.weight', shape: [C] }, { name: 'embeddings.LayerNorm.bias', shape: [C] });
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      s.push({ name: `${p}${m}.weight`, shape: [C, C] }, { name: `${p}${m}.bias`, shape: [C] });
    }
    s.push({ name: `${p}attention.output.LayerNorm.weight`, shape: [C] }, { name: `${p}attention.output.LayerNorm.bias`, shape: [C] });
    s.push({ name: `${p}intermediate.dense.weight`, shape: [F, C] }, { name: `${p}intermediate.dense.bias`, shape: [F] });
    s.push({ name: `${p}output.dense.weight`, shape: [C, F] }, { name: `${p}output.dense.bias`, shape: [C] });
    s.push({ name: `${p}output.LayerNorm.weight`, shape: [C] }, { name: `${p}output.LayerNorm.bias`, shape: [C] });
  }
  if (withHead) {
    s.push({ name: 'cls.predictions.transform.dense.weight', shape: [C, C] }, { name: 'cls.predictions.transform.dense.bias', shape: [C] });
    s.push({ name: 'cls.predictions.transform.LayerNorm.weight', shape: [C] }, { name: 'cls.predictions.transform.LayerNorm.bias', shape: [C] });
    if (!c.tieWordEmbeddings) s.push({ name: 'cls.predictions.decoder.weight', shape: [V, C] });
    s.push({ name: 'cls.predictions.bias', shape: [V] });
  }
  return s;
}

const DISTIL: [RegExp, string][] = [
  [/^encoder\.layer\./, 'transformer.layer.'],
  [/\.attention\.self\.query\./, '.attention.q_lin.'],
  [/\.attention\.self\.key\./, '.attention.k_lin.'],
  [/\.attention\.self\.value\./, '.attention.v_lin.'],
  [/\.attention\.output\.dense\./, '.attention.out_lin.'],
  [/\.attention\.output\.LayerNorm\./, '.sa_layer_norm.'],
  [/\.intermediate\.dense\./, '.ffn.lin1.'],
  [/\.output\.dense\./, '.ffn.lin2.'],
  [/\.output\.LayerNorm\./, '.output_layer_norm.'],
  [/^cls\.predictions\.transform\.dense\./, 'vocab_transform.'],
  [/^cls\.predictions\.transform\.LayerNorm\./, 'vocab_layer_norm.'],
  [/^cls\.predictions\.decoder\.weight$/, 'vocab_projector.weight'],
  [/^cls\.predictions\.bias$/, 'vocab_projector.bias'],
];

/** Checkpoint keys that may hold canonical weight `name`, most common first. */
export function bertCheckpointKeys(c: BertConfig, name: string): string[] {
  if (c.modelType === 'distilbert') {
    let k = name;
    for (const [re, to] of DISTIL) k = k.replace(re, to);
    return k.startsWith('vocab_') ? [k] : [`distilbert.${k}`, k];
  }
  if (name.startsWith('cls.')) return name === 'cls.predictions.bias' ? [name, 'cls.predictions.decoder.bias'] : [name];
  const keys = [`bert.${name}`, name];
  const old = name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
  if (old !== name) keys.push(`bert.${old}`, old);
  return keys;
}

/** Checkpoint tensors a BERT encoder may carry without using them. */
const UNUSED = /(^|\.)(position_ids|pooler\.dense\.(weight|bias))$|^cls\.seq_relationship\.|^cls\.predictions\.decoder\.(weight|bias)$|^vocab_projector\.weight$/;

// ------------------------------------------------------------------------------------------ local math
/** LayerNorm over rows: y = (x − mean)/sqrt(var + eps)·w + b, x, y (M, C) (may alias). */
export function layerNorm(y: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, M: number, C: number, eps: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * C;
    let mean = 0;
    for (let j = 0; j < C; j++) mean += x[o + j]!;
    mean /= C;
    let v = 0;
    for (let j = 0; j < C; j++) { const d = x[o + j]! - mean; v += d * d; }
    const r = 1 / Math.sqrt(v / C + eps);
    for (let j = 0; j < C; j++) y[o + j] = (x[o + j]! - mean) * r * w[j]! + b[j]!;
  }
}

/**
 * erf(x) to float64 accuracy by the everywhere-convergent series of positive terms
 * erf(x) = 2/√π · e^(−x²) · Σ_n 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (no cancellation); |x| ≥ 6 gives ±1 (erfc(6) < 3e-17).
 */
export function erf(x: number): number {
  if (x >= 6) return 1;
  if (x <= -6) return -1;
  const x2 = 2 * x * x;
  let term = x, sum = x;
  for (let n = 1; n < 400; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return 1.1283791670955126 * Math.exp(-x * x) * sum;
}

/** GELU, exact (erf) form, in place over N values: x·½(1 + erf(x/√2)). */
export function geluInPlace(x: Float32Array, N: number): void {
  for (let i = 0; i < N; i++) { const v = x[i]!; x[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2)); }
}

// ------------------------------------------------------------------------------------------ model
/** Options of `loadBertModel`. */
export interface BertLoadOptions {
  /** Load the MLM head (sparse encoders). Default true when the checkpoint has one. */
  withHead?: boolean;
  kernels?: Kernels;
  /** Revision of a hub id in the local Hugging Face cache. */
  revision?: string;
}

/** A loaded BERT/DistilBERT encoder. */
export class BertModel {
  readonly config: BertConfig;
  readonly k: Kernels;
  readonly withHead: boolean;
  private readonly w = new Map<string, Float32Array>();
  /** [E | b] (V, C+1): the tied decoder with its bias as a last column, for the fused sparse head. */
  private augmented: Float32Array | null = null;

  constructor(config: BertConfig, opts: { withHead: boolean; kernels?: Kernels }) {
    this.config = config;
    this.withHead = opts.withHead;
    this.k = opts.kernels ?? getKernels();
    for (const s of bertParameterSpecs(config, opts.withHead)) this.w.set(s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
  }

  /** A weight by canonical name. */
  param(name: string): Float32Array {
    const v = this.w.get(name);
    if (!v) throw new ModelError(`no weight ${name} in this ${this.config.modelType} model`);
    return v;
  }

  parameters(): { name: string; value: Float32Array }[] {
    return [...this.w].map(([name, value]) => ({ name, value }));
  }

  /** Final hidden states (B, T, C) of a padded batch (real tokens contiguous in each row). */
  forward(batch: TokenBatch): Float32Array {
    const c = this.config, k = this.k;
    const { B, T, ids, mask } = batch;
    const N = B * T, C = c.hiddenSize, F = c.intermediateSize, H = c.numHeads, D = c.headDim;
    if (ids.length !== N || mask.length !== N) throw new ShapeError(`token batch: ids and mask must hold B·T = ${N} values`, { field: 'ids' });
    for (let i = 0; i < N; i++) {
      if (ids[i]! < 0 || ids[i]! >= c.vocabSize) throw new ShapeError(`token id ${ids[i]} at position ${i} is outside the vocabulary (${c.vocabSize})`, { field: 'ids' });
    }
    const starts = realStarts(mask, B, T);
    const x = new Float32Array(N * C);
    k.embeddingForward(x, this.param('embeddings.word_embeddings.weight'), ids, N, C);
    const pos = this.param('embeddings.position_embeddings.weight');
    const type0 = c.typeVocabSize > 0 ? this.param('embeddings.token_type_embeddings.weight').subarray(0, C) : null;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const p = Math.max(0, t - starts[b]!);
        if (p >= c.maxPositionEmbeddings) throw new ShapeError(`sequence of ${T - starts[b]!} tokens is longer than max_position_embeddings ${c.maxPositionEmbeddings}`, { field: 'ids' });
        const o = (b * T + t) * C;
        for (let j = 0; j < C; j++) x[o + j] = x[o + j]! + pos[p * C + j]! + (type0 ? type0[j]! : 0);
      }
    }
    layerNorm(x, x, this.param('embeddings.LayerNorm.weight'), this.param('embeddings.LayerNorm.bias'), N, C, c.layerNormEps);
    const q = new Float32Array(N * C), kk = new Float32Array(N * C), v = new Float32Array(N * C), att = new Float32Array(N * C);
    const lse = new Float32Array(B * H * T), y = new Float32Array(N * C), f = new Float32Array(N * F);
    const scale = 1 / Math.sqrt(D);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `encoder.layer.${l}.`;
      const lin = (out: Float32Array, inp: Float32Array, m: string, K: number, Nout: number) =>
        k.linearForward(out, inp, this.param(`${p}${m}.weight`), this.param(`${p}${m}.bias`), N, K, Nout);
      lin(q, x, 'attention.self.query', C, C);
      lin(kk, x, 'attention.self.key', C, C);
      lin(v, x, 'attention.self.value', C, C);
      k.attentionForward(att, lse, q, kk, v, mask, B, T, H, H, D, false, scale);
      lin(y, att, 'attention.output.dense', C, C);
      k.axpy(y, x, 1, N * C);
      layerNorm(x, y, this.param(`${p}attention.output.LayerNorm.weight`), this.param(`${p}attention.output.LayerNorm.bias`), N, C, c.layerNormEps);
      lin(f, x, 'intermediate.dense', C, F);
      geluInPlace(f, N * F);
      lin(y, f, 'output.dense', F, C);
      k.axpy(y, x, 1, N * C);
      layerNorm(x, y, this.param(`${p}output.LayerNorm.weight`), this.param(`${p}output.LayerNorm.bias`), N, C, c.layerNormEps);
    }
    return x;
  }

  /** The MLM head's transform t = LN(gelu(Wt·h + bt)) over N token states (N, C). */
  headTransform(hidden: Float32Array, N: number): Float32Array {
    if (!this.withHead) throw new ModelError('this BERT model was loaded without its MLM head');
    const C = this.config.hiddenSize;
    const t = new Float32Array(N * C);
    this.k.linearForward(t, hidden, this.param('cls.predictions.transform.dense.weight'), this.param('cls.predictions.transform.dense.bias'), N, C, C);
    geluInPlace(t, N * C);
    layerNorm(t, t, this.param('cls.predictions.transform.LayerNorm.weight'), this.param('cls.predictions.transform.LayerNorm.bias'), N, C, this.config.layerNormEps);
    return t;
  }

  /** The decoder matrix E (V, C): the word embeddings when tied. */
  decoderWeight(): Float32Array {
    return this.param(this.config.tieWordEmbeddings ? 'embeddings.word_embeddings.weight' : 'cls.predictions.decoder.weight');
  }

  /** MLM logits (N, V) = headTransform(hidden)·Eᵀ + b. */
  logits(hidden: Float32Array, N: number): Float32Array {
    const { hiddenSize: C, vocabSize: V } = this.config;
    const out = new Float32Array(N * V);
    this.k.linearForward(out, this.headTransform(hidden, N), this.decoderWeight(), this.param('cls.predictions.bias'), N, C, V);
    return out;
  }

  /**
   * SPLADE representation (B, V) of a batch: `max` = log1p(relu(s·max_t logits)) over real tokens through the
   * fused head kernel (the bias rides as an extra input column set to 1), `sum` = Σ_t log1p(relu(s·logits)).
   * `scale` s is 1 for SPLADE checkpoints.
   */
  sparseRep(batch: TokenBatch, pooling: 'max' | 'sum', scale = 1): Float32Array {
    const { hiddenSize: C, vocabSize: V } = this.config;
    const { B, T, mask } = batch;
    const N = B * T;
    const t = this.headTransform(this.forward(batch), N);
    const rep = new Float32Array(B * V);
    if (pooling === 'max') {
      const C1 = C + 1;
      const h1 = new Float32Array(N * C1);
      for (let i = 0; i < N; i++) { h1.set(t.subarray(i * C, (i + 1) * C), i * C1); h1[i * C1 + C] = 1; }
      this.k.sparseHeadForward(rep, new Int32Array(B * V), h1, this.augmentedDecoder(), mask, B, T, C1, V, scale);
      return rep;
    }
    const rows = Math.max(1, Math.floor((4 << 20) / V)); // logits of this many tokens at a time (16 MiB)
    const logits = new Float32Array(rows * V);
    const E = this.decoderWeight(), bias = this.param('cls.predictions.bias');
    for (let i0 = 0; i0 < N; i0 += rows) {
      const n = Math.min(rows, N - i0);
      this.k.linearForward(logits, t.subarray(i0 * C, (i0 + n) * C), E, bias, n, C, V);
      for (let r = 0; r < n; r++) {
        if (!mask[i0 + r]) continue;
        const b = Math.floor((i0 + r) / T), o = r * V;
        for (let u = 0; u < V; u++) { const z = scale * logits[o + u]!; if (z > 0) rep[b * V + u] = rep[b * V + u]! + Math.log1p(z); }
      }
    }
    return rep;
  }

  private augmentedDecoder(): Float32Array {
    if (this.augmented) return this.augmented;
    const { hiddenSize: C, vocabSize: V } = this.config;
    const E = this.decoderWeight(), bias = this.param('cls.predictions.bias');
    const a = new Float32Array(V * (C + 1));
    for (let u = 0; u < V; u++) { a.set(E.subarray(u * C, (u + 1) * C), u * (C + 1)); a[u * (C + 1) + C] = bias[u]!; }
    this.augmented = a;
    return a;
  }
}

/** The canonical name of every MLM-head weight (absent from a BertModel / DistilBertModel checkpoint). */
function isHeadName(name: string): boolean {
  return name.startsWith('cls.');
}

/**
 * Loads a BERT or DistilBERT folder (config.json + safetensors or pytorch_model.bin), or a hub id cached
 * locally. Every expected tensor must be present with the right shape; tensors of other architectures are
 * an error, the pooler and the `position_ids` buffer are ignored.
 * @example const m = loadBertModel('naver/splade-v3'); const rep = m.sparseRep(batch, 'max');
 */
export function loadBertModel(nameOrDir: string, opts: BertLoadOptions = {}): BertModel {
  const dir = resolveModelDir(nameOrDir, { revision: opts.revision });
  const cfg = readHfConfig(dir);
  if (!isBertConfig(cfg)) throw new ModelError(`model_type ${JSON.stringify(cfg.raw['model_type'])} is not a BERT-family encoder (${BERT_MODEL_TYPES.join(', ')})`, { file: cfg.file, field: 'model_type' });
  const config = normaliseBertConfig(cfg);
  const ckpt = openWeights(dir);
  const hasHead = bertCheckpointKeys(config, 'cls.predictions.transform.dense.weight').some((k) => ckpt.tensors.has(k));
  const withHead = opts.withHead ?? hasHead;
  if (withHead && !hasHead) throw new ModelError('the checkpoint has no masked-LM head (cls.predictions / vocab_transform): it is a bare encoder, usable as a dense model only', { file: ckpt.files[0] ?? dir });
  const model = new BertModel(config, { withHead, kernels: opts.kernels });
  const used = new Set<string>();
  const fds = new Map<string, number>();
  try {
    for (const s of bertParameterSpecs(config, withHead)) {
      const key = bertCheckpointKeys(config, s.name).find((k) => ckpt.tensors.has(k));
      if (key === undefined) throw new ModelError(`tensor ${s.name} (shape [${s.shape.join(', ')}]) is missing from the checkpoint (looked for ${bertCheckpointKeys(config, s.name).join(', ')})`, { file: ckpt.files[0] ?? dir, field: s.name });
      const info = ckpt.tensors.get(key)!;
      if (info.shape.length !== s.shape.length || info.shape.some((d, i) => d !== s.shape[i])) {
        throw new ModelError(`tensor ${key} has shape [${info.shape.join(', ')}], config.json implies [${s.shape.join(', ')}]`, { file: info.file, field: key });
      }
      used.add(key);
      let fd = fds.get(info.file);
      if (fd === undefined) { fd = openSync(info.file, 'r'); fds.set(info.file, fd); }
      readWeightInto(info, model.param(s.name), fd);
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  for (const [key, info] of ckpt.tensors) {
    if (used.has(key) || UNUSED.test(key)) continue;
    if (!withHead && bertParameterSpecs(config, true).filter((s) => isHeadName(s.name)).some((s) => bertCheckpointKeys(config, s.name).includes(key))) continue;
    throw new ModelError(`tensor ${key} is not part of a ${config.modelType} encoder with this config.json`, { file: info.file, field: key });
  }
  return model;
}
