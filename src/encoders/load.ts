/**
 * Loading an encoder: the one place a model folder (or cached hub id, or PEFT adapter) becomes weights plus
 * the tokenizer that goes with them (`openEncoder`), and the paper's encoders as a `TextEncoder`
 * (`HeadEncoder`: a decoder trunk with a registered head type, registry.ts). `lion encode`, the quickstart,
 * the server (its collection indexes and its query encoder workers), the study and validation during
 * training all encode through a `HeadEncoder`; the simple API's SparseEncoder / DenseEncoder (src/api/) open
 * their weights through `openEncoder` too.
 *
 * ```ts
 * const enc = loadEncoder('models/lion-demo-sp', { head: 'sparse' });
 * const [q] = await enc.encodeQueries(['what is the capital of France?']);
 * ```
 */
import { join } from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { ModelError, NonFiniteError, ShapeError } from '../errors.js';
import type { LlamaModel } from '../model/llama.js';
import type { Kernels } from '../kernels/types.js';
import type { DtypeRequest } from '../model/precision.js';
import { loadTokenizer, type LionTokenizer } from '../tokenizer/tokenizer.js';
import type { TextRecord } from '../types.js';
import { encoderIdentity, type EncoderIdentity } from '../util/identity.js';
import { tokenBatch, truncatedTokens, type EncoderTokenizer } from './batch.js';
import type { EncodeCallOptions, Encoder, IndexStructure, TextEncoder, TextInput, Vector, VectorForm } from './contract.js';
import { encodeRecords, type Encoded, type Paradigm } from './encode.js';
import { encoderFor } from './registry.js';
import { loadTrunk, locateModel, type ModelLocation, type Trunk } from './trunks.js';

/**
 * Runs `head` on token sequences as one padded batch (cut at `maxLength`) and returns one vector per sequence,
 * in order (`topK` > 0 prunes sparse vectors). A NaN or infinite output fails the batch (E_NONFINITE);
 * `names` (texts or ids, one per sequence) say which input it was.
 */
export function encodeWithHead(head: Encoder, model: LlamaModel, seqs: readonly ArrayLike<number>[], padId: number, maxLength: number, topK = 0, names?: readonly string[]): Vector[] {
  const batch = tokenBatch(seqs, padId, maxLength);
  const f = head.forward(model, batch, false);
  const bad = head.firstNonFinite(model, f);
  if (bad >= 0) throw new NonFiniteError(`the ${head.kind} encoder produced NaN or infinite values for ${names?.[bad] !== undefined ? names[bad] : `text ${bad + 1} of the batch`}`);
  const dim = head.dimension(model.config);
  return seqs.map((_, b) => head.row(f.rep, dim, b, topK));
}

/** Where an encoder's files are (a folder, a cached hub id, or an adapter), as `locateModel` takes them. */
export interface LocateOptions {
  /** A PEFT adapter (folder or cached hub id) merged into the model. */
  adapter?: string;
  /** Base model of an adapter given as the model, instead of its base_model_name_or_path. */
  base?: string;
  /** Revision of a hub id in the local Hugging Face cache (default main). */
  revision?: string;
}

/** A model's weights with the tokenizer that goes with them. */
export interface OpenedEncoder {
  location: ModelLocation;
  trunk: Trunk;
  tokenizer: LionTokenizer;
}

/**
 * Loads the trunk at `loc` (keeping the LM/MLM head when `withHead`) and its tokenizer, and checks that the
 * tokenizer's ids fit the model's vocabulary.
 */
export function openEncoder(loc: ModelLocation, opts: { withHead: boolean; causal?: boolean; kernels?: Kernels; dtype?: DtypeRequest }): OpenedEncoder {
  const trunk = loadTrunk(loc, opts);
  const tokenizer = loadTokenizer(loc.tokenizer);
  if (tokenizer.vocabSize > trunk.vocabSize) {
    throw new ShapeError(`the tokenizer has ${tokenizer.vocabSize} ids but the model's vocabulary is ${trunk.vocabSize}`, { file: tokenizer.file });
  }
  return { location: loc, trunk, tokenizer };
}

/** Lengths, batching and pruning of a `HeadEncoder` (defaults: DEFAULTS.encode, no pruning). */
export interface HeadEncoderOptions {
  /** Tokens per query / document at most, BOS included. */
  queryMaxLength?: number;
  docMaxLength?: number;
  /** Texts per batch, and padded tokens per batch, at most. */
  maxBatch?: number;
  maxTokens?: number;
  /** Sparse vectors: keep the k largest weights of each query / document (0 = all, the default). */
  queryTopK?: number;
  docTopK?: number;
}

/** Options of `loadEncoder`. */
export interface LoadEncoderOptions extends LocateOptions, HeadEncoderOptions {
  /** The head type: a registered kind ('sparse', 'dense', …) or an `Encoder`. */
  head: Paradigm | Encoder;
  kernels?: Kernels;
  /** Storage and products of the base matrices: fp32, bf16, int8 or 'auto', as `loadModel` (default fp32). */
  dtype?: DtypeRequest;
}

type Tokenizer = EncoderTokenizer & { decode?(ids: ArrayLike<number>, keepSpecial?: boolean): string };

