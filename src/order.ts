/**
 * The one ranking order of Lion, trec_eval's: score descending, ties broken by docno descending, where docnos
 * compare as C `strcmp` compares their UTF-8 bytes (code-point order). The rank column of a run file is
 * never used. Both the evaluator and `writeRun` sort with `compareHits`, so a written run is read back in the
 * order it was written.
 */
import type { Hit } from './types.js';

/** Compare two strings by Unicode code point (= UTF-8 byte order, = strcmp on UTF-8), ascending. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 code units order surrogates (U+D800..DFFF) below U+E000..FFFF; code points order them above.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** trec_eval's order: higher score first; equal scores by docno descending. */
export function compareHits(a: Hit, b: Hit): number {
  if (a.score > b.score) return -1;
  if (a.score < b.score) return 1;
  return compareCodePoints(b.docid, a.docid);
}

/** A sorted copy of `hits` in trec_eval's order. */
export function sortHits(hits: readonly Hit[]): Hit[] {
  return hits.slice().sort(compareHits);
}
