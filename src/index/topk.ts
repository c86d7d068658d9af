/**
 * Top-k selection and result packing shared by the sparse and dense indexes (TypeScript twins of
 * native/search/common.h). Order: higher score first, equal scores by lower document position. Results are
 * packed as (Q, k) typed arrays; `toRun` maps positions to external ids and makes scores strictly decreasing.
 */
import type { Hit, Run } from '../types.js';

/** Packed search results for Q queries. */
export interface SearchResult {
  k: number;
  docs: Int32Array; // (Q, k) document positions, best first
  scores: Float32Array; // (Q, k)
  counts: Uint32Array; // (Q) hits found (<= k)
  visited: Float64Array; // (Q) postings / block bounds / vectors touched
}

export function emptyResult(nq: number, k: number): SearchResult {
  return { k, docs: new Int32Array(nq * k), scores: new Float32Array(nq * k), counts: new Uint32Array(nq), visited: new Float64Array(nq) };
}

/** Is (scoreA, docA) ranked before (scoreB, docB)? Higher score first, then lower document position. */
export function better(sa: number, da: number, sb: number, db: number): boolean {
  return sa > sb || (sa === sb && da < db);
}

/**
 * Bounded min-heap of the k best (score, doc) pairs; the root is the worst kept. The one top-k heap of Lion:
 * the sparse and dense index twins and BM25 all select through it.
 */
export class TopK {
  readonly s: Float64Array;
  readonly d: Int32Array;
  n = 0;
  constructor(readonly k: number) {
    this.s = new Float64Array(k);
    this.d = new Int32Array(k);
  }
  get full(): boolean { return this.n === this.k; }
  threshold(): number { return this.n === this.k ? this.s[0]! : -Infinity; }
  push(score: number, doc: number): void {
    const { s, d } = this;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) { // sift the hole up past better parents
        const p = (i - 1) >> 1;
        if (!better(s[p]!, d[p]!, score, doc)) break;
        s[i] = s[p]!; d[i] = d[p]!;
        i = p;
      }
      s[i] = score; d[i] = doc;
      return;
    }
    if (this.k === 0 || !better(score, doc, s[0]!, d[0]!)) return;
    this.siftDown(this.n, score, doc);
  }
  /** Put (score, doc) at the root of a heap of `size` entries, moving worse children up. */
  private siftDown(size: number, score: number, doc: number): void {
    const { s, d } = this;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      let w = l; // the worse child
      if (l + 1 < size && better(s[l]!, d[l]!, s[l + 1]!, d[l + 1]!)) w = l + 1;
      if (!better(score, doc, s[w]!, d[w]!)) break;
      s[i] = s[w]!; d[i] = d[w]!;
      i = w;
    }
    s[i] = score; d[i] = doc;
  }
  /**
   * Empties the heap into `docs`/`scores` from `offset`, best first (heap sort: the worst goes to the last
   * slot); returns how many were written.
   */
  drainInto(docs: { [i: number]: number }, scores: { [i: number]: number }, offset = 0): number {
    const { s, d } = this;
    const n = this.n;
    for (let end = n - 1; end >= 0; end--) {
      docs[offset + end] = d[0]!;
      scores[offset + end] = s[0]!;
      if (end > 0) this.siftDown(end, s[end]!, d[end]!);
    }
    this.n = 0;
    return n;
  }
  /** Writes the kept hits best-first into row q of `out` (and empties the heap). */
  emit(out: SearchResult, q: number): void {
    out.counts[q] = this.drainInto(out.docs, out.scores, q * out.k);
  }
}

/** The largest float64 strictly below x. */
export function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const b = new Float64Array([x]);
  const i = new BigInt64Array(b.buffer);
  i[0] = x > 0 ? i[0]! - 1n : i[0]! + 1n;
  return b[0]!;
}

/**
 * Hits of row q with strictly decreasing scores: results are already best-first (ties by position), and a
 * score equal to (or, after an earlier nudge, above) the previous one is lowered to the next float64 below
 * it. trec_eval then keeps exactly this order, instead of breaking ties by docno.
 */
export function hitsOf(r: SearchResult, q: number, ids: (pos: number) => string): Hit[] {
  const hits: Hit[] = [];
  for (let i = 0; i < r.counts[q]!; i++) hits.push({ docid: ids(r.docs[q * r.k + i]!), score: r.scores[q * r.k + i]! });
  return strictlyDecreasing(hits);
}

/** Make best-first `hits` strictly decreasing in place: each score not below its predecessor becomes the next
 * float64 under it. Returns `hits`. */
export function strictlyDecreasing(hits: Hit[]): Hit[] {
  for (let i = 1; i < hits.length; i++) if (hits[i]!.score >= hits[i - 1]!.score) hits[i]!.score = nextDown(hits[i - 1]!.score);
  return hits;
}

/** A Run from packed results: query ids in order, document positions mapped through `ids`. */
export function toRun(r: SearchResult, qids: string[], ids: (pos: number) => string): Run {
  const run: Run = new Map();
  qids.forEach((qid, q) => run.set(qid, hitsOf(r, q, ids)));
  return run;
}
