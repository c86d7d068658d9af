/**
 * Hybrid fusion of runs (any number, e.g. sparse + dense + BM25).
 *  - `rrf`: reciprocal rank fusion, score(d) = sum_i w_i / (c + rank_i(d)), rank 1-based in trec_eval order
 *    (Cormack, Clarke and Buettcher, SIGIR 2009; c = 60).
 *  - `sum`: weighted sum of per-query normalised scores; `minmax` maps each run's scores for a query onto
 *    [0, 1], `zscore` onto (s - mean) / std (std 0 -> all 0), `none` keeps raw scores. A document missing
 *    from a run takes that run's lowest normalised score for the query.
 * Each input run is first cut to `depth` hits per query. The fused run is sorted by score, ties by docid
 * (code-point order, ascending), cut to `k`, and made strictly decreasing (a tied score is lowered to the
 * next float64 below the previous one).
 */
import { DEFAULTS } from '../defaults.js';
import { NonFiniteError, UsageError } from '../errors.js';
import { compareCodePoints, sortHits } from '../order.js';
import type { Hit, Run } from '../types.js';
import { strictlyDecreasing } from './topk.js';

export type FusionMethod = 'rrf' | 'sum';
export type FusionNorm = 'minmax' | 'zscore' | 'none';

export interface FusionOptions {
  method?: FusionMethod;
  norm?: FusionNorm;
  /** One weight per run (default 1 each). */
  weights?: number[];
  /** RRF constant c. */
  rrfK?: number;
  /** Hits kept per query in each input run before fusing (default: all). */
  depth?: number;
  /** Hits per query in the output (default DEFAULTS.search.k). */
  k?: number;
}

function normalise(hits: Hit[], norm: FusionNorm): number[] {
  return normaliseScores(hits.map((h) => h.score), norm);
}

/** Per-query normalisation of one run's scores (best first): min-max onto [0, 1], z-score, or none. */
export function normaliseScores(s: number[], norm: FusionNorm): number[] {
  if (norm === 'none' || s.length === 0) return s;
  if (norm === 'minmax') {
    const lo = Math.min(...s), hi = Math.max(...s);
    return s.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 1));
  }
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  return s.map((x) => (sd > 0 ? (x - mean) / sd : 0));
}

/**
 * Fuses runs query by query (the union of their query ids).
 * @example
 * ```ts
 * const hybrid = fuseRuns([sparseRun, denseRun], { method: 'rrf', k: 1000 });
 * ```
 */
export function fuseRuns(runs: Run[], opts: FusionOptions = {}): Run {
  const method = opts.method ?? (DEFAULTS.fusion.method as FusionMethod);
  const norm = opts.norm ?? (DEFAULTS.fusion.norm as FusionNorm);
  const c = opts.rrfK ?? DEFAULTS.fusion.rrfK;
  const k = opts.k ?? DEFAULTS.search.k;
  const depth = opts.depth ?? Infinity;
  const weights = opts.weights ?? runs.map(() => 1);
  if (runs.length === 0) throw new UsageError('fusion needs at least one run');
  if (weights.length !== runs.length) throw new UsageError(`${weights.length} weights for ${runs.length} runs`, { field: 'weights' });
  if (method !== 'rrf' && method !== 'sum') throw new UsageError(`fusion method must be rrf or sum, got '${method}'`, { field: 'method' });
  if (!['minmax', 'zscore', 'none'].includes(norm)) throw new UsageError(`normalisation must be minmax, zscore or none, got '${norm}'`, { field: 'norm' });
  if (!(Number.isFinite(c) && c >= 0)) throw new UsageError(`the RRF constant must be a finite number >= 0, got ${c}`, { field: 'rrfK' });
  if (!(Number.isSafeInteger(k) && k >= 1)) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
  if (!(depth === Infinity || (Number.isSafeInteger(depth) && depth >= 1))) throw new UsageError(`depth must be a positive integer, got ${depth}`, { field: 'depth' });
  weights.forEach((w, i) => { if (!(Number.isFinite(w) && w >= 0)) throw new UsageError(`weight ${i + 1} must be a finite number >= 0, got ${w}`, { field: 'weights' }); });
  runs.forEach((r, i) => {
    for (const [qid, hits] of r) {
      for (const h of hits) if (!Number.isFinite(h.score)) throw new NonFiniteError(`run ${i + 1}, query ${qid}, document ${h.docid}: score ${h.score}; fusion needs finite scores`, { field: 'score' });
    }
  });
  const qids: string[] = [];
  const seen = new Set<string>();
  for (const r of runs) for (const q of r.keys()) if (!seen.has(q)) { seen.add(q); qids.push(q); }
  const out: Run = new Map();
  for (const qid of qids) {
    const acc = new Map<string, number>();
    const lists = runs.map((r) => sortHits(r.get(qid) ?? []).slice(0, depth));
    if (method === 'rrf') {
      lists.forEach((hits, i) => hits.forEach((h, rank) => acc.set(h.docid, (acc.get(h.docid) ?? 0) + weights[i]! / (c + rank + 1))));
    } else {
      const normed = lists.map((hits) => normalise(hits, norm));
      const all = new Set<string>();
      for (const hits of lists) for (const h of hits) all.add(h.docid);
      lists.forEach((hits, i) => {
        const ns = normed[i]!;
        const floor = ns.length ? Math.min(...ns) : 0;
        const by = new Map(hits.map((h, j) => [h.docid, ns[j]!]));
        for (const d of all) acc.set(d, (acc.get(d) ?? 0) + weights[i]! * (by.get(d) ?? floor));
      });
    }
    const fused = [...acc].map(([docid, score]) => ({ docid, score }));
    fused.sort((a, b) => (b.score - a.score) || compareCodePoints(a.docid, b.docid));
    out.set(qid, strictlyDecreasing(fused.slice(0, k)));
  }
  return out;
}
