/**
 * Encoding a stream of texts with a head type of the registry (registry.ts: sparse, dense, …), in input order,
 * with bounded memory: records are
 * read in windows, each window is tokenised, bucketed by length (`lengthBatches`), encoded batch by batch and
 * yielded back in input order. Memory is one window of token ids plus one batch's activations and reps
 * ((B, V) floats for sparse), whatever the corpus size or vocabulary.
 *
 * `encodeToFile` is what `lion encode` runs: it selects this process's share of a corpus (`shard` i of N takes
 * records i, i+N, i+2N, … as the reference's DistributedSampler, without its padding duplicates) and writes
 * sparse JSONL, a sparse binary shard or a dense binary shard through src/io/vectors.ts (`openVectorWriter`, the
 * writer for the head's vector form, which the simple API's `lion encode` path uses too).
 */
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import { identityToJson, type EncoderIdentity } from '../util/identity.js';
import { docText, readCorpus, readQueries } from '../io/corpus.js';
import type { Kernels } from '../kernels/types.js';
import { DenseShardWriter, SparseShardWriter, sparseToObject } from '../io/vectors.js';
import type { LlamaModel } from '../model/llama.js';
import { precisionRecord, type DtypeRequest, type PrecisionRecord } from '../model/precision.js';
import type { SparseVec, TextRecord } from '../types.js';
import { openAtomic, writeFileAtomic } from '../util/atomic.js';
import { countLines, Progress } from '../util/progress.js';
import { lengthBatches, truncatedTokens, type EncoderTokenizer } from './batch.js';
import type { Encoder, Vector, VectorForm } from './contract.js';
import { encodeWithHead, loadEncoder } from './load.js';
import { encoderFor } from './registry.js';

export { truncatedTokens } from './batch.js';

/** A head type registered in src/encoders/registry.ts: 'sparse', 'dense', or one added with `registerEncoder`. */
export type Paradigm = 'sparse' | 'dense' | (string & {});

export interface EncodeOptions {
  /** The head type: a registered kind or an `Encoder`. */
  paradigm: Paradigm | Encoder;
  /** Tokens per text at most, BOS included (spec §2.6: 64/192 MS MARCO, 512/512 BEIR). */
  maxLength: number;
  /** Texts per batch at most. */
  maxBatch: number;
  /** Padded tokens per batch at most. */
  maxTokens: number;
  /** Sparse only: keep the k largest weights (0 = all non-zeros, as the paper). */
  topK?: number;
  /** Texts read ahead and sorted by length together. Default 32 × maxBatch. */
  window?: number;
}

/** One encoded record. */
export interface Encoded {
  id: string;
  sparse?: SparseVec;
  dense?: Float32Array; // (C)
}

/**
 * Encode a batch of token sequences; returns one result per sequence, in order. A NaN or infinite output fails
 * the batch (E_NONFINITE) — `names` (texts or ids, one per sequence) say which input it was.
 */
export function encodeTokens(model: LlamaModel, seqs: number[][], padId: number, opts: EncodeOptions, names?: string[]): Vector[] {
  return encodeWithHead(encoderFor(opts.paradigm), model, seqs, padId, opts.maxLength, opts.topK ?? 0, names);
}

/**
 * Encode records (documents: `docText`, so BEIR titles are included) in input order.
 * @example for await (const e of encodeRecords(model, tok, readCorpus(p), opts)) use(e.id, e.sparse);
 */
