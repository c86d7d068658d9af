/**
 * Sparse search over an InvertedIndex: `exact` (score-at-a-time over every posting of the query terms),
 * `blockmax` (BMP-style block upper bounds with early termination; alpha = 1 is safe, alpha < 1 faster and
 * approximate) and `impact` (candidates from the `lambda` highest-weight postings of the `cut` heaviest query
 * terms, each scored exactly through the forward index; approximate, tunable, in the spirit of Seismic). The native loops (native/search/sparse.h) run batches over all cores; the functions
 * `exactRef`, `blockMaxRef` and `impactRef` below are their TypeScript twins: the same float32 operations in the same
 * order (Math.fround where C++ rounds to float), used as the fallback and compared in tests.
 * Scores are dot products with float32 accumulation in ascending term order; only documents with a
 * positive score are returned (as the paper's threshold 0, spec §6.1).
 */
import { DEFAULTS } from '../../defaults.js';
import { ShapeError, UsageError } from '../../errors.js';
import type { SparseVec } from '../../types.js';
import { defaultThreads, searchAddon } from '../native.js';
import { emptyResult, type SearchResult, TopK } from '../topk.js';
import type { InvertedIndex } from './format.js';

/** Query-time knobs (plain arguments; defaults in DEFAULTS.sparseSearch). */
export interface SparseSearchOptions {
  /** Hits per query. */
  k?: number;
  /** `exact` (all postings), `blockmax` (block upper bounds, early termination) or `impact` (impact-ordered candidates). */
  mode?: 'exact' | 'blockmax' | 'impact' | 'cluster';
  /** blockmax only: a block is scored while alpha x its bound > the k-th best score; 1 = safe (exact top-k). */
  alpha?: number;
  /** impact and cluster: how many query terms (those with the largest q_t x max weight) generate candidates. */
  cut?: number;
  /** cluster only: a block is scored when gamma x its summary estimate > the k-th best score (larger = more accurate); default by index size, `clusterDefaults`. */
  gamma?: number;
  /** impact only: candidates taken from the top of each chosen term's impact-ordered list. */
  lambda?: number;
  /** Threads for the batch (native backend); default LION_THREADS or all cores. */
  threads?: number;
  /** Force the TypeScript twin even when the addon is built. */
  backend?: 'native' | 'ref';
}

/** Queries packed as CSR: offsets (Q+1), ascending terms and weights. */
export interface QueryBatch {
  off: Uint32Array; // (Q + 1)
  terms: Uint32Array; // (sum nnz)
  weights: Float32Array; // (sum nnz)
}

/** Packs queries, checking term ids against the index vocabulary and the weights (finite, >= 0). */
export function packQueries(queries: SparseVec[], vocab: number, qids?: string[], file?: string): QueryBatch {
  let total = 0;
  for (const q of queries) total += q.terms.length;
  const off = new Uint32Array(queries.length + 1);
  const terms = new Uint32Array(total);
  const weights = new Float32Array(total);
  let o = 0;
  queries.forEach((q, i) => {
    const name = qids?.[i] ?? String(i);
    let prev = -1;
    for (let j = 0; j < q.terms.length; j++) {
      const t = q.terms[j]!, w = q.weights[j]!;
      if (t >= vocab) throw new ShapeError(`query ${name}: term id ${t} is outside the index vocabulary of ${vocab}`, { file, field: name });
      if (t <= prev) throw new ShapeError(`query ${name}: term ids must be ascending and unique`, { file, field: name });
      if (!Number.isFinite(w) || w < 0) throw new ShapeError(`query ${name}: weight ${w} of term ${t} must be finite and >= 0`, { file, field: name });
      prev = t;
      terms[o] = t; weights[o] = w; o++;
    }
    off[i + 1] = o;
  });
  return { off, terms, weights };
}

/** TypeScript twin of the native exact loop for query q (writes row q of `out`). */
export function exactRef(ix: InvertedIndex, qb: QueryBatch, q: number, out: SearchResult, acc = new Float32Array(ix.numDocs)): void {
  const { termOffsets, docIds, weights } = ix;
  const scale = Math.fround(ix.scale);
  let vis = 0;
  for (let i = qb.off[q]!; i < qb.off[q + 1]!; i++) {
    const t = qb.terms[i]!;
    const qs = Math.fround(qb.weights[i]! * scale);
    const b = termOffsets[t]!, e = termOffsets[t + 1]!;
    for (let p = b; p < e; p++) acc[docIds[p]!] += Math.fround(qs * weights[p]!);
    vis += e - b;
  }
  const heap = new TopK(out.k);
  if (qb.off[q + 1]! > qb.off[q]!) {
    let thr = 0;
    for (let d = 0; d < ix.numDocs; d++) {
      const a = acc[d]!;
      if (a > thr) { heap.push(a, d); if (heap.full) thr = Math.max(0, heap.threshold()); }
    }
    acc.fill(0);
  }
  heap.emit(out, q);
  out.visited[q] = vis;
}

