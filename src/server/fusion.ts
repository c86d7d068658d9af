/**
 * Reciprocal rank fusion of the ranked lists the page shows side by side (Cormack, Clarke & Büttcher, SIGIR
 * 2009): score(d) = Σ_s 1 / (c + rank_s(d)), rank from 1, c = 60 by default. A document absent from a list
 * contributes nothing for it. Ties are broken by docid ascending so the fused list is deterministic.
 */
import type { Hit } from '../types.js';

export interface FusedHit extends Hit {
  /** Rank (1-based) of the document in each input list, or null where it is absent; same order as input. */
  ranks: Array<number | null>;
}

/**
 * Fuse ranked lists (each best first) into one list of at most `k` hits.
 * @example rrf([[{docid:'a',score:3},{docid:'b',score:1}], [{docid:'b',score:9}]], 10, 60)
 *          // b first: 1/62 + 1/61 > a's 1/61
 */
export function rrf(lists: Hit[][], k: number, c = 60): FusedHit[] {
  const acc = new Map<string, FusedHit>();
  lists.forEach((list, s) => {
    list.forEach((h, i) => {
      let f = acc.get(h.docid);
      if (!f) {
        f = { docid: h.docid, score: 0, ranks: lists.map(() => null) };
        acc.set(h.docid, f);
      }
      if (f.ranks[s] === null) {
        f.ranks[s] = i + 1;
        f.score += 1 / (c + i + 1);
      }
    });
  });
  return [...acc.values()]
    .sort((a, b) => b.score - a.score || (a.docid < b.docid ? -1 : a.docid > b.docid ? 1 : 0))
    .slice(0, k);
}
