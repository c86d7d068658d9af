/**
 * Top-k BM25 search over a `Bm25Index`: term-at-a-time accumulation into a dense float64 score array,
 * then a bounded min-heap over the touched documents.
 *
 * Invariants of the hot loop (`accumulate`): postings of a term are ascending document numbers; `normInv`
 * holds 1/norm per document for the searcher's k1, b and length mode; per-term scores are float32 (see
 * similarity.ts) and their float64 sum is exact, so the order terms are visited in cannot change a score.
 * Ties are broken by document number (input order) ascending, as Lucene breaks them by internal doc id,
 * so results are deterministic.
 */
import type { Hit, Run, TextRecord } from '../types.js';
import { UsageError } from '../errors.js';
import { DEFAULTS } from '../defaults.js';
import { createEnglishAnalyzer, type Analyzer } from './analyzer.js';
import { docIdOf, termIdOf, type Bm25Index } from './build.js';
import { bm25AvgLength, bm25Idf, normInverseTable, type Bm25Params } from './similarity.js';
import { TopK } from '../index/topk.js';

const f = Math.fround;

/** A prepared searcher: the index, its analyzer and per-search scratch space. Not safe to share across threads. */
export interface Bm25Searcher {
  index: Bm25Index;
  params: Bm25Params;
  analyze: Analyzer;
  normInv: Float32Array; // (D)
  acc: Float64Array; // (D) scratch, all zero between searches
  touched: Uint32Array; // (D) scratch
  /** External ids decoded so far, by document number (filled on first use). */
  idCache: (string | undefined)[]; // (D)
}

/** One analysed query term: its term number and Lucene weight (query count × idf, float32). */
export interface QueryTerm {
  term: number;
  weight: number;
}

/**
 * Prepare an index for searching with the given BM25 parameters.
 *
 * @example
 * const s = createBm25Searcher(await readBm25Index('scifact.lbm25'));
 * const hits = searchBm25(s, 'microRNA in cancer', 10);
 */
export function createBm25Searcher(index: Bm25Index, params: Partial<Bm25Params> = {}): Bm25Searcher {
  const p: Bm25Params = { k1: params.k1 ?? DEFAULTS.bm25.k1, b: params.b ?? DEFAULTS.bm25.b, exactLengths: params.exactLengths ?? false };
  if (!(p.k1 >= 0) || !Number.isFinite(p.k1)) throw new UsageError(`k1 must be a finite number ≥ 0, got ${p.k1}`, { field: 'k1' });
  if (!(p.b >= 0 && p.b <= 1)) throw new UsageError(`b must be in [0, 1], got ${p.b}`, { field: 'b' });
  const avgdl = bm25AvgLength(index.sumTotalTermFreq, index.docCount);
  return {
    index,
    params: p,
    analyze: createEnglishAnalyzer(index.meta.analyzerOptions),
    normInv: normInverseTable(index.docLen, avgdl, p),
    acc: new Float64Array(index.numDocs),
    touched: new Uint32Array(index.numDocs),
    idCache: new Array<string | undefined>(index.numDocs),
  };
}

/** Analyse a query into weighted index terms (repeated words weigh more, as in Anserini; unknown words drop). */
export function queryTerms(s: Bm25Searcher, text: string): QueryTerm[] {
  const counts = new Map<string, number>();
  for (const t of s.analyze(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const out: QueryTerm[] = [];
  const ix = s.index;
  for (const [t, c] of counts) {
    const id = termIdOf(ix, t);
    if (id < 0) continue;
    const df = ix.postingOffsets[id + 1]! - ix.postingOffsets[id]!;
    out.push({ term: id, weight: f(c * bm25Idf(ix.docCount, df)) });
  }
  return out;
}

/** Add one term's float32 scores to the accumulator; returns the new count of touched documents. */
function accumulate(s: Bm25Searcher, term: number, weight: number, nTouched: number): number {
  const { postingOffsets, postingDocs, postingTfs } = s.index;
  const { normInv, acc, touched } = s;
  const end = postingOffsets[term + 1]!;
  for (let p = postingOffsets[term]!; p < end; p++) {
    const d = postingDocs[p]!;
    const sc = f(weight - f(weight / f(1 + f(postingTfs[p]! * normInv[d]!))));
    if (acc[d] === 0) touched[nTouched++] = d;
    acc[d]! += sc;
  }
  return nTouched;
}

/**
 * Top `k` documents for weighted query terms, best first: parallel arrays of document numbers and float32
 * scores. The low-level entry point (no strings); `searchBm25` wraps it.
 */
export function topK(s: Bm25Searcher, terms: readonly QueryTerm[], k: number): { docs: Uint32Array; scores: Float32Array } {
  let n = 0;
  for (const t of terms) n = accumulate(s, t.term, t.weight, n);
  const { acc, touched } = s;
  const size = Math.min(k, n);
  const heap = new TopK(size);
  for (let i = 0; i < n; i++) {
    const d = touched[i]!;
    heap.push(f(acc[d]!), d);
    acc[d] = 0;
  }
  const docs = new Uint32Array(size); // (k)
  const scores = new Float32Array(size); // (k)
  heap.drainInto(docs, scores);
  return { docs, scores };
}

/** Search one query text; returns up to `k` hits, best first. */
export function searchBm25(s: Bm25Searcher, query: string, k: number = DEFAULTS.search.k): Hit[] {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
  const { docs, scores } = topK(s, queryTerms(s, query), k);
  const hits: Hit[] = new Array(docs.length);
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i]!;
    hits[i] = { docid: (s.idCache[d] ??= docIdOf(s.index, d)), score: scores[i]! };
  }
  return hits;
}

export interface SearchManyOptions {
  k?: number;
  /** Called after each query with the number done. */
  onProgress?: (done: number) => void;
}

/** Search every query of a stream; the run keeps the queries' order. Queries with no hits get an empty list. */
export async function searchBm25All(
  s: Bm25Searcher,
  queries: AsyncIterable<TextRecord> | Iterable<TextRecord>,
  opts: SearchManyOptions = {},
): Promise<Run> {
  const run: Run = new Map();
  let n = 0;
  for await (const q of queries) {
    if (run.has(q.id)) throw new UsageError(`duplicate query id '${q.id}'`, { field: 'qid', hint: 'query ids must be unique' });
    run.set(q.id, searchBm25(s, q.text, opts.k ?? DEFAULTS.search.k));
    opts.onProgress?.(++n);
  }
  return run;
}