const BUCKETS = 1024;
const SLACK = Math.fround(1 + 1e-5);

/** TypeScript twin of the native block-max loop for query q. */
export function blockMaxRef(ix: InvertedIndex, qb: QueryBatch, q: number, alphaIn: number, out: SearchResult): void {
  const f = Math.fround;
  const NB = ix.numBlocks, alpha = f(alphaIn), scale = f(ix.scale);
  const ub = new Float32Array(NB);
  const qd = new Map<number, number>();
  let vis = 0;
  for (let i = qb.off[q]!; i < qb.off[q + 1]!; i++) {
    const t = qb.terms[i]!, qw = qb.weights[i]!;
    qd.set(t, f(qw * scale));
    const row = ix.denseRow[t]!;
    if (row >= 0) {
      for (let b = 0; b < NB; b++) ub[b] += f(qw * ix.denseMax[row * NB + b]!);
      vis += NB;
    } else {
      for (let e = ix.bmOffsets[t]!; e < ix.bmOffsets[t + 1]!; e++) ub[ix.bmBlocks[e]!] += f(qw * ix.bmMax[e]!);
      vis += ix.bmOffsets[t + 1]! - ix.bmOffsets[t]!;
    }
  }
  const heap = new TopK(out.k);
  let maxUb = 0;
  for (let b = 0; b < NB; b++) if (ub[b]! > maxUb) maxUb = ub[b]!;
  if (maxUb > 0) {
    const inv = f(BUCKETS / maxUb);
    const bucket = (b: number) => BUCKETS - 1 - Math.min(BUCKETS - 1, Math.trunc(f(ub[b]! * inv)));
    const buckets: number[][] = Array.from({ length: BUCKETS }, () => []);
    for (let b = 0; b < NB; b++) if (ub[b]! > 0) buckets[bucket(b)]!.push(b);
    const scaleUb = f(f(f(ix.bmScale) * SLACK) * alpha);
    outer: for (let bi = 0; bi < BUCKETS; bi++) {
      if (buckets[bi]!.length === 0) continue;
      const edge = f(f(f(f(BUCKETS - bi) * maxUb) / BUCKETS) * SLACK);
      if (heap.full && f(edge * scaleUb) <= heap.threshold()) break outer;
      for (const b of buckets[bi]!) {
        if (heap.full && f(ub[b]! * scaleUb) <= heap.threshold()) continue;
        const d1 = Math.min(ix.numDocs, (b + 1) << ix.blockShift);
        for (let d = b << ix.blockShift; d < d1; d++) {
          let acc = 0;
          const p0 = ix.fwdOffsets[d]!, p1 = ix.fwdOffsets[d + 1]!;
          for (let p = p0; p < p1; p++) acc = f(acc + f((qd.get(ix.fwdTerms[p]!) ?? 0) * ix.fwdWeights[p]!));
          vis += p1 - p0;
          if (acc > 0) heap.push(acc, d);
        }
      }
    }
  }
  heap.emit(out, q);
  out.visited[q] = vis;
}

/** TypeScript twin of the native impact loop for query q. */
export function impactRef(ix: InvertedIndex, qb: QueryBatch, q: number, cut: number, lambda: number, out: SearchResult): void {
  const f = Math.fround;
  const qd = new Map<number, number>();
  const order: Array<[number, number]> = [];
  for (let i = qb.off[q]!; i < qb.off[q + 1]!; i++) {
    const t = qb.terms[i]!;
    qd.set(t, f(qb.weights[i]! * f(ix.scale)));
    order.push([f(qb.weights[i]! * ix.termMax[t]!), t]);
  }
  order.sort((a, b) => b[0] - a[0]); // stable: equal keys keep ascending term order, as std::stable_sort
  const seen = new Set<number>();
  const heap = new TopK(out.k);
  let vis = 0;
  for (const [, t] of order.slice(0, cut)) {
    const a = ix.impOffsets[t]!, b = Math.min(ix.impOffsets[t + 1]!, a + lambda);
    vis += b - a;
    for (let p = a; p < b; p++) {
      vis += rescoreOnce(ix, qd, ix.impDocs[p]!, seen, heap);
    }
  }
  heap.emit(out, q);
  out.visited[q] = vis;
}

