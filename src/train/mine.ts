/**
 * Hard-negative mining: turn a first-stage run (BM25 or a Lion retriever) and the training qrels into a CL
 * training file (spec §5.1: `{"question", "pos_pid", "neg_pids"}`), one example per (query, relevant document)
 * pair, as MS MARCO's training data has one line per qrels pair.
 *
 * Negatives of a query: its run's hits in score order (trec_eval order: score descending, docid descending on
 * ties), minus every document judged relevant (grade > 0) for that query, after skipping the first `skip`
 * hits (very top hits are often unjudged positives), up to `negatives`. Queries without a relevant document
 * or without text are skipped and counted.
 */
import { UsageError } from '../errors.js';
import { sortHits } from '../order.js';
import { readQueries } from '../io/corpus.js';
import type { ClExample } from '../io/training.js';
import { readQrels, readRun } from '../io/trec.js';
import type { Qrels, Run } from '../types.js';
import { openAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';

export interface MineOptions {
  /** Negatives kept per query (default 50). */
  negatives?: number;
  /** Top hits skipped before taking negatives (default 0). */
  skip?: number;
  /** Show progress (examples written of the total, ETA) even when stderr is not a terminal. */
  progress?: boolean;
}

export interface MineResult {
  examples: ClExample[];
  /** Queries of the qrels without any relevant document, text, run, or any non-relevant hit to use as a negative. */
  skipped: number;
}

/** Mine negatives for every judged query (see the file comment). */
export function mineNegatives(run: Run, qrels: Qrels, queries: ReadonlyMap<string, string>, opts: MineOptions = {}): MineResult {
  const n = opts.negatives ?? 50, skip = opts.skip ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--negatives must be a positive integer, got ${n}`);
  if (!Number.isInteger(skip) || skip < 0) throw new UsageError(`--skip must be a non-negative integer, got ${skip}`);
  const examples: ClExample[] = [];
  let skipped = 0;
  for (const [qid, judged] of qrels) {
    const positives = [...judged].filter(([, g]) => g > 0).map(([d]) => d);
    const text = queries.get(qid);
    const hits = run.get(qid);
    if (positives.length === 0 || text === undefined || !hits) { skipped++; continue; }
    const negIds = sortHits(hits).slice(skip).map((h) => h.docid).filter((d) => !((judged.get(d) ?? 0) > 0)).slice(0, n);
    // Every training format needs at least one negative: a query whose hits are all relevant gives no example.
    if (negIds.length === 0) { skipped++; continue; }
    for (const posId of positives) examples.push({ kind: 'cl', query: text, posId, negIds });
  }
  return { examples, skipped };
}

/** Read a run, qrels and queries, mine, and write the CL training file atomically. */
export async function mineToFile(o: { run: string; qrels: string; queries: string; out: string } & MineOptions): Promise<MineResult> {
  const [run, qrels] = await Promise.all([readRun(o.run), readQrels(o.qrels)]);
  const queries = new Map<string, string>();
  for await (const q of readQueries(o.queries)) queries.set(q.id, q.text);
  const r = mineNegatives(run, qrels, queries, o);
  const bar = new Progress('mine', r.examples.length, 'examples', o.progress);
  const w = await openAtomic(o.out);
  try {
    for (const e of r.examples) { await w.write(`${JSON.stringify({ question: e.query, pos_pid: e.posId, neg_pids: e.negIds })}\n`); bar.tick(); }
    await w.commit();
    bar.finish();
  } catch (e) { await w.abort(); throw e; }
  return r;
}
