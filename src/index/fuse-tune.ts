/**
 * Choosing fusion weights on a development qrels file (`lion fuse --tune`): a grid over the weight simplex
 * (weights ≥ 0 summing to 1, in steps of `step`) for each normalisation (weighted sums after min-max and
 * z-score, and weighted RRF), scored by the mean of one trec_eval measure over the dev topics. The best
 * setting (ties: the first in grid order) is returned with every setting tried, so the choice is auditable.
 *
 * Tune on train or dev judgements only: `checkDevQrels` refuses a qrels file named like a test split unless
 * the caller says otherwise, and the chosen weights are recorded in a JSON file to apply to other runs.
 */
import { basename } from 'node:path';
import { UsageError } from '../errors.js';
import { measureKey } from '../eval/compare.js';
import { evaluate } from '../eval/evaluate.js';
import type { Qrels, Run } from '../types.js';
import { DEFAULTS } from '../defaults.js';
import { compareCodePoints, sortHits } from '../order.js';
import { normaliseScores, type FusionMethod, type FusionNorm } from './fusion.js';
import { strictlyDecreasing } from './topk.js';

export interface FusionSetting {
  method: FusionMethod;
  norm: FusionNorm;
  weights: number[];
}

export interface TuneOptions {
  /** trec_eval measure to maximise (default ndcg_cut.10). */
  measure?: string;
  /** Grid step of the weights (default 0.05). */
  step?: number;
  /** Settings family: `sum` with these normalisations, and `rrf` (default both normalisations and rrf). */
  norms?: FusionNorm[];
  rrf?: boolean;
  /** Hits per input run used (default 1000) and in the fused run (default 1000). */
  depth?: number;
  k?: number;
}

export interface TuneResult extends FusionSetting {
  measure: string;
  /** Mean of the measure on the dev topics with the chosen setting. */
  score: number;
  /** Each single run on its own, for comparison. */
  singles: number[];
  topics: number;
  tried: Array<FusionSetting & { score: number }>;
}

/** All weight vectors of `n` non-negative multiples of `step` summing to 1. */
export function simplexGrid(n: number, step: number): number[][] {
  const m = Math.round(1 / step);
  if (!(step > 0 && step <= 1) || Math.abs(m * step - 1) > 1e-9) throw new UsageError(`grid step must divide 1 (e.g. 0.05, 0.1), got ${step}`, { field: 'step' });
  if (n > 1 && m ** (n - 1) > 200_000) throw new UsageError(`a grid of step ${step} over ${n} runs is too large; use a coarser step`, { field: 'step' });
  const out: number[][] = [];
  const rec = (prefix: number[], left: number) => {
    if (prefix.length === n - 1) { out.push([...prefix, left].map((x) => Math.round(x) / m)); return; }
    for (let i = 0; i <= left; i++) rec([...prefix, i], left - i);
  };
  rec([], m);
  return out;
}

/** Refuses a qrels file whose name says it is a test split (tuning on test judgements inflates every result). */
export function checkDevQrels(path: string, allowTest = false): void {
  if (!allowTest && /(^|[^a-z])test([^a-z]|$)/i.test(basename(path))) {
    throw new UsageError(`${path} looks like a test split; tune on train or dev judgements`, { field: 'qrels', hint: 'pass --allow-test only if this file really holds no test topics' });
  }
}

/**
 * Pick fusion weights that maximise `measure` on `qrels`.
 * @example
 * const t = tuneFusion([bm25Run, sparseRun], await readQrels('scifact/qrels/train.tsv'));
 * const hybrid = fuseRuns([bm25Test, sparseTest], t); // apply to other queries (src/index/fusion.ts)
 */
