/**
 * Document reordering by recursive graph bisection (Dhulipala et al., KDD 2016; as used for BMP and learned
 * sparse indexes by Mackenzie et al.): the collection is split in two halves, and documents are swapped
 * between them, best pairs first, while a swap lowers the estimated cost of coding each term's postings
 * (a term of degree x in a half of n documents costs about x * log2(n / (x + 1))); then each half is split
 * again, down to blocks of `minSize` documents. Similar documents end up at nearby positions, so a
 * block-max block holds documents about the same things and its bounds are tight, and a term's pruned list,
 * read in position order, falls into blocks of similar documents.
 *
 * `bisectionOrder` returns the new order (order[newPosition] = old position). The native loop
 * (native/search/reorder.h) and the TypeScript twin below follow the same steps; floating-point gains may
 * round differently across the two, so tests check the properties (a permutation, lower cost, same search
 * results) rather than bit-identical orders.
 */
import { searchAddon } from '../native.js';

export interface BisectionOptions {
  /** Swap rounds per level. */
  iters: number;
  /** Stop splitting at this many documents. */
  minSize: number;
  /** Force the TypeScript twin. */
  backend?: 'native' | 'ref';
}

const cost = (x: number, n: number) => (x > 0 ? x * Math.log2(n / (x + 1)) : 0);

/** The reordering permutation (order[newPosition] = old position). */
export function bisectionOrder(fwdOffsets: Uint32Array, fwdTerms: Uint32Array, vocab: number, opts: BisectionOptions): Uint32Array {
  const N = fwdOffsets.length - 1;
  const order = new Uint32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  if (N < 2 || opts.iters === 0) return order;
  const addon = opts.backend === 'ref' ? null : searchAddon();
  if (addon?.reorderBisection) { addon.reorderBisection(order, fwdOffsets, fwdTerms, vocab, opts.iters, opts.minSize); return order; }
  const degL = new Int32Array(vocab), degR = new Int32Array(vocab);
  const gL = new Float64Array(vocab), gR = new Float64Array(vocab);
  const mark = new Uint8Array(vocab);
  const stack: Array<[number, number]> = [[0, N]];
  while (stack.length > 0) {
    const [lo, hi] = stack.pop()!;
    const n = hi - lo;
    if (n <= opts.minSize || n < 2) continue;
    const mid = lo + (n >> 1), nL = mid - lo, nR = hi - mid;
    const touched: number[] = [];
    for (let i = lo; i < hi; i++) {
      const d = order[i]!, deg = i < mid ? degL : degR;
      for (let p = fwdOffsets[d]!; p < fwdOffsets[d + 1]!; p++) {
        const t = fwdTerms[p]!;
        if (!mark[t]) { mark[t] = 1; touched.push(t); }
        deg[t]!++;
      }
    }
    const gain = new Float64Array(n);
    for (let it = 0; it < opts.iters; it++) {
      for (const t of touched) {
        const l = degL[t]!, r = degR[t]!, base = cost(l, nL) + cost(r, nR);
        gL[t] = l > 0 ? base - cost(l - 1, nL) - cost(r + 1, nR) : 0;
        gR[t] = r > 0 ? base - cost(l + 1, nL) - cost(r - 1, nR) : 0;
      }
      for (let i = lo; i < hi; i++) {
        const d = order[i]!, g = i < mid ? gL : gR;
        let s = 0;
        for (let p = fwdOffsets[d]!; p < fwdOffsets[d + 1]!; p++) s += g[fwdTerms[p]!]!;
        gain[i - lo] = s;
      }
      const byGain = (a: number, b: number) => (gain[b - lo]! - gain[a - lo]!) || (order[a]! - order[b]!);
      const L = Array.from({ length: nL }, (_, i) => lo + i).sort(byGain);
      const R = Array.from({ length: nR }, (_, i) => mid + i).sort(byGain);
      const moves: Array<[number, number]> = [];
      for (let i = 0; i < Math.min(nL, nR); i++) {
        if (gain[L[i]! - lo]! + gain[R[i]! - lo]! <= 0) break;
        moves.push([L[i]!, R[i]!]);
      }
      if (moves.length === 0) break;
      for (const [a, b] of moves) {
        const da = order[a]!, db = order[b]!;
        for (let p = fwdOffsets[da]!; p < fwdOffsets[da + 1]!; p++) { const t = fwdTerms[p]!; degL[t]!--; degR[t]!++; }
        for (let p = fwdOffsets[db]!; p < fwdOffsets[db + 1]!; p++) { const t = fwdTerms[p]!; degR[t]!--; degL[t]!++; }
        order[a] = db; order[b] = da;
      }
    }
    for (const t of touched) { degL[t] = 0; degR[t] = 0; mark[t] = 0; }
    stack.push([mid, hi], [lo, mid]);
  }
  return order;
}

/** The forward index and ids in the new order. */
export function permuteForward(fwdOffsets: Uint32Array, fwdTerms: Uint32Array, fwdW: Float32Array, ids: string[], order: Uint32Array): { fwdOffsets: Uint32Array; fwdTerms: Uint32Array; fwdW: Float32Array; ids: string[] } {
  const N = order.length;
  const off = new Uint32Array(N + 1), terms = new Uint32Array(fwdTerms.length), w = new Float32Array(fwdW.length);
  const newIds = new Array<string>(N);
  for (let i = 0; i < N; i++) {
    const d = order[i]!, a = fwdOffsets[d]!, b = fwdOffsets[d + 1]!;
    terms.set(fwdTerms.subarray(a, b), off[i]!);
    w.set(fwdW.subarray(a, b), off[i]!);
    off[i + 1] = off[i]! + (b - a);
    newIds[i] = ids[d]!;
  }
  return { fwdOffsets: off, fwdTerms: terms, fwdW: w, ids: newIds };
}

/** Sum over terms and block-sized ranges of the bisection cost: lower means similar documents sit closer. */
export function orderCost(fwdOffsets: Uint32Array, fwdTerms: Uint32Array, vocab: number, block: number): number {
  const N = fwdOffsets.length - 1;
  const deg = new Int32Array(vocab);
  let total = 0;
  for (let b0 = 0; b0 < N; b0 += block) {
    const b1 = Math.min(N, b0 + block);
    const touched: number[] = [];
    for (let d = b0; d < b1; d++) for (let p = fwdOffsets[d]!; p < fwdOffsets[d + 1]!; p++) { const t = fwdTerms[p]!; if (deg[t]!++ === 0) touched.push(t); }
    total += touched.length; // distinct terms per block: what block-max bounds pay for
    for (const t of touched) deg[t] = 0;
  }
  return total;
}
