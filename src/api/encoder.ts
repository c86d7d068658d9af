/**
 * The simple encoder API, as sentence-transformers and transformers.js users expect it:
 *
 * ```ts
 * const m = await SparseEncoder.load('models/lion-demo-sp');          // a folder, a cached hub id, or an adapter
 * const [q] = await m.encodeQueries(['what is the capital of France?']);
 * const docs = await m.encodeDocuments(['Paris is the capital of France.', 'Lions live in Africa.']);
 * m.similarity([q], docs);                                              // [[s0, s1]]
 * m.decode(q, 5);                                                       // [{ token, weight }, …]
 * ```
 *
 * One encoder = a trunk (src/encoders/trunks.ts: decoder or BERT family), a tokenizer, and configuration:
 * prompts, maximum lengths, pooling, normalisation, truncation. Configuration comes, in order of precedence,
 * from the options, the folder's sentence-transformers files (src/io/stfolder.ts), and the family's defaults:
 *
 * | family  | sparse (SparseEncoder)                    | dense (DenseEncoder)                                     |
 * |---------|-------------------------------------------|----------------------------------------------------------|
 * | decoder | Lion-SP: max, scale d^-1/4, BOS, no EOS    | Lion-DS: mean of normalised tokens, bidirectional, BOS   |
 * |         |                                           | `last` pooling: EOS appended, causal (e5-mistral, Qwen3) |
 * | bert    | SPLADE: max, no scale, [CLS] … [SEP]       | mean (or 1_Pooling/config.json), [CLS] … [SEP]           |
 *
 * Texts are bucketed by length and encoded in batches; `onProgress(done, total)` is called after each batch
 * and the event loop gets a turn between batches.
 */
import { DEFAULTS } from '../defaults.js';
import { ShapeError, UsageError } from '../errors.js';
import { lengthBatches, tokenBatch } from '../encoders/batch.js';
import type { EncodeCallOptions, TextEncoder, TextInput } from '../encoders/contract.js';
import { openEncoder, type OpenedEncoder } from '../encoders/load.js';
import { finishDense, poolDense, type DensePooling } from '../encoders/pooling.js';
import { toSparseVec } from '../encoders/sparse.js';
import { locateModel, type ModelLocation, type Trunk } from '../encoders/trunks.js';
import { readHfConfig } from '../io/hfconfig.js';
import { readStFolder, type StFolderConfig } from '../io/stfolder.js';
import { isBertConfig } from '../model/bert.js';
import type { Kernels } from '../kernels/types.js';
import type { DtypeRequest } from '../model/precision.js';
import type { LionTokenizer } from '../tokenizer/tokenizer.js';
import type { SparseVec } from '../types.js';

export type { EncodeCallOptions, TextInput } from '../encoders/contract.js';

/** Options every encoder accepts. */
export interface EncoderOptions {
  /** A PEFT adapter (folder or cached hub id) merged into the model. */
  adapter?: string;
  /** Base model of an adapter given as the model, instead of its base_model_name_or_path. */
  base?: string;
  /** Revision of a hub id in the local Hugging Face cache (default main). */
  revision?: string;
  /** Text put before every query / document (default: the folder's sentence-transformers prompts, else none). */
  queryPrompt?: string;
  documentPrompt?: string;
  /** Tokens per query / document at most, special tokens included (defaults: 64 / 192, or max_seq_length). */
  queryMaxLength?: number;
  documentMaxLength?: number;
  /** Texts per batch at most (default 64). */
  batchSize?: number;
  /** Padded tokens per batch at most (default 16384). */
  maxTokens?: number;
  /** Decoder attention: causal instead of bidirectional (default: causal only for `last` pooling). */
  causal?: boolean;
  /** Decoder weights: fp32 (default), bf16, int8 or auto, as `loadModel`; BERT encoders run in fp32. */
  dtype?: DtypeRequest;
  kernels?: Kernels;
}

function textOf(x: TextInput): string {
  return typeof x === 'string' ? x : x.title ? `${x.title} ${x.text}` : x.text;
}

/** What both encoders share: location, trunk, tokenizer, prompts and batching. */
abstract class BaseEncoder<V extends SparseVec | Float32Array> implements Omit<TextEncoder<V>, 'kind' | 'index' | 'dimension'> {
  readonly location: ModelLocation;
  readonly family: 'decoder' | 'bert';
  readonly tokenizer: LionTokenizer;
  readonly prompts: { query: string; document: string };
  readonly maxLength: { query: number; document: number };
  protected readonly trunk: Trunk;
  protected readonly appendEos: boolean;
  private readonly batchSize: number;
  private readonly maxTokens: number;

