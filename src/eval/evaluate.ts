/**
 * Evaluation of a run against qrels with trec_eval 10.0's semantics (see docs/evaluation.md):
 * topics are taken from the qrels in qid order (byte order); without `complete` (-c) only topics that also
 * have results count, with it every qrels topic counts and a missing one is scored on an empty ranking (0 on
 * every measure, its num_rel still counted); queries of the run without judgements are ignored. The `all`
 * value is the sum over topics (num_ret, num_rel, num_rel_ret), exp of the mean log (gm_map), or the mean.
 * Two trec_eval 10.0 details kept on purpose: under -c the summary num_rel counts grades > 0 over all topics
 * whatever -l says; and where trec_eval 10.0 fails on a qrels topic without results (no -c), we average over
 * the topics present in both, the documented meaning. docs/evaluation.md lists every parity note.
 *
 * BEIR mode reproduces beir's EvaluateRetrieval: documents whose id equals the query id are dropped first, and
 * the mean is over the queries present in both run and qrels (so `complete` cannot be combined with it).
 */
import { UsageError } from '../errors.js';
import { DEFAULTS } from '../defaults.js';
import type { Hit, Qrels, Run } from '../types.js';
import { rankRels, type JudgeOptions } from './judge.js';
import { resolveMeasures, type MeasureRequest } from './measures.js';
import { compareCodePoints } from '../order.js';
import { readQrels, readRunFile } from '../io/trec.js';

export interface EvalOptions {
  /** trec_eval `-m` specs, e.g. `['ndcg_cut.10', 'recall.100']`; default `['official']`. */
  measures?: readonly string[];
  /** `-l`: lowest grade counted as relevant by binary measures (default 1). nDCG always uses raw grades. */
  relevanceLevel?: number;
  /** `-M`: evaluate only the first n documents of each ranking, after sorting. */
  maxDocs?: number;
  /** `-c`: average over every qrels topic; a topic without results scores 0. */
  complete?: boolean;
  /** `-J`: drop unjudged documents from each ranking before measuring. */
  judgedOnly?: boolean;
  /** BEIR mode: drop docid == qid, average over queries in both run and qrels. */
  beir?: boolean;
  /** Run tag printed as `runid` (default 'unknown'). */
  runid?: string;
}

/** One printed measure value column. */
export interface EvalColumn {
  name: string;
  integer: boolean;
  perQuery: boolean;
}

export interface EvalResult {
  runid: string;
  /** Topics averaged over (trec_eval's num_q). */
  numQ: number;
  /** Whether `runid` was requested (it is printed first in the summary). */
  showRunid: boolean;
  /** Numeric measures in printing order. */
  columns: EvalColumn[];
  /** The `all` values by printed name (`ndcg_cut_10`, `P_5`, `num_ret`, ...). */
  mean: Record<string, number>;
  /** Per-topic values (measures printed per query only), in evaluation order. */
  perQuery: Map<string, Record<string, number>>;
}

function checkOptions(opts: EvalOptions): JudgeOptions {
  const relevanceLevel = opts.relevanceLevel ?? DEFAULTS.eval.relevanceLevel;
  if (!Number.isInteger(relevanceLevel) || relevanceLevel < 0) {
    throw new UsageError(`relevance level must be a non-negative integer, got ${relevanceLevel}`, { field: 'relevanceLevel' });
  }
  const maxDocs = opts.maxDocs ?? Infinity;
  if (maxDocs !== Infinity && (!Number.isInteger(maxDocs) || maxDocs <= 0)) {
    throw new UsageError(`max documents per topic (-M) must be a positive integer, got ${maxDocs}`, { field: 'maxDocs' });
  }
  if (opts.beir && opts.complete) {
    throw new UsageError('BEIR mode averages over queries in both run and qrels; it cannot be combined with -c', { field: 'complete' });
  }
  return { relevanceLevel, maxDocs, judgedOnly: opts.judgedOnly ?? false };
}