/**
 * The exact score of candidate `d` through the forward index (float32 sums, as the native loops), pushed into
 * `heap` when positive; a document already in `seen` is skipped. Returns the postings read.
 */
function rescoreOnce(ix: InvertedIndex, qd: Map<number, number>, d: number, seen: Set<number>, heap: TopK): number {
  if (seen.has(d)) return 0;
  seen.add(d);
  const f = Math.fround;
  let acc = 0;
  const p0 = ix.fwdOffsets[d]!, p1 = ix.fwdOffsets[d + 1]!;
  for (let x = p0; x < p1; x++) acc = f(acc + f((qd.get(ix.fwdTerms[x]!) ?? 0) * ix.fwdWeights[x]!));
  if (acc > 0) heap.push(acc, d);
  return p1 - p0;
}

/** TypeScript twin of the native cluster loop for query q. */
export function clusterRef(ix: InvertedIndex, qb: QueryBatch, q: number, cut: number, gammaIn: number, out: SearchResult): void {
  const f = Math.fround;
  const gamma = f(gammaIn);
  const qd = new Map<number, number>(), qr = new Map<number, number>();
  const order: Array<[number, number]> = [];
  for (let i = qb.off[q]!; i < qb.off[q + 1]!; i++) {
    const t = qb.terms[i]!;
    qd.set(t, f(qb.weights[i]! * f(ix.scale)));
    qr.set(t, qb.weights[i]!);
    order.push([f(qb.weights[i]! * ix.termMax[t]!), t]);
  }
  order.sort((a, b) => b[0] - a[0]);
  const seen = new Set<number>();
  const heap = new TopK(out.k);
  let vis = 0;
  const blocks: Array<[number, number]> = [];
  for (const [, t] of order.slice(0, cut)) {
    for (let c = ix.clOffsets[t]!; c < ix.clOffsets[t + 1]!; c++) {
      let est = 0;
      const e0 = ix.clSumOffsets[c]!, e1 = ix.clSumOffsets[c + 1]!;
      for (let e = e0; e < e1; e++) est = f(est + f((qr.get(ix.clSumTerms[e]!) ?? 0) * ix.clSumCodes[e]!));
      vis += e1 - e0;
      blocks.push([f(est * ix.clSumScale[c]!), c]);
    }
  }
  blocks.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [est, c] of blocks) {
    if (heap.full && f(gamma * est) <= heap.threshold()) break;
    for (let i = ix.clDocOffsets[c]!; i < ix.clDocOffsets[c + 1]!; i++) {
      vis += rescoreOnce(ix, qd, ix.clDocs[i]!, seen, heap);
    }
  }
  heap.emit(out, q);
  out.visited[q] = vis;
}

/**
 * `cluster` search's default cut and gamma for an index of `numDocs` documents: more terms and a larger gamma
 * from `DEFAULTS.sparseSearch.clusterLarge.fromDocs` on, where the pruned lists hold a smaller share of each
 * term's postings.
 */
export function clusterDefaults(numDocs: number): { cut: number; gamma: number } {
  const d = DEFAULTS.sparseSearch;
  return numDocs >= d.clusterLarge.fromDocs ? { cut: d.clusterLarge.cut, gamma: d.clusterLarge.gamma } : { cut: d.clusterCut, gamma: d.gamma };
}

/**
 * The mode and knob values a sparse search uses once defaults are applied (what `lion search` reports);
 * `numDocs` is the size of the index searched (cluster defaults depend on it).
 */
export function resolvedSparseSettings(opts: SparseSearchOptions = {}, numDocs = 0): Record<string, string | number> {
  const mode = opts.mode ?? DEFAULTS.sparseSearch.mode;
  const k = opts.k ?? DEFAULTS.search.k;
  if (mode === 'blockmax') return { mode, k, alpha: opts.alpha ?? DEFAULTS.sparseSearch.alpha };
  if (mode === 'impact') return { mode, k, cut: opts.cut ?? DEFAULTS.sparseSearch.cut, lambda: opts.lambda ?? DEFAULTS.sparseSearch.lambda };
  if (mode === 'cluster') { const c = clusterDefaults(numDocs); return { mode, k, cut: opts.cut ?? c.cut, gamma: opts.gamma ?? c.gamma }; }
  return { mode, k };
}

/**
 * Searches a batch of sparse queries. Returns packed (Q, k) results: document positions (map them with
 * `ix.ids`), float32 scores best first (ties by position), hit counts and postings visited per query.
 * @example
 * ```ts
 * const ix = loadInvertedIndex('docs.lidx');
 * const r = searchSparse(ix, [{ terms: Uint32Array.of(5, 9), weights: Float32Array.of(1.2, 0.4) }], { k: 10 });
 * ```
 */
