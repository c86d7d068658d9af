/**
 * The in-memory retriever: encode the documents once with any `TextEncoder` (src/encoders/contract.ts: a
 * SparseEncoder / DenseEncoder of the simple API, or a paper encoder from `loadEncoder`), index them the way
 * the encoder declares (src/index/memory.ts: Lion's inverted index for sparse vectors, the flat f32 vector
 * index for dense ones; both exact), then search text queries and explain hits. The quickstart, the server's
 * `--collection` indexes and the study's evaluation all go through it.
 *
 * ```ts
 * const m = await SparseEncoder.load('models/lion-demo-sp');
 * const hits = await Retriever.fromCorpus(m, ['Paris is the capital of France.', 'Lions live in Africa.'])
 *   .search('capital of France', 1);   // [{ id: '0', score, text: 'Paris is …' }]
 * ```
 *
 * `fromCorpus` returns at once and encodes in the background; `search` waits for the index (`ready()` too).
 * Documents are strings (ids "0", "1", …) or `{id, text, title?}` records. Scores are inner products;
 * results come best first, ties by corpus order.
 */
import type { EncodeCallOptions, TextEncoder } from '../encoders/contract.js';
import { UsageError } from '../errors.js';
import { buildMemoryIndex, type MemoryIndex } from '../index/memory.js';
import { toRun } from '../index/topk.js';
import type { Run, SparseVec } from '../types.js';
import type { WeightedToken } from './encoder.js';

/** A corpus document. */
export interface CorpusDoc {
  id: string;
  text: string;
  title?: string;
}

/** One search result. */
export interface RetrievedDoc extends CorpusDoc {
  score: number;
  /** 0-based rank. */
  rank: number;
}

/** Why a sparse hit scored as it did: the shared tokens and their products, largest first. */
export interface TermMatch extends WeightedToken {
  queryWeight: number;
  docWeight: number;
}

export class Retriever<E extends TextEncoder = TextEncoder> {
  readonly model: E;
  readonly docs: readonly CorpusDoc[];
  private readonly built: Promise<MemoryIndex>;

  private constructor(model: E, docs: CorpusDoc[], opts: EncodeCallOptions) {
    this.model = model;
    this.docs = docs;
    const seen = new Set<string>();
    for (const d of docs) {
      if (seen.has(d.id)) throw new UsageError(`document id "${d.id}" appears twice in the corpus`, { field: 'id' });
      seen.add(d.id);
    }
    this.built = this.build(opts);
    this.built.catch(() => undefined); // surfaced by ready()/search(), not as an unhandled rejection
  }

  /**
   * Encodes and indexes `docs` with `model` (in the background; `search` waits).
   * @example const r = Retriever.fromCorpus(model, ['doc one', 'doc two']); const hits = await r.search('one', 1);
   */
  static fromCorpus<E extends TextEncoder>(model: E, docs: Iterable<string | CorpusDoc>, opts: EncodeCallOptions = {}): Retriever<E> {
    const list = [...docs].map((d, i) => (typeof d === 'string' ? { id: String(i), text: d } : { ...d }));
    return new Retriever(model, list, opts);
  }

  private async build(opts: EncodeCallOptions): Promise<MemoryIndex> {
    const vecs = await this.model.encodeDocuments(this.docs, opts);
    return buildMemoryIndex(this.model.index, this.docs.map((d) => d.id), vecs, this.model.dimension);
  }

  /** Resolves once the corpus is encoded and indexed. */
  async ready(): Promise<this> {
    await this.built;
    return this;
  }

  /** The in-memory index (what the server serves: `index().ix` is an InvertedIndex or a VectorIndex). */
  index(): Promise<MemoryIndex> {
    return this.built;
  }

  /** The k best documents for one query. */
  async search(query: string, k = 10): Promise<RetrievedDoc[]> {
    return (await this.searchMany([query], k))[0]!;
  }

  /** The k best documents for each query. */
  async searchMany(queries: readonly string[], k = 10): Promise<RetrievedDoc[][]> {
    const res = await this.searchRaw(queries, k);
    if (!res) return queries.map(() => []);
    return queries.map((_, qi) => {
      const hits: RetrievedDoc[] = [];
      for (let i = 0; i < res.counts[qi]!; i++) {
        const d = this.docs[res.docs[qi * res.k + i]!]!;
        hits.push({ ...d, score: res.scores[qi * res.k + i]!, rank: i });
      }
      return hits;
    });
  }

  /**
   * The k best documents for each query record, as a TREC run keyed by the query ids (what evaluation takes).
   * @example const run = await r.searchRun(await collect(readQueries('queries.jsonl')), 100);
   */
  async searchRun(queries: readonly { id: string; text: string; title?: string }[], k = 10): Promise<Run> {
    const res = await this.searchRaw(queries, k);
    const qids = queries.map((q) => q.id);
    if (!res) return new Map(qids.map((q) => [q, []]));
    return toRun(res, qids, (pos) => this.docs[pos]!.id);
  }

  private async searchRaw(queries: Parameters<E['encodeQueries']>[0], k: number) {
    if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
    const index = await this.built;
    if (queries.length === 0 || this.docs.length === 0) return undefined;
    return index.search(await this.model.encodeQueries(queries), k);
  }

  /** Sparse encoders: the tokens a query and a document share, with their weights and products, largest first. */
  async explain(query: string, docId: string, k = 10): Promise<TermMatch[]> {
    const index = await this.built;
    if (index.kind !== 'inverted') throw new UsageError('explain needs a sparse encoder (dense scores have no per-term parts)');
    const at = this.docs.findIndex((d) => d.id === docId);
    if (at < 0) throw new UsageError(`no document with id "${docId}" in the corpus`, { field: 'docId' });
    const [q] = await this.model.encodeQueries([query]);
    const shared = index.matches(q as SparseVec, at);
    shared.sort((a, b) => b.queryWeight * b.docWeight - a.queryWeight * a.docWeight || a.term - b.term);
    return shared.slice(0, k).map((s) => ({ token: this.model.tokenText(s.term), ids: [s.term], weight: s.queryWeight * s.docWeight, queryWeight: s.queryWeight, docWeight: s.docWeight }));
  }
}
