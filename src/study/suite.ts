/**
 * The CPU study's evaluation suite: one trained retriever scored on every collection, BEIR style.
 *
 *   - full retrieval (exact: every document scored) on SciFact test (in-domain), Cranfield and MED;
 *   - re-ranking of the official BM25 top 100 of TREC DL 2019 and 2020 (the candidates with text in the pooled
 *     passages; judged queries only);
 * the same collections, files and candidates as `lion eval-suite` (`loadSuiteCollection`, src/api/eval-suite.ts);
 * nDCG@10 per collection and the unweighted average of the out-of-domain ones and of all of them, plus R@100
 * for the full-retrieval collections. Scores: sparse = dot product of the vocabulary vectors, dense = dot product
 * of the pooled embeddings (spec §2.4, §2.5); sparse vectors keep Lion's default top 256 weights per document and
 * 64 per query (DEFAULTS.encodeTopK, docs/indexing.md "Sparsity"). The collections are read and their BM25 candidates computed
 * once (`loadSuite`); `evaluateRetriever` then only encodes.
 *
 * Invariants: a collection whose files are missing is left out with a reason (never silently scored as 0);
 * ties are broken by document order, so a run is deterministic.
 */
import { availableSuiteCollections, loadSuiteCollection } from '../api/eval-suite.js';
import { encodeTokens, truncatedTokens, type Paradigm } from '../encoders/encode.js';
import { lengthBatches } from '../encoders/batch.js';
import { DEFAULTS } from '../defaults.js';
import { bm25QuickstartSystem } from '../quickstart.js';
import { evaluate } from '../eval/evaluate.js';
import { docText } from '../io/corpus.js';
import type { LlamaModel } from '../model/llama.js';
import type { EncoderTokenizer } from '../encoders/batch.js';
import type { Hit, Qrels, Run, SparseVec, TextRecord } from '../types.js';

export interface SuiteCollection {
  name: string;
  /** "in" (the training domain) or "out". */
  domain: 'in' | 'out';
  docs: TextRecord[];
  queries: TextRecord[];
  qrels: Qrels;
  /** Re-ranking collections: each query's candidates (document ids, BM25 order). Absent: full retrieval. */
  candidates?: Map<string, string[]>;
  /** BM25's nDCG@10 on the same queries (and candidates), for reference. */
  bm25Ndcg10: number;
}

export interface Suite {
  collections: SuiteCollection[];
  /** Collections left out, with why. */
  skipped: string[];
}

export interface CollectionScore {
  ndcg10: number;
  recall100?: number;
  queries: number;
}

export interface SuiteScore {
  perCollection: Record<string, CollectionScore>;
  /** Mean nDCG@10 over the out-of-domain collections, and over all. */
  outAvg: number;
  avg: number;
  seconds: number;
}

const restrict = (qrels: Qrels, ids: ReadonlySet<string>): Qrels => new Map([...qrels].filter(([q]) => ids.has(q)));

/** Names the suite's definition; results scored by another are scored again (src/study/cpu.ts). */
export const SUITE_ID = 'eval-suite-collections-v1';

/**
 * Read the suite from the shared data folder (the collections of `lion eval-suite`); `only` keeps a subset by
 * id (scifact, cranfield, med, dl19, dl20).
 */
export async function loadSuite(data: string, o: { only?: readonly string[] } = {}): Promise<Suite> {
  const { available, skipped } = availableSuiteCollections(data, o.only);
  const collections: SuiteCollection[] = [];
  for (const spec of available) {
    const { docs, queries, qrels, candidates: first } = await loadSuiteCollection(data, spec);
    // BM25's run: the re-ranking collections' first stage itself, else BM25 as `lion eval-suite` runs it.
    const bm25 = first ?? await (await bm25QuickstartSystem().prepare(docs)).search(queries, 100);
    const judged = restrict(qrels, new Set(queries.map((q) => q.id)));
    collections.push({
      name: spec.id, domain: spec.id === 'scifact' ? 'in' : 'out', docs, queries, qrels,
      ...(first ? { candidates: new Map([...first].map(([q, hits]) => [q, hits.map((h) => h.docid)])) } : {}),
      bm25Ndcg10: evaluate(judged, bm25, { measures: ['ndcg_cut.10'] }).mean['ndcg_cut_10']!,
    });
  }
  return { collections, skipped: skipped.map((x) => `${x.id}: ${x.reason}`) };
}

/** Documents the suite encodes per retriever (for cost estimates). */
export function suiteDocCount(s: Suite): number {
  return s.collections.reduce((a, c) => a + c.docs.length + c.queries.length, 0);
}

export interface EncodedSet {
  sparse?: SparseVec[];
  dense?: Float32Array; // (N, D)
  dim: number;
}

/** Token ids of texts, cut at `maxLength`, memoised per (text set, length) so every cell reuses them. */
const tokenCache = new WeakMap<readonly TextRecord[], Map<string, number[][]>>();
export function tokenize(tok: EncoderTokenizer, records: readonly TextRecord[], maxLength: number): number[][] {
  let m = tokenCache.get(records);
  if (!m) tokenCache.set(records, (m = new Map()));
  const key = `${maxLength}`;
  let ids = m.get(key);
  if (!ids) m.set(key, (ids = records.map((r) => truncatedTokens(tok, docText(r), maxLength))));
  return ids;
}

