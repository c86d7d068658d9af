/**
 * The page's fused list: reciprocal rank fusion (src/index/fusion.ts, `fuseRuns`, c = DEFAULTS.fusion.rrfK)
 * of the ranked lists the systems returned for one query, with each fused document's rank in every input
 * list kept for display (null where a list lacks it).
 */
import { DEFAULTS } from '../defaults.js';
import { fuseRuns } from '../index/fusion.js';
import type { Hit } from '../types.js';

export interface FusedHit extends Hit {
  /** Rank (1-based) of the document in each input list, or null where it is absent; same order as input. */
  ranks: Array<number | null>;
}

/**
 * Fuse ranked lists (each best first) into one list of at most `k` hits.
 * @example rrf([[{docid:'a',score:3},{docid:'b',score:1}], [{docid:'b',score:9}]], 10)
 *          // b first: 1/62 + 1/61 > a's 1/61
 */
export function rrf(lists: Hit[][], k: number, c: number = DEFAULTS.fusion.rrfK): FusedHit[] {
  if (lists.length === 0) return [];
  const fused = fuseRuns(lists.map((hits) => new Map([['q', hits]])), { method: 'rrf', rrfK: c, k }).get('q') ?? [];
  const rankIn = lists.map((hits) => new Map(hits.map((h, i) => [h.docid, i + 1])));
  return fused.map((h) => ({ docid: h.docid, score: h.score, ranks: rankIn.map((m) => m.get(h.docid) ?? null) }));
}
