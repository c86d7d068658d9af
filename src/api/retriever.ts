/**
 * An in-memory retriever over a small corpus: encode the documents once with a SparseEncoder or
 * DenseEncoder, index them with Lion's exact indexes (the inverted index of src/index/inverted for sparse,
 * the flat f32 vector index of src/index/vector for dense), then search text queries.
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
import { UsageError } from '../errors.js';
import { buildInvertedIndexFromRecords } from '../index/inverted/build.js';
import type { InvertedIndex } from '../index/inverted/format.js';
import { searchSparse } from '../index/inverted/search.js';
import type { SearchResult } from '../index/topk.js';
import { searchDense, vectorIndexFromMatrix, type VectorIndex } from '../index/vector/flat.js';
import type { SparseVec } from '../types.js';
import { type DenseEncoder, type EncodeCallOptions, type SparseEncoder, type WeightedToken } from './encoder.js';

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

type Index = { kind: 'sparse'; ix: InvertedIndex; vecs: SparseVec[] } | { kind: 'dense'; ix: VectorIndex };

export class Retriever {
  readonly model: SparseEncoder | DenseEncoder;
  readonly docs: readonly CorpusDoc[];
  private readonly built: Promise<Index>;

  private constructor(model: SparseEncoder | DenseEncoder, docs: CorpusDoc[], opts: EncodeCallOptions) {
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
  static fromCorpus(model: SparseEncoder | DenseEncoder, docs: Iterable<string | CorpusDoc>, opts: EncodeCallOptions = {}): Retriever {
    const list = [...docs].map((d, i) => (typeof d === 'string' ? { id: String(i), text: d } : { ...d }));
    return new Retriever(model, list, opts);
  }

  private async build(opts: EncodeCallOptions): Promise<Index> {
    const ids = this.docs.map((d) => d.id);
    if (this.model.kind === 'sparse') {
      const vecs = await this.model.encodeDocuments(this.docs, opts);
      const ix = await buildInvertedIndexFromRecords(vecs.map((vec, i) => ({ id: ids[i]!, vec })), { vocabSize: this.model.dimension, listMax: 0 });
      return { kind: 'sparse', ix, vecs };
    }
    const rows = await this.model.encodeDocuments(this.docs, opts);
    const dim = this.model.dimension;
    const data = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => data.set(r, i * dim));
    return { kind: 'dense', ix: vectorIndexFromMatrix({ data, rows: rows.length, dim, ids }, 'f32') };
  }

  /** Resolves once the corpus is encoded and indexed. */
  async ready(): Promise<this> {
    await this.built;
    return this;
  }

  /** The k best documents for one query. */
  async search(query: string, k = 10): Promise<RetrievedDoc[]> {
    return (await this.searchMany([query], k))[0]!;
  }

  /** The k best documents for each query. */
  async searchMany(queries: readonly string[], k = 10): Promise<RetrievedDoc[][]> {
    if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
    const index = await this.built;
    const kk = Math.min(k, this.docs.length);
    if (queries.length === 0 || kk === 0) return queries.map(() => []);
    let res: SearchResult;
    if (index.kind === 'sparse') {
      const q = await (this.model as SparseEncoder).encodeQueries(queries);
      res = searchSparse(index.ix, q, { k: kk, mode: 'exact' });
    } else {
      const q = await (this.model as DenseEncoder).encodeQueries(queries);
      const dim = index.ix.dim;
      const qm = new Float32Array(q.length * dim);
      q.forEach((r, i) => qm.set(r, i * dim));
      res = searchDense(index.ix, qm, { k: kk });
    }
    return queries.map((_, qi) => {
      const hits: RetrievedDoc[] = [];
      for (let i = 0; i < res.counts[qi]!; i++) {
        const d = this.docs[res.docs[qi * res.k + i]!]!;
        hits.push({ ...d, score: res.scores[qi * res.k + i]!, rank: i });
      }
      return hits;
    });
  }

  /** Sparse only: the tokens a query and a document share, with their weights and products, largest first. */
  async explain(query: string, docId: string, k = 10): Promise<TermMatch[]> {
    const index = await this.built;
    if (index.kind !== 'sparse') throw new UsageError('explain needs a sparse encoder (dense scores have no per-term parts)');
    const at = this.docs.findIndex((d) => d.id === docId);
    if (at < 0) throw new UsageError(`no document with id "${docId}" in the corpus`, { field: 'docId' });
    const model = this.model as SparseEncoder;
    const [q] = await model.encodeQueries([query]);
    const d = index.vecs[at]!;
    const shared: { term: number; qw: number; dw: number }[] = [];
    let i = 0, j = 0;
    while (i < q!.terms.length && j < d.terms.length) {
      if (q!.terms[i] === d.terms[j]) shared.push({ term: q!.terms[i]!, qw: q!.weights[i++]!, dw: d.weights[j++]! });
      else if (q!.terms[i]! < d.terms[j]!) i++;
      else j++;
    }
    shared.sort((a, b) => b.qw * b.dw - a.qw * a.dw || a.term - b.term);
    return shared.slice(0, k).map((s) => ({ token: model.tokenizer.decode([s.term], true).trim(), ids: [s.term], weight: s.qw * s.dw, queryWeight: s.qw, docWeight: s.dw }));
  }
}