export function searchSparse(ix: InvertedIndex, queries: SparseVec[] | QueryBatch, opts: SparseSearchOptions = {}): SearchResult {
  const k = opts.k ?? DEFAULTS.search.k;
  const mode = opts.mode ?? DEFAULTS.sparseSearch.mode;
  const alpha = opts.alpha ?? (mode === 'blockmax' ? DEFAULTS.sparseSearch.alpha : 1);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
  if (mode !== 'exact' && mode !== 'blockmax' && mode !== 'impact' && mode !== 'cluster') throw new UsageError(`sparse search mode must be exact, blockmax, impact or cluster, got '${mode}'`, { field: 'mode' });
  const cut = opts.cut ?? (mode === 'cluster' ? clusterDefaults(ix.numDocs).cut : DEFAULTS.sparseSearch.cut);
  const gamma = opts.gamma ?? clusterDefaults(ix.numDocs).gamma;
  if (!(gamma > 0 && gamma <= 1e6)) throw new UsageError(`gamma must be in (0, 1e6], got ${gamma}`, { field: 'gamma' });
  if (mode === 'cluster' && ix.clSumScale.length === 0 && ix.numPostings > 0) throw new UsageError('this index has no clustered lists (built with --list-max 0); rebuild it or use another mode', { field: 'mode' });
  const lambda = opts.lambda ?? DEFAULTS.sparseSearch.lambda;
  if (!Number.isInteger(cut) || cut < 1 || !Number.isInteger(lambda) || lambda < 1) throw new UsageError(`cut and lambda must be positive integers, got ${cut} and ${lambda}`, { field: 'cut' });
  if (!(alpha > 0 && alpha <= 1)) throw new UsageError(`alpha must be in (0, 1], got ${alpha}`, { field: 'alpha' });
  const qb = Array.isArray(queries) ? packQueries(queries, ix.vocab) : queries;
  const nq = qb.off.length - 1;
  const out = emptyResult(nq, k);
  const addon = opts.backend === 'ref' ? null : searchAddon();
  // More threads than queries would only allocate idle accumulators.
  const threads = Math.max(1, Math.min(opts.threads ?? defaultThreads(), nq));
  if (addon) {
    if (mode === 'cluster' && addon.sparseCluster) {
      addon.sparseCluster(out.docs, out.scores, out.counts, out.visited, ix.numDocs, ix.termOffsets, ix.docIds, ix.weights, ix.scale,
        ix.fwdOffsets, ix.fwdTerms, ix.fwdWeights, ix.clOffsets, ix.clDocOffsets, ix.clDocs, ix.clSumOffsets, ix.clSumTerms, ix.clSumCodes,
        ix.clSumScale, ix.termMax, cut, gamma, qb.off, qb.terms, qb.weights, k, threads);
      return out;
    }
    if (mode === 'cluster') { /* addon without the cluster loop: fall through to the twin */ } else if (mode === 'impact') {
      addon.sparseImpact(out.docs, out.scores, out.counts, out.visited, ix.numDocs, ix.termOffsets, ix.docIds, ix.weights, ix.scale,
        ix.fwdOffsets, ix.fwdTerms, ix.fwdWeights, ix.impOffsets, ix.impDocs, ix.termMax, cut, lambda, qb.off, qb.terms, qb.weights, k, threads);
    } else if (mode === 'exact') {
      addon.sparseExact(out.docs, out.scores, out.counts, out.visited, ix.numDocs, ix.termOffsets, ix.docIds, ix.weights, ix.scale,
        qb.off, qb.terms, qb.weights, k, threads);
    } else {
      addon.sparseBlockMax(out.docs, out.scores, out.counts, out.visited, ix.numDocs, ix.termOffsets, ix.docIds, ix.weights, ix.scale,
        ix.blockShift, ix.bmOffsets, ix.bmBlocks, ix.bmMax, ix.denseRow, ix.denseMax, ix.bmScale, ix.fwdOffsets, ix.fwdTerms, ix.fwdWeights,
        alpha, qb.off, qb.terms, qb.weights, k, threads);
    }
    if (mode !== 'cluster') return out;
  }
  const acc = new Float32Array(ix.numDocs);
  for (let q = 0; q < nq; q++) {
    if (mode === 'exact') exactRef(ix, qb, q, out, acc);
    else if (mode === 'impact') impactRef(ix, qb, q, cut, lambda, out);
    else if (mode === 'cluster') clusterRef(ix, qb, q, cut, gamma, out);
    else blockMaxRef(ix, qb, q, alpha, out);
  }
  return out;
}