export async function* encodeRecords(
  model: LlamaModel, tok: EncoderTokenizer, records: AsyncIterable<TextRecord> | Iterable<TextRecord>, opts: EncodeOptions,
): AsyncGenerator<Encoded> {
  if (!(opts.maxBatch >= 1) || !(opts.maxTokens >= 1)) throw new UsageError('encode: maxBatch and maxTokens must be positive');
  const window = opts.window ?? 32 * opts.maxBatch;
  let pending: TextRecord[] = [];
  const flush = function* (): Generator<Encoded> {
    const seqs = pending.map((r) => truncatedTokens(tok, docText(r), opts.maxLength));
    const out = new Array<Encoded>(pending.length);
    const name = (r: TextRecord): string => {
      const t = docText(r);
      return `id ${r.id} (${JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}…` : t)})`;
    };
    for (const group of lengthBatches(seqs.map((s) => s.length), opts)) {
      const reps = encodeTokens(model, group.map((i) => seqs[i]!), tok.padId, opts, group.map((i) => name(pending[i]!)));
      group.forEach((i, k) => {
        const r = reps[k]!;
        out[i] = r instanceof Float32Array ? { id: pending[i]!.id, dense: r } : { id: pending[i]!.id, sparse: r };
      });
    }
    pending = [];
    yield* out;
  };
  for await (const rec of records) {
    pending.push(rec);
    if (pending.length >= window) yield* flush();
  }
  if (pending.length > 0) yield* flush();
}

/** This process's share of a stream: records with index ≡ i (mod n). */
export async function* shardOf<T>(it: AsyncIterable<T> | Iterable<T>, shard: { index: number; count: number }): AsyncGenerator<T> {
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new UsageError(`shard ${index}/${count} is not valid (need 0 ≤ i < N)`, { field: 'shard' });
  }
  let k = 0;
  for await (const x of it) if (k++ % count === index) yield x;
}

/** Parse `--shard i/N`. */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new UsageError(`--shard expects i/N (e.g. 0/4), got '${s}'`, { field: 'shard' });
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  if (shard.count < 1 || shard.index >= shard.count) throw new UsageError(`--shard ${s}: need 0 ≤ i < N`, { field: 'shard' });
  return shard;
}

export type VectorFormat = 'jsonl' | 'shard';

/** Writes vectors of one form to a file: sparse JSONL or binary shard, or a dense binary shard. */
export interface VectorWriter {
  add(id: string, v: Vector): Promise<void> | void;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The file formats each vector form can be written in, the default first. */
const FORMATS: Record<VectorForm, readonly VectorFormat[]> = { sparse: ['jsonl', 'shard'], dense: ['shard'] };

/** The format vectors of `form` are written in: `format`, or the form's default; refuses one the form lacks. */
export function vectorFormat(form: VectorForm, format?: VectorFormat): VectorFormat {
  const allowed = FORMATS[form];
  if (format === undefined) return allowed[0]!;
  if (!allowed.includes(format)) throw new UsageError(`${form} vectors are written as ${allowed.map((f) => (f === 'shard' ? 'binary shards' : 'JSONL')).join(' or ')} only (--format ${allowed.join('|')})`, { field: 'format' });
  return format;
}

/** Opens `out` for vectors of `form` and width `dim` (vocabulary size for sparse) in `format`, atomically. */
export async function openVectorWriter(out: string, form: VectorForm, format: VectorFormat, dim: number, encoder?: EncoderIdentity): Promise<VectorWriter> {
  if (form === 'dense') {
    const w = new DenseShardWriter(out, dim, encoder);
    return { add: (id, v) => w.add([id], v as Float32Array), commit: async () => w.close(), abort: async () => w.abort() };
  }
  if (format === 'shard') {
    const w = new SparseShardWriter(out, dim, encoder);
    return { add: (id, v) => w.add(id, v as SparseVec), commit: async () => w.close(), abort: async () => w.abort() };
  }
  const w = await openAtomic(out);
  return { add: (id, v) => w.write(`${JSON.stringify({ id, vector: sparseToObject(v as SparseVec) })}\n`), commit: () => w.commit(), abort: () => w.abort() };
}

/** Encode records into `out`: sparse JSONL or binary shard, or a dense binary shard. Returns the count. */
export async function encodeToFile(
  model: LlamaModel, tok: EncoderTokenizer, records: AsyncIterable<TextRecord> | Iterable<TextRecord>, out: string,
  opts: EncodeOptions & { format?: VectorFormat; shard?: { index: number; count: number }; label?: string; encoder?: EncoderIdentity; total?: number; progress?: boolean },
): Promise<number> {
  const head = encoderFor(opts.paradigm);
  const format = vectorFormat(head.vectors, opts.format);
  const input = opts.shard ? shardOf(records, opts.shard) : records;
  const total = opts.total !== undefined && opts.shard ? Math.ceil((opts.total - opts.shard.index) / opts.shard.count) : opts.total;
  const progress = new Progress(opts.label ?? 'encode', total, 'texts', opts.progress);
  let n = 0;
  const w = await openVectorWriter(out, head.vectors, format, head.dimension(model.config), opts.encoder);
  try {
    for await (const e of encodeRecords(model, tok, input, opts)) { await w.add(e.id, (e.sparse ?? e.dense)!); n++; progress.tick(); }
    await w.commit();
  } catch (e) { await w.abort(); throw e; }
  progress.finish();
  return n;
}

/** Options of `encodeCollection` (what `lion encode` runs). */
export interface EncodeCollectionOptions {
  paradigm: Paradigm;
  /** Base model directory or hub id in the local Hugging Face cache; default: the adapter's base model. */
  model?: string;
  /** Revision (branch, tag, commit) of a hub id `model` (default main). */
  revision?: string;
  /** A PEFT adapter (Lion-SP / Lion-DS or one `lion train` wrote), merged into the base. */
  adapter?: string;
  /** A corpus (BEIR corpus.jsonl or `pid\ttext`) or, with `queries`, a queries file. */
  input: string;
  queries?: boolean;
  out: string;
  format?: VectorFormat;
  maxLength?: number;
  maxBatch?: number;
  maxTokens?: number;
  topK?: number;
  shard?: { index: number; count: number };
  kernels?: Kernels;
  /** Storage and products of the base matrices: fp32, bf16, int8, or 'auto' (default: `defaultDtype`). */
  dtype?: DtypeRequest;
  /** Called once the model is loaded, with what it computes with (the CLI prints it). */
  onLoad?: (r: PrecisionRecord) => void;
  /** Show progress (count, total, ETA) even when stderr is not a terminal. */
  progress?: boolean;
}

/**
 * Load the encoder and its tokenizer, encode a corpus or a query set, write the vectors; the resolved options
 * go to `<out>.json`. Returns the number of texts encoded.
 * @example await encodeCollection({ paradigm: 'sparse', model: 'Llama-3.2-1B', adapter: 'Lion-SP-1B', input: 'corpus.jsonl', out: 'docs.jsonl' });
 */
export async function encodeCollection(o: EncodeCollectionOptions): Promise<number> {
  const d = DEFAULTS.encode;
  // folders or hub ids cached locally; without --model the adapter's base_model_name_or_path names the base
  if (!o.model && !o.adapter) throw new UsageError('encode: pass --model (and optionally --adapter)', { field: 'model' });
  const enc = loadEncoder((o.model ?? o.adapter)!, {
    head: o.paradigm, adapter: o.model ? o.adapter : undefined, revision: o.model ? o.revision : undefined, kernels: o.kernels,
    dtype: o.dtype ?? (DEFAULTS.precision.inference as DtypeRequest),
  });
  const model = enc.model;
  const precision = precisionRecord(model);
  o.onLoad?.(precision);
  const opts = {
    paradigm: o.paradigm,
    maxLength: o.maxLength ?? (o.queries ? d.queryMaxLength : d.docMaxLength),
    maxBatch: o.maxBatch ?? d.maxBatch,
    maxTokens: o.maxTokens ?? d.maxTokens,
    topK: o.topK ?? (o.queries ? DEFAULTS.encodeTopK.query : DEFAULTS.encodeTopK.doc),
    format: o.format,
    shard: o.shard,
    label: `encode ${o.queries ? 'queries' : 'corpus'}`,
  };
  const encoder = enc.identity(precision.dtype);
  const total = countLines(o.input, o.queries ? 'queries.jsonl' : 'corpus.jsonl');
  const records = o.queries ? readQueries(o.input) : readCorpus(o.input);
  const n = await encodeToFile(model, enc.tokenizer, records, o.out, { ...opts, encoder, total, progress: o.progress });
  const { kernels: _k, onLoad: _l, ...recorded } = o;
  const meta = { ...recorded, ...opts, texts: n, dtypeRequested: o.dtype ?? DEFAULTS.precision.inference, ...precision, encoder: identityToJson(encoder) };
  await writeFileAtomic(`${o.out}.json`, `${JSON.stringify(meta, null, 2)}\n`);
  return n;
}

/**
 * Scores of every query against every passage (Q, P), by sparse or dense dot product, with the same encoder
 * on both sides — the authors' README example in one call.
 * @example scoreMatrix(model, tok, ['What is the capital of France?'], ['Paris is the capital of France.'], 'sparse')
 */
export function scoreMatrix(
  model: LlamaModel, tok: EncoderTokenizer, queries: string[], passages: string[], paradigm: Paradigm, maxLength = 192,
): number[][] {
  const opts = { paradigm, maxLength, maxBatch: 64, maxTokens: 1 << 20 };
  const enc = (texts: string[]) => encodeTokens(model, texts.map((t) => truncatedTokens(tok, t, maxLength)), tok.padId, opts, texts.map((t) => JSON.stringify(t.slice(0, 60))));
  const q = enc(queries), p = enc(passages);
  const dot = (a: Vector, b: Vector): number => {
    if (a instanceof Float32Array && b instanceof Float32Array) return a.reduce((s, x, i) => s + x * b[i]!, 0);
    const x = a as SparseVec, y = b as SparseVec;
    let i = 0, j = 0, s = 0;
    while (i < x.terms.length && j < y.terms.length) {
      if (x.terms[i] === y.terms[j]) s += x.weights[i++]! * y.weights[j++]!;
      else if (x.terms[i]! < y.terms[j]!) i++;
      else j++;
    }
    return s;
  };
  return q.map((qv) => p.map((pv) => dot(qv, pv)));
}
