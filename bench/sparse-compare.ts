/** What the sparse benchmarks share: one query out of a batch, and approximate search scored against exact. */
import { type QueryBatch, searchSparse } from '../src/index/inverted/search.js';

/** Query `q` of a batch as a batch of one. */
export function one(qb: QueryBatch, q: number): QueryBatch {
  const a = qb.off[q]!, b = qb.off[q + 1]!;
  return { off: Uint32Array.of(0, b - a), terms: qb.terms.subarray(a, b), weights: qb.weights.subarray(a, b) };
}

/** Fraction of the exact top-`depth` found, averaged over queries (ties: a hit with the k-th exact score counts). */
export function agreement(ex: ReturnType<typeof searchSparse>, r: ReturnType<typeof searchSparse>, depth: number): number {
  const k = ex.k, nq = ex.counts.length;
  let s = 0;
  for (let q = 0; q < nq; q++) {
    const n = Math.min(depth, ex.counts[q]!);
    if (n === 0) { s += 1; continue; }
    const set = new Set(Array.from(ex.docs.subarray(q * k, q * k + n)));
    const kth = ex.scores[q * k + n - 1]!;
    let hit = 0;
    for (let i = 0; i < Math.min(depth, r.counts[q]!); i++) if (set.has(r.docs[q * k + i]!) || r.scores[q * k + i]! >= kth) hit++;
    s += Math.min(1, hit / n);
  }
  return s / nq;
}