/**
 * Encode records in input order with one of the paradigms. `topK` keeps the k largest sparse weights (0: all);
 * the token ids are cached per record array (the same tokenizer is assumed for one array).
 */
export async function encodeAll(model: LlamaModel, tok: EncoderTokenizer, records: readonly TextRecord[], paradigm: Paradigm, maxLength: number, topK = 0): Promise<EncodedSet> {
  const opts = { paradigm, maxLength, maxBatch: 64, maxTokens: 16_384, topK };
  const seqs = tokenize(tok, records, maxLength);
  const D = paradigm === 'sparse' ? model.config.vocabSize : model.config.hiddenSize;
  const sparse: SparseVec[] = new Array(records.length);
  const dense = paradigm === 'dense' ? new Float32Array(records.length * D) : undefined;
  for (const group of lengthBatches(seqs.map((x) => x.length), opts)) {
    const reps = encodeTokens(model, group.map((i) => seqs[i]!), tok.padId, opts);
    group.forEach((i, k) => {
      const r = reps[k]!;
      if (r instanceof Float32Array) dense!.set(r, i * D);
      else sparse[i] = r;
    });
  }
  return paradigm === 'sparse' ? { sparse, dim: D } : { dense, dim: D };
}

/** Scores of query `qi` against documents `docIdx` (all documents when absent). */
export class Scorer {
  private postings?: Array<{ docs: number[]; w: number[] }>;
  constructor(private readonly docs: EncodedSet, private readonly n: number) {
    if (docs.sparse) {
      this.postings = Array.from({ length: docs.dim }, () => ({ docs: [], w: [] }));
      docs.sparse.forEach((v, d) => {
        for (let i = 0; i < v.terms.length; i++) { const p = this.postings![v.terms[i]!]!; p.docs.push(d); p.w.push(v.weights[i]!); }
      });
    }
  }

  /** Scores of every document against one query vector. */
  all(q: EncodedSet, qi: number): Float32Array {
    const out = new Float32Array(this.n);
    if (this.postings) {
      const v = q.sparse![qi]!;
      for (let i = 0; i < v.terms.length; i++) {
        const p = this.postings[v.terms[i]!]!, w = v.weights[i]!;
        for (let j = 0; j < p.docs.length; j++) out[p.docs[j]!]! += w * p.w[j]!;
      }
    } else {
      const D = this.docs.dim, qv = q.dense!.subarray(qi * D, (qi + 1) * D), M = this.docs.dense!;
      for (let d = 0; d < this.n; d++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += qv[k]! * M[d * D + k]!;
        out[d] = s;
      }
    }
    return out;
  }
}

/** The `k` best of `scores` among `pool` (default all), best first, ties by position. */
export function topHits(scores: Float32Array, ids: readonly string[], k: number, pool?: readonly number[]): Hit[] {
  const idx = pool ? [...pool] : Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  // trec_eval breaks ties by docid: give strictly decreasing scores so the order above is the one evaluated.
  return idx.slice(0, k).map((d, r) => ({ docid: ids[d]!, score: scores[d]! - r * 1e-7 }));
}

/**
 * Score one retriever on every collection of the suite.
 * @example const s = await evaluateRetriever(model, tok, 'sparse', suite, { docMaxLength: 96, queryMaxLength: 64 });
 */
export async function evaluateRetriever(
  model: LlamaModel, tok: EncoderTokenizer, paradigm: Paradigm, suite: Suite,
  o: { docMaxLength: number; queryMaxLength: number; onCollection?: (name: string) => void },
): Promise<SuiteScore> {
  const t0 = performance.now();
  const perCollection: Record<string, CollectionScore> = {};
  for (const c of suite.collections) {
    o.onCollection?.(c.name);
    const k = DEFAULTS.encodeTopK;
    const docs = await encodeAll(model, tok, c.docs, paradigm, o.docMaxLength, k.doc);
    const qs = await encodeAll(model, tok, c.queries, paradigm, o.queryMaxLength, k.query);
    const ids = c.docs.map((d) => d.id);
    const pos = new Map(ids.map((id, i) => [id, i]));
    const scorer = new Scorer(docs, ids.length);
    const run: Run = new Map();
    c.queries.forEach((q, qi) => {
      const scores = scorer.all(qs, qi);
      const pool = c.candidates ? (c.candidates.get(q.id) ?? []).map((id) => pos.get(id)!) : undefined;
      run.set(q.id, topHits(scores, ids, 100, pool));
    });
    const qrels = restrict(c.qrels, new Set(c.queries.map((q) => q.id)));
    const m = evaluate(qrels, run, { measures: c.candidates ? ['ndcg_cut.10'] : ['ndcg_cut.10', 'recall.100'] });
    perCollection[c.name] = { ndcg10: m.mean['ndcg_cut_10']!, recall100: c.candidates ? undefined : m.mean['recall_100'], queries: m.numQ };
  }
  const names = suite.collections.map((c) => c.name), out = suite.collections.filter((c) => c.domain === 'out').map((c) => c.name);
  const mean = (xs: string[]) => (xs.length ? xs.reduce((s, n) => s + perCollection[n]!.ndcg10, 0) / xs.length : NaN);
  return { perCollection, outAvg: mean(out), avg: mean(names), seconds: (performance.now() - t0) / 1000 };
}