  protected constructor({ location: loc, trunk, tokenizer }: OpenedEncoder, st: StFolderConfig, opts: EncoderOptions, appendEos: boolean) {
    this.location = loc;
    this.trunk = trunk;
    this.family = trunk.family;
    this.tokenizer = tokenizer;
    this.prompts = { query: opts.queryPrompt ?? st.prompts?.query ?? '', document: opts.documentPrompt ?? st.prompts?.document ?? '' };
    const d = DEFAULTS.encode;
    this.maxLength = { query: opts.queryMaxLength ?? st.maxSeqLength ?? d.queryMaxLength, document: opts.documentMaxLength ?? st.maxSeqLength ?? d.docMaxLength };
    for (const [k, v] of Object.entries(this.maxLength)) if (!(Number.isInteger(v) && v >= 2)) throw new UsageError(`${k} maximum length must be an integer ≥ 2, got ${v}`, { field: `${k}MaxLength` });
    this.batchSize = opts.batchSize ?? d.maxBatch;
    this.maxTokens = opts.maxTokens ?? d.maxTokens;
    this.appendEos = appendEos;
  }

  /** Token ids of one text as the model expects them, cut to `max` (a final special token is kept). */
  tokenize(text: string, max: number): number[] {
    const tok = this.tokenizer;
    let ids: number[];
    let keepLast = false;
    if (this.family === 'bert') { ids = tok.encodeTemplate(text); keepLast = true; }
    else {
      ids = tok.encode(text);
      if (this.appendEos && tok.eosId !== null) { ids.push(tok.eosId); keepLast = true; }
    }
    if (ids.length <= max) return ids;
    return keepLast ? [...ids.slice(0, max - 1), ids[ids.length - 1]!] : ids.slice(0, max);
  }

  /** A vocabulary id as text. */
  tokenText(id: number): string {
    return this.tokenizer.decode([id], true).trim();
  }

  /** Encodes queries (with the query prompt). */
  encodeQueries(texts: readonly TextInput[], opts: EncodeCallOptions = {}): Promise<V[]> {
    return this.encodeAll(texts.map((t) => this.prompts.query + textOf(t)), this.maxLength.query, opts);
  }

  /** Encodes documents (with the document prompt; a record's title goes before its text). */
  encodeDocuments(texts: readonly TextInput[], opts: EncodeCallOptions = {}): Promise<V[]> {
    return this.encodeAll(texts.map((t) => this.prompts.document + textOf(t)), this.maxLength.document, opts);
  }

