/**
 * The CPU study's teacher for KD and CL+KD: a learned linear fusion of lexical relevance signals, trained on the
 * study's training queries (never on evaluation queries) and measured against BM25 on held-out training queries.
 *
 * Features of a (query, document) pair:
 *   0  BM25 on title + text (Lucene English analyzer, k1 0.9, b 0.4 — the baseline itself)
 *   1  BM25 on the title alone
 *   2  BM25 on title + text without stemming
 *   3  BM25 on title + text with k1 1.2, b 0.75
 *   4  coverage: the fraction of the query's distinct (stemmed) terms the document contains
 *   5  phrase matches: the fraction of the query's adjacent stemmed term pairs found adjacent in the document
 * Score = Σ w_i · f_i with w_0 fixed at 1 (so the scale stays BM25's, which KD's margins and CL+KD's softmax use
 * raw, spec §5.1). The other weights are chosen by coordinate ascent over a grid to maximise mean nDCG@10 of
 * re-ranking the BM25 top 100 of the fitting queries.
 *
 * Invariants: the weights are a pure function of the corpus, fitting queries and qrels (no randomness).
 */
import { buildBm25Index } from '../bm25/build.js';
import { createBm25Searcher, queryTerms, topK, type Bm25Searcher } from '../bm25/search.js';
import { createEnglishAnalyzer } from '../bm25/analyzer.js';
import { evaluate } from '../eval/evaluate.js';
import { docText } from '../io/corpus.js';
import type { Qrels, Run, TextRecord } from '../types.js';

export const TEACHER_FEATURES = ['bm25', 'bm25-title', 'bm25-nostem', 'bm25-k1.2-b.75', 'coverage', 'phrase'] as const;

/** Feature extractor over one corpus. */
export class LexicalFeatures {
  readonly ids: string[];
  private readonly row: Map<string, number>;
  private readonly analyze = createEnglishAnalyzer();
  private readonly termSets: Array<Set<string>>;
  private readonly pairSets: Array<Set<string>>;
  private constructor(docs: readonly TextRecord[], private readonly searchers: Bm25Searcher[]) {
    this.ids = docs.map((d) => d.id);
    this.row = new Map(this.ids.map((id, i) => [id, i]));
    const toks = docs.map((d) => this.analyze(docText(d)));
    this.termSets = toks.map((t) => new Set(t));
    this.pairSets = toks.map((t) => new Set(t.slice(1).map((x, i) => `${t[i]} ${x}`)));
  }

  static async build(docs: readonly TextRecord[]): Promise<LexicalFeatures> {
    const full = await buildBm25Index(docs);
    const title = await buildBm25Index(docs.map((d) => ({ id: d.id, text: d.title ?? '' })));
    const nostem = await buildBm25Index(docs, { analyzer: { stem: false } });
    return new LexicalFeatures(docs, [
      createBm25Searcher(full), createBm25Searcher(title), createBm25Searcher(nostem), createBm25Searcher(full, { k1: 1.2, b: 0.75 }),
    ]);
  }

  /** BM25 baseline top-k document ids for a query. */
  bm25Top(query: string, k: number): string[] {
    const s = this.searchers[0]!;
    return Array.from(topK(s, queryTerms(s, query), k).docs, (d) => this.ids[d]!);
  }

  /** Features (rows of TEACHER_FEATURES.length) of the query against each of `docIds`. */
  features(query: string, docIds: readonly string[]): Float64Array[] {
    const n = this.ids.length;
    const bm = this.searchers.map((s) => {
      const r = topK(s, queryTerms(s, query), n);
      const m = new Map<number, number>();
      r.docs.forEach((d, i) => m.set(d, r.scores[i]!));
      return m;
    });
    const qt = this.analyze(query);
    const qset = [...new Set(qt)];
    const qpairs = [...new Set(qt.slice(1).map((x, i) => `${qt[i]} ${x}`))];
    return docIds.map((id) => {
      const r = this.row.get(id);
      if (r === undefined) throw new Error(`teacher: document ${id} is not in the corpus`);
      const f = new Float64Array(TEACHER_FEATURES.length);
      for (let k = 0; k < 4; k++) f[k] = bm[k]!.get(r) ?? 0;
      f[4] = qset.length ? qset.filter((t) => this.termSets[r]!.has(t)).length / qset.length : 0;
      f[5] = qpairs.length ? qpairs.filter((p) => this.pairSets[r]!.has(p)).length / qpairs.length : 0;
      return f;
    });
  }
}

export interface TeacherModel {
  features: readonly string[];
  weights: number[];
}

export const teacherScore = (w: readonly number[], f: Float64Array): number => w.reduce((s, x, i) => s + x * f[i]!, 0);

/** Candidates and their features for a query set (the BM25 top `depth`). */
export function candidateFeatures(fx: LexicalFeatures, queries: readonly TextRecord[], depth = 100): Map<string, { ids: string[]; f: Float64Array[] }> {
  const out = new Map<string, { ids: string[]; f: Float64Array[] }>();
  for (const q of queries) {
    const ids = fx.bm25Top(q.text, depth);
    out.set(q.id, { ids, f: fx.features(q.text, ids) });
  }
  return out;
}

/** Mean nDCG@10 of ranking each query's candidates by the weights. */
export function rerankNdcg(cands: Map<string, { ids: string[]; f: Float64Array[] }>, qrels: Qrels, w: readonly number[]): number {
  const run: Run = new Map();
  for (const [q, c] of cands) {
    const s = c.f.map((f) => teacherScore(w, f));
    const order = s.map((_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
    run.set(q, order.map((i, r) => ({ docid: c.ids[i]!, score: s[i]! - r * 1e-9 })));
  }
  const judged: Qrels = new Map([...qrels].filter(([q]) => cands.has(q)));
  return evaluate(judged, run, { measures: ['ndcg_cut.10'] }).mean['ndcg_cut_10']!;
}

/** Fit the fusion weights on the fitting queries' candidates (coordinate ascent, w_0 = 1). */
export function fitTeacher(cands: Map<string, { ids: string[]; f: Float64Array[] }>, qrels: Qrels, rounds = 3): TeacherModel & { fitNdcg10: number } {
  const w = [1, 0, 0, 0, 0, 0];
  // Grids in units of each feature's typical range: BM25-like features against BM25, fractions against ~10 points of BM25.
  const grids = [[], [-0.5, -0.25, 0, 0.25, 0.5, 1], [-0.5, -0.25, 0, 0.25, 0.5, 1], [-0.5, -0.25, 0, 0.25, 0.5, 1], [0, 2, 5, 10, 20], [0, 2, 5, 10, 20]];
  let best = rerankNdcg(cands, qrels, w);
  for (let r = 0; r < rounds; r++) {
    let improved = false;
    for (let k = 1; k < w.length; k++) {
      for (const v of grids[k]!) {
        const trial = [...w];
        trial[k] = v;
        const s = rerankNdcg(cands, qrels, trial);
        if (s > best + 1e-9) { best = s; w[k] = v; improved = true; }
      }
    }
    if (!improved) break;
  }
  return { features: [...TEACHER_FEATURES], weights: w, fitNdcg10: best };
}