export function tuneFusion(runs: Run[], qrels: Qrels, opts: TuneOptions = {}): TuneResult {
  if (runs.length < 2) throw new UsageError('tuning fusion needs at least two runs');
  const measure = opts.measure ?? 'ndcg_cut.10';
  const key = measureKey(measure);
  const step = opts.step ?? 0.05;
  const norms = opts.norms ?? ['minmax', 'zscore'];
  const depth = opts.depth ?? 1000;
  const k = opts.k ?? 1000;
  // Only the judged queries matter; fusing the others would be wasted work.
  const judged = (r: Run): Run => new Map([...r].filter(([q]) => qrels.has(q)));
  const dev = runs.map(judged);
  const topics = new Set(dev.flatMap((r) => [...r.keys()])).size;
  if (!topics) throw new UsageError('no query of the runs is judged in the dev qrels', { field: 'qrels' });
  const score = (r: Run) => evaluate(qrels, r, { measures: [measure] }).mean[key] ?? 0;
  const singles = dev.map(score);
  const grid = simplexGrid(runs.length, step);
  // Hits the measure can see: a cut-off measure (ndcg_cut.10, recall.100) needs only that many.
  const cut = /\.(\d+)$/.exec(measure);
  const kEval = Math.min(k, cut ? Number(cut[1]) : k);
  const prepared = new Map<string, PreparedQuery[]>();
  const prep = (method: FusionMethod, norm: FusionNorm) => {
    const key2 = `${method}/${norm}`;
    let p = prepared.get(key2);
    if (!p) prepared.set(key2, (p = prepareQueries(dev, method, norm, depth)));
    return p;
  };
  const settings: FusionSetting[] = [];
  for (const norm of norms) for (const w of grid) settings.push({ method: 'sum', norm, weights: w });
  if (opts.rrf ?? true) for (const w of grid) if (w.every((x) => x > 0)) settings.push({ method: 'rrf', norm: 'none', weights: w });
  const tried = settings.map((s) => ({ ...s, score: score(fusePrepared(prep(s.method, s.norm), s.weights, kEval)) }));
  let best = tried[0]!;
  for (const t of tried) if (t.score > best.score + 1e-12) best = t;
  return { method: best.method, norm: best.norm, weights: best.weights, measure, score: best.score, singles, topics, tried };
}

/**
 * One query's fusion inputs, computed once per (method, normalisation): the union of the runs' documents in
 * docid order and, per run, each document's term of the sum (its normalised score, or 1 / (c + rank) for
 * RRF; a document missing from a run takes the run's lowest normalised score, or adds nothing under RRF).
 * `fusePrepared` then only multiplies by the weights, which is what makes the grid search fast; its results
 * equal `fuseRuns` (same sum order, same tie-break by docid, same strictly-decreasing scores).
 */
interface PreparedQuery {
  qid: string;
  docids: string[]; // (U) ascending code points
  terms: Float64Array[]; // (R) × (U): the normalised score, or RRF's denominator c + rank
  present: Uint8Array[]; // (R) × (U)
  rrf: boolean;
}

function prepareQueries(runs: Run[], method: FusionMethod, norm: FusionNorm, depth: number): PreparedQuery[] {
  const qids: string[] = [];
  const seen = new Set<string>();
  for (const r of runs) for (const q of r.keys()) if (!seen.has(q)) { seen.add(q); qids.push(q); }
  return qids.map((qid) => {
    const lists = runs.map((r) => sortHits(r.get(qid) ?? []).slice(0, depth));
    const all = new Set<string>();
    for (const l of lists) for (const h of l) all.add(h.docid);
    const docids = [...all].sort(compareCodePoints);
    const at = new Map(docids.map((d, i) => [d, i]));
    const terms: Float64Array[] = [], present: Uint8Array[] = [];
    for (const l of lists) {
      const t = new Float64Array(docids.length), p = new Uint8Array(docids.length);
      if (method === 'rrf') {
        l.forEach((h, rank) => { t[at.get(h.docid)!] = DEFAULTS.fusion.rrfK + rank + 1; p[at.get(h.docid)!] = 1; });
      } else {
        const ns = normaliseScores(l.map((h) => h.score), norm);
        const floor = ns.length ? Math.min(...ns) : 0;
        t.fill(floor);
        l.forEach((h, j) => { t[at.get(h.docid)!] = ns[j]!; p[at.get(h.docid)!] = 1; });
        p.fill(1); // every document gets this run's term (its score or the floor)
      }
      terms.push(t); present.push(p);
    }
    return { qid, docids, terms, present, rrf: method === 'rrf' };
  });
}

function fusePrepared(qs: PreparedQuery[], weights: number[], k: number): Run {
  const out: Run = new Map();
  for (const q of qs) {
    const U = q.docids.length;
    const acc = new Float64Array(U);
    for (let i = 0; i < q.terms.length; i++) {
      const t = q.terms[i]!, p = q.present[i]!, w = weights[i]!;
      if (q.rrf) { for (let u = 0; u < U; u++) if (p[u]) acc[u] = acc[u]! + w / t[u]!; } else for (let u = 0; u < U; u++) acc[u] = acc[u]! + w * t[u]!;
    }
    // Stable sort of docid-ordered entries by score: ties stay in docid order, as fuseRuns breaks them.
    const order = Array.from({ length: U }, (_, u) => u).sort((a, b) => acc[b]! - acc[a]! || a - b);
    out.set(q.qid, strictlyDecreasing(order.slice(0, k).map((u) => ({ docid: q.docids[u]!, score: acc[u]! }))));
  }
  return out;
}