  private async encodeAll(texts: string[], max: number, opts: EncodeCallOptions): Promise<V[]> {
    const seqs = texts.map((t) => this.tokenize(t, max));
    const out = new Array<V>(texts.length);
    let done = 0;
    for (const group of lengthBatches(seqs.map((s) => s.length), { maxBatch: this.batchSize, maxTokens: this.maxTokens })) {
      const batch = tokenBatch(group.map((i) => seqs[i]!), this.tokenizer.padId, max);
      const reps = this.encodeBatch(batch);
      group.forEach((i, r) => { out[i] = reps[r]!; });
      done += group.length;
      opts.onProgress?.(done, texts.length);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  protected abstract encodeBatch(batch: ReturnType<typeof tokenBatch>): V[];
}

/** Options of SparseEncoder.load. */
export interface SparseEncoderOptions extends EncoderOptions {
  /** Pool token logits by max (SPLADE-max, default) or sum. */
  pooling?: 'max' | 'sum';
  /** Logit scale before log1p∘ReLU: d^-1/4 for Lion's decoders (default there), 1 for SPLADE/BERT (default there). */
  scale?: number;
  /** Keep only the k largest weights of each vector (0 = all, default). */
  topK?: number;
}

/** One token of a decoded sparse vector. */
export interface WeightedToken {
  token: string;
  weight: number;
  /** Vocabulary ids behind `token` (several when partial byte tokens were merged into one character). */
  ids: number[];
}

/** A learned sparse encoder: texts → vocabulary-sized SparseVecs, scored by dot product. */
export class SparseEncoder extends BaseEncoder<SparseVec> implements TextEncoder<SparseVec> {
  readonly kind = 'sparse' as const;
  /** Its documents go into an inverted index. */
  readonly index = 'inverted' as const;
  readonly pooling: 'max' | 'sum';
  readonly scale: number;
  readonly topK: number;
  /** Size of the vectors' vocabulary (V). */
  readonly dimension: number;

  private constructor(opened: OpenedEncoder, st: StFolderConfig, opts: SparseEncoderOptions) {
    super(opened, st, opts, false);
    const trunk = opened.trunk;
    this.pooling = opts.pooling ?? st.sparsePooling ?? 'max';
    this.scale = opts.scale ?? (trunk.family === 'bert' ? 1 : trunk.hiddenSize ** -0.25);
    this.topK = opts.topK ?? 0;
    this.dimension = trunk.vocabSize;
  }

  /**
   * Loads a sparse encoder from a model folder, a hub id in the local Hugging Face cache, or a PEFT adapter.
   * @example const m = await SparseEncoder.load('models/lion-demo-sp');
   */
  static async load(nameOrDir: string, opts: SparseEncoderOptions = {}): Promise<SparseEncoder> {
    const loc = locateModel(nameOrDir, opts);
    const st = readStFolder(loc.configDir);
    return new SparseEncoder(openEncoder(loc, { withHead: true, causal: opts.causal, kernels: opts.kernels, dtype: opts.dtype }), st, opts);
  }

  protected encodeBatch(batch: ReturnType<typeof tokenBatch>): SparseVec[] {
    const rep = this.trunk.sparse(batch, this.pooling, this.scale);
    return Array.from({ length: batch.B }, (_, b) => toSparseVec(rep, this.dimension, b, this.topK));
  }

  /** Dot products (A, B) of two lists of sparse vectors. */
  similarity(a: readonly SparseVec[], b: readonly SparseVec[]): number[][] {
    return a.map((x) => b.map((y) => sparseDot(x, y)));
  }

  /**
   * The k heaviest tokens of a vector, as text. Partial UTF-8 byte tokens (byte-level BPE) are merged with the
   * other byte tokens among the k that complete them into one readable character, with the largest weight; a
   * vector carries no token order, so when several split characters compete the first order that decodes wins.
   * Byte tokens left unmatched show as "?".
   */
  decode(vec: SparseVec, k = 10): WeightedToken[] {
    return decodeSparse(this.tokenizer, vec, k);
  }
}

/** Options of DenseEncoder.load. */
export interface DenseEncoderOptions extends EncoderOptions {
  /** Pooling of the token states (default: 1_Pooling/config.json, else Lion-DS's mean-normalized for decoders, mean for BERT). */
  pooling?: DensePooling;
  /** L2-normalise the pooled vector (default: a Normalize module in modules.json, else false). */
  normalize?: boolean;
  /** Matryoshka: keep the first `dim` components (before normalisation). */
  dim?: number;
  /** Append the tokenizer's EOS to every decoder text (default: true with `last` pooling). */
  appendEos?: boolean;
  /** `similarity` as inner product or cosine (default: config_sentence_transformers.json, else dot). */
  similarity?: 'dot' | 'cosine';
}

/** A dense encoder: texts → fixed-size Float32Array vectors. */
export class DenseEncoder extends BaseEncoder<Float32Array> implements TextEncoder<Float32Array> {
  readonly kind = 'dense' as const;
  /** Its documents go into a flat inner-product index. */
  readonly index = 'flat' as const;
  readonly pooling: DensePooling;
  readonly normalize: boolean;
  /** Size of the output vectors (after Matryoshka truncation). */
  readonly dimension: number;
  readonly similarityFn: 'dot' | 'cosine';

  private constructor(opened: OpenedEncoder, st: StFolderConfig, opts: DenseEncoderOptions, pooling: DensePooling) {
    super(opened, st, opts, opts.appendEos ?? pooling === 'last');
    const trunk = opened.trunk;
    this.pooling = pooling;
    this.normalize = opts.normalize ?? st.normalize ?? false;
    this.dimension = opts.dim ?? trunk.hiddenSize;
    if (!(Number.isInteger(this.dimension) && this.dimension >= 1 && this.dimension <= trunk.hiddenSize)) {
      throw new UsageError(`dim ${this.dimension} must be between 1 and the hidden size ${trunk.hiddenSize}`, { field: 'dim' });
    }
    this.similarityFn = opts.similarity ?? st.similarity ?? 'dot';
  }

  /**
   * Loads a dense encoder from a model folder, a hub id in the local Hugging Face cache, or a PEFT adapter.
   * @example const m = await DenseEncoder.load('models/lion-demo-ds');
   */
  static async load(nameOrDir: string, opts: DenseEncoderOptions = {}): Promise<DenseEncoder> {
    const loc = locateModel(nameOrDir, opts);
    const st = readStFolder(loc.configDir);
    const bert = isBertFolder(loc);
    const pooling = opts.pooling ?? st.pooling ?? (bert ? 'mean' : 'mean-normalized');
    return new DenseEncoder(openEncoder(loc, { withHead: false, causal: opts.causal ?? (pooling === 'last'), kernels: opts.kernels, dtype: opts.dtype }), st, opts, pooling);
  }

  protected encodeBatch(batch: ReturnType<typeof tokenBatch>): Float32Array[] {
    const C = this.trunk.hiddenSize, { B, T, mask } = batch;
    const pooled = poolDense(this.trunk.hidden(batch), mask, B, T, C, this.pooling, this.trunk.kernels);
    const rows = finishDense(pooled, B, C, { dim: this.dimension, normalize: this.normalize });
    return Array.from({ length: B }, (_, b) => rows.slice(b * this.dimension, (b + 1) * this.dimension));
  }

  /** Scores (A, B) of two lists of vectors: inner products, or cosines when `similarityFn` is cosine. */
  similarity(a: readonly Float32Array[], b: readonly Float32Array[]): number[][] {
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return a.map((x) => b.map((y) => {
      if (x.length !== y.length) throw new ShapeError(`vectors of ${x.length} and ${y.length} dimensions cannot be compared`);
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
      return this.similarityFn === 'cosine' ? s / (norm(x) * norm(y)) : s;
    }));
  }
}

function isBertFolder(loc: ModelLocation): boolean {
  return isBertConfig(readHfConfig(loc.base));
}

/** Dot product of two sparse vectors (ascending term ids). */
export function sparseDot(x: SparseVec, y: SparseVec): number {
  let i = 0, j = 0, s = 0;
  while (i < x.terms.length && j < y.terms.length) {
    const a = x.terms[i]!, b = y.terms[j]!;
    if (a === b) s += x.weights[i++]! * y.weights[j++]!;
    else if (a < b) i++;
    else j++;
  }
  return s;
}

/** See SparseEncoder.decode. */
export function decodeSparse(tok: LionTokenizer, vec: SparseVec, k: number): WeightedToken[] {
  const order = Array.from(vec.terms.keys()).sort((a, b) => vec.weights[b]! - vec.weights[a]! || vec.terms[a]! - vec.terms[b]!).slice(0, Math.max(0, k));
  const out: WeightedToken[] = [];
  const partial: { id: number; weight: number }[] = [];
  for (const i of order) {
    const id = vec.terms[i]!, weight = vec.weights[i]!;
    const text = tok.decode([id], true);
    if (text.includes('\uFFFD')) partial.push({ id, weight });
    else out.push({ token: text.trim() || text, weight, ids: [id] });
  }
  // merge partial byte tokens: find chains of 2–4 of them that decode cleanly (a split character), in any order;
  // bounded to 8 partial tokens (at most 8·7·6·5 decodes per chain found)
  const used = new Set<number>();
  const emit = (chain: number[], clean: boolean) => {
    chain.forEach((c) => used.add(c));
    const ids = chain.map((c) => partial[c]!.id);
    const text = tok.decode(ids, true);
    out.push({ token: clean ? text.trim() || text : text.replace(/\uFFFD/g, '?'), weight: Math.max(...chain.map((c) => partial[c]!.weight)), ids });
  };
  const find = (chain: number[]): number[] | null => {
    if (chain.length > 1 && !tok.decode(chain.map((c) => partial[c]!.id), true).includes('\uFFFD')) return chain;
    if (chain.length === 4) return null;
    for (let b = 0; b < partial.length; b++) {
      if (used.has(b) || chain.includes(b)) continue;
      const r = find([...chain, b]);
      if (r) return r;
    }
    return null;
  };
  for (let found: number[] | null = null; partial.length <= 8; ) {
    found = null;
    for (let a = 0; a < partial.length && !found; a++) if (!used.has(a)) found = find([a]);
    if (!found) break;
    emit(found, true);
  }
  for (let a = 0; a < partial.length; a++) if (!used.has(a)) emit([a], false);
  return out.sort((x, y) => y.weight - x.weight);
}
