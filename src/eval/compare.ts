/**
 * Paired comparison of two runs on the same qrels: the mean of a measure for each, the per-query
 * differences (b − a) over the topics both runs are evaluated on, and two-sided paired significance tests (the
 * t-test and the seeded randomisation test of src/server/stats.ts). Used by `lion rerank run`, `lion fuse
 * --tune` and the documentation's tables.
 */
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import { pairedRandomisationTest, pairedTTest } from './significance.js';
import type { Qrels, Run } from '../types.js';
import { evaluate } from './evaluate.js';

export interface RunComparison {
  measure: string;
  /** Topics compared (in both runs' evaluations). */
  n: number;
  a: number;
  b: number;
  /** b − a. */
  diff: number;
  /** Topics where b beats / loses to / ties a. */
  wins: number;
  losses: number;
  ties: number;
  tTestP: number;
  randomisationP: number;
}

/** The printed name of a trec_eval measure spec (`ndcg_cut.10` → `ndcg_cut_10`). */
export function measureKey(measure: string): string {
  return measure.replace('.', '_');
}

/** Per-query values of one measure (topics in both qrels and run, trec_eval's default averaging). */
export function perQuery(qrels: Qrels, run: Run, measure: string): Map<string, number> {
  const r = evaluate(qrels, run, { measures: [measure] });
  const key = measureKey(measure);
  const out = new Map<string, number>();
  for (const [q, row] of r.perQuery) if (row[key] !== undefined) out.set(q, row[key]!);
  return out;
}

/**
 * Compare run `b` with run `a` on `measure` over the qrels topics (a topic missing from one run scores 0 there).
 * @example compareRuns(qrels, bm25Run, rerankedRun, 'ndcg_cut.10') // { a: 0.67, b: 0.70, diff: 0.03, tTestP: 0.01, ... }
 */
export function compareRuns(qrels: Qrels, a: Run, b: Run, measure: string = 'ndcg_cut.10', trials: number = DEFAULTS.serve.randomisationTrials): RunComparison {
  const pa = perQuery(qrels, a, measure), pb = perQuery(qrels, b, measure);
  const topics = [...new Set([...pa.keys(), ...pb.keys()])].sort();
  if (!topics.length) throw new UsageError('the runs share no topic with the qrels', { field: 'qrels' });
  const diffs = topics.map((q) => (pb.get(q) ?? 0) - (pa.get(q) ?? 0));
  const mean = (m: Map<string, number>) => topics.reduce((s, q) => s + (m.get(q) ?? 0), 0) / topics.length;
  return {
    measure, n: topics.length, a: mean(pa), b: mean(pb), diff: mean(pb) - mean(pa),
    wins: diffs.filter((d) => d > 1e-12).length, losses: diffs.filter((d) => d < -1e-12).length, ties: diffs.filter((d) => Math.abs(d) <= 1e-12).length,
    tTestP: pairedTTest(diffs).p, randomisationP: pairedRandomisationTest(diffs, trials, DEFAULTS.serve.seed).p,
  };
}

/** One line: `ndcg_cut.10 0.6789 → 0.7012 (+0.0223, 301 topics, 80 better / 40 worse; t-test p 0.003, randomisation p 0.004)`. */
export function formatComparison(c: RunComparison, names: [string, string] = ['first', 'second']): string {
  const sign = c.diff >= 0 ? '+' : '';
  return `${c.measure}: ${names[0]} ${c.a.toFixed(4)} → ${names[1]} ${c.b.toFixed(4)} (${sign}${c.diff.toFixed(4)}; ${c.n} topics, ${c.wins} better, ${c.losses} worse; paired t-test p ${fmtP(c.tTestP)}, randomisation p ${fmtP(c.randomisationP)})`;
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}