/**
 * trec_eval 10.0's summary num_rel under -c (m_num_rel.c): judgements with grade > 0 over all qrels topics,
 * whatever the relevance level, although the per-topic num_rel does honour -l.
 */
function positiveJudgements(qrels: Qrels): number {
  let n = 0;
  for (const m of qrels.values()) for (const g of m.values()) if (g > 0) n++;
  return n;
}

/** trec_eval refuses a ranking that lists a document twice; so do we (readRun already checks files). */
function assertUniqueDocids(qid: string, hits: readonly Hit[]): void {
  const seen = new Set<string>();
  for (const h of hits) {
    if (seen.has(h.docid)) throw new UsageError(`run lists document ${h.docid} twice for query ${qid}`, { field: 'run' });
    seen.add(h.docid);
  }
}

/**
 * Evaluate `run` against `qrels`.
 *
 * @example
 * ```ts
 * const r = evaluate(qrels, run, { measures: ['ndcg_cut.10', 'recip_rank'], maxDocs: 10 });
 * r.mean['ndcg_cut_10']; // averaged over topics in both run and qrels
 * ```
 */
export function evaluate(qrels: Qrels, run: Run, opts: EvalOptions = {}): EvalResult {
  const judge = checkOptions(opts);
  const requests: MeasureRequest[] = resolveMeasures(opts.measures ?? []);
  const numeric = requests.filter((q) => q.def.name !== 'runid');
  const columns: EvalColumn[] = numeric.flatMap((q) => q.names.map((name) => ({ name, integer: q.def.integer, perQuery: q.def.perQuery })));

  const topics = [...qrels.keys()].sort(compareCodePoints).filter((qid) => opts.complete || run.has(qid));
  if (topics.length === 0) {
    throw new UsageError('no query has both results and relevance judgements', {
      hint: 'check that the run and the qrels use the same query ids',
    });
  }
  const sums = new Map<string, number>(columns.map((c) => [c.name, 0]));
  const perQuery = new Map<string, Record<string, number>>();
  const empty: Hit[] = [];
  for (const qid of topics) {
    let hits = run.get(qid) ?? empty;
    if (opts.beir) hits = hits.filter((h) => h.docid !== qid);
    assertUniqueDocids(qid, hits);
    const ranked = rankRels(hits, qrels.get(qid)!, judge);
    const row: Record<string, number> = {};
    for (const q of numeric) {
      const values = q.def.compute(ranked, judge.relevanceLevel, q.cutoffs);
      for (let i = 0; i < q.names.length; i++) {
        const name = q.names[i]!;
        sums.set(name, sums.get(name)! + values[i]!);
        if (q.def.perQuery) row[name] = values[i]!;
      }
    }
    perQuery.set(qid, row);
  }
  const numQ = topics.length;
  const mean: Record<string, number> = {};
  for (const q of numeric) {
    for (const name of q.names) {
      const s = sums.get(name)!;
      switch (q.def.aggregate) {
        case 'count': mean[name] = numQ; break;
        case 'sum': mean[name] = s; break;
        case 'geomean': mean[name] = Math.exp(s / numQ); break;
        case 'mean': mean[name] = s / numQ; break;
      }
    }
  }
  if (opts.complete && 'num_rel' in mean) mean.num_rel = positiveJudgements(qrels);
  return {
    runid: opts.runid ?? 'unknown',
    numQ,
    showRunid: requests.some((q) => q.def.name === 'runid'),
    columns,
    mean,
    perQuery,
  };
}

/**
 * Read a qrels file and a run file and evaluate them; the run's tag becomes `runid`.
 * This is what `lion eval` calls.
 */
export async function evaluateFiles(qrelsPath: string, runPath: string, opts: EvalOptions = {}): Promise<EvalResult> {
  const [qrels, runFile] = await Promise.all([readQrels(qrelsPath), readRunFile(runPath)]);
  return evaluate(qrels, runFile.run, { runid: runFile.tag, ...opts });
}