/** A decoder with a head type, as a `TextEncoder` (the paper's encoders: BOS, no EOS, left padding, no prompts). */
export class HeadEncoder implements TextEncoder {
  readonly head: Encoder;
  readonly model: LlamaModel;
  readonly tokenizer: Tokenizer;
  /** Where the weights came from (absent for a model built in memory, such as one being trained). */
  readonly location?: ModelLocation;
  readonly maxLength: { query: number; document: number };
  readonly topK: { query: number; document: number };
  private readonly batching: { maxBatch: number; maxTokens: number };

  constructor(model: LlamaModel, tokenizer: Tokenizer, head: Paradigm | Encoder, opts: HeadEncoderOptions = {}, location?: ModelLocation) {
    const d = DEFAULTS.encode;
    this.head = encoderFor(head);
    this.model = model;
    this.tokenizer = tokenizer;
    this.location = location;
    this.maxLength = { query: opts.queryMaxLength ?? d.queryMaxLength, document: opts.docMaxLength ?? d.docMaxLength };
    this.topK = { query: opts.queryTopK ?? 0, document: opts.docTopK ?? 0 };
    this.batching = { maxBatch: opts.maxBatch ?? d.maxBatch, maxTokens: opts.maxTokens ?? d.maxTokens };
  }

  get kind(): string { return this.head.kind; }
  get index(): IndexStructure { return this.head.index; }
  get vectors(): VectorForm { return this.head.vectors; }
  get dimension(): number { return this.head.dimension(this.model.config); }

  /** Encodes records (id, text, title?) in input order, with bounded memory (src/encoders/encode.ts). */
  encodeRecords(records: AsyncIterable<TextRecord> | Iterable<TextRecord>, as: 'query' | 'document'): AsyncGenerator<Encoded> {
    return encodeRecords(this.model, this.tokenizer, records, { paradigm: this.head, maxLength: this.maxLength[as], topK: this.topK[as], ...this.batching });
  }

  /** Encodes texts in one forward pass, in input order, without length bucketing (the server's query workers). */
  encodeBatch(texts: readonly string[], as: 'query' | 'document'): Vector[] {
    const max = this.maxLength[as];
    return encodeWithHead(this.head, this.model, texts.map((t) => truncatedTokens(this.tokenizer, t, max)), this.tokenizer.padId, max, this.topK[as], texts.map((t) => JSON.stringify(t.slice(0, 60))));
  }

  encodeQueries(texts: readonly TextInput[], opts: EncodeCallOptions = {}): Promise<Vector[]> {
    return this.collect(texts, 'query', opts);
  }

  encodeDocuments(texts: readonly TextInput[], opts: EncodeCallOptions = {}): Promise<Vector[]> {
    return this.collect(texts, 'document', opts);
  }

  private async collect(texts: readonly TextInput[], as: 'query' | 'document', opts: EncodeCallOptions): Promise<Vector[]> {
    const records = texts.map((t, i): TextRecord => (typeof t === 'string' ? { id: String(i), text: t } : { id: String(i), text: t.text, title: t.title }));
    const out: Vector[] = [];
    for await (const e of this.encodeRecords(records, as)) {
      out.push((e.sparse ?? e.dense)!);
      if (opts.onProgress && (out.length % this.batching.maxBatch === 0 || out.length === texts.length)) opts.onProgress(out.length, texts.length);
    }
    return out;
  }

  tokenText(id: number): string {
    return this.tokenizer.decode ? this.tokenizer.decode([id], true).trim() : String(id);
  }

  /** The identity recorded with vectors this encoder writes (src/util/identity.ts). */
  identity(dtype?: string): EncoderIdentity {
    if (!this.location) throw new ModelError('an encoder built in memory has no files to identify it by');
    const dim = this.dimension;
    return encoderIdentity({ model: this.location.base, adapter: this.location.adapter, head: this.head.vectors, vocab: dim, dim, dtype });
  }
}

/**
 * Loads a decoder (a model folder, a cached hub id, or a PEFT adapter merged into its base) with the LM head
 * when the head type needs it, and its tokenizer, for inference.
 * @example const enc = loadEncoder('models/lion-demo-ds', { head: 'dense' }); await enc.encodeDocuments(['…']);
 */
export function loadEncoder(nameOrDir: string, opts: LoadEncoderOptions): HeadEncoder {
  const head = encoderFor(opts.head);
  const loc = locateModel(nameOrDir, opts);
  const { trunk, tokenizer } = openEncoder(loc, { withHead: head.needsLmHead, kernels: opts.kernels, dtype: opts.dtype });
  if (!trunk.decoder) {
    throw new ModelError(`the ${head.kind} head runs on decoder models; ${trunk.family} models encode through SparseEncoder / DenseEncoder (lion encode --pooling …)`, { file: join(loc.base, 'config.json') });
  }
  return new HeadEncoder(trunk.decoder, tokenizer, head, opts, loc);
}

/** The identity of the `head` encoder at `nameOrDir` (a model folder, or an adapter merged into the base it names). */
export function encoderIdentityAt(nameOrDir: string, head: Paradigm | Encoder): EncoderIdentity {
  const loc = locateModel(nameOrDir);
  return encoderIdentity({ model: loc.base, adapter: loc.adapter, head: encoderFor(head).vectors });
}
