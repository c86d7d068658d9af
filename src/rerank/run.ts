/**
 * Re-ranking a first-stage run with a cross-encoder (src/encoders/cross.ts, trained by `lion rerank train`):
 * for each query the first `depth` hits of the run (in trec_eval order) are re-scored by the cross-encoder on
 * (query, document text) pairs and sorted by that score (ties: first-stage order); hits below `depth` follow
 * in their first-stage order. Scores are made strictly decreasing so trec_eval keeps exactly this order: the
 * re-ranked hits keep their cross-encoder scores, the tail gets scores below them (min − 1 − i).
 *
 * This is the standard way a learned model improves a BM25 run: the cross-encoder reads query and document
 * together, which a bi-encoder cannot, but only over `depth` candidates per query.
 */
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import { sortHits } from '../order.js';
import { strictlyDecreasing } from '../index/topk.js';
import type { Kernels } from '../kernels/types.js';
import { loadReranker, scorePairs, type Reranker } from '../train/rerank.js';
import type { Hit, Run } from '../types.js';

export interface RerankRunOptions {
  /** Hits per query re-scored (default DEFAULTS.rerank.depth). */
  depth?: number;
  queryMaxLength?: number;
  docMaxLength?: number;
  /** Pairs scored per forward pass at most. */
  maxBatch?: number;
  /** Called after each query with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Load a cross-encoder directory (an adapter needs its base model). */
export function openReranker(dir: string, base?: string, kernels?: Kernels): Reranker {
  return loadReranker(dir, base, kernels);
}

/**
 * Re-rank `run` with cross-encoder `rr`. `queries` maps query id → text; `docText` gives a document's text.
 * Queries of the run without text, and documents without text, are errors (named).
 * @example
 * const rr = openReranker('ce-model');
 * const better = rerankRun(rr, await readRun('bm25.trec'), queries, (id) => corpus.get(id), { depth: 100 });
 */
export function rerankRun(rr: Reranker, run: Run, queries: ReadonlyMap<string, string>, docText: (docid: string) => string | undefined, o: RerankRunOptions = {}): Run {
  const depth = o.depth ?? DEFAULTS.rerank.depth;
  if (!Number.isInteger(depth) || depth < 1) throw new UsageError(`depth must be a positive integer, got ${depth}`, { field: 'depth' });
  const out: Run = new Map();
  let done = 0;
  for (const [qid, hits] of run) {
    const query = queries.get(qid);
    if (query === undefined) throw new UsageError(`query ${qid} of the run has no text in the queries file`, { field: 'queries' });
    const sorted = sortHits(hits);
    const head = sorted.slice(0, depth);
    const pairs = head.map((h) => {
      const doc = docText(h.docid);
      if (doc === undefined) throw new UsageError(`document ${h.docid} (query ${qid}) is not in the corpus`, { field: 'corpus' });
      return { query, doc };
    });
    const scores = pairs.length ? scorePairs(rr, pairs, { queryMaxLength: o.queryMaxLength, docMaxLength: o.docMaxLength ?? DEFAULTS.rerank.maxLength, maxBatch: o.maxBatch ?? DEFAULTS.rerank.batchSize }) : new Float32Array(0);
    const order = head.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
    const reranked: Hit[] = order.map((i) => ({ docid: head[i]!.docid, score: scores[i]! }));
    const floor = reranked.length ? Math.min(...reranked.map((h) => h.score)) : 0;
    sorted.slice(depth).forEach((h, i) => reranked.push({ docid: h.docid, score: floor - 1 - i }));
    out.set(qid, strictlyDecreasing(reranked));
    o.onProgress?.(++done, run.size);
  }
  return out;
}
