/**
 * Loader for `lion_search.node` (native/search/*.cc, built by node-gyp): the hot loops of the sparse and dense
 * indexes. Every native entry point has a TypeScript twin (src/index/inverted/search.ts,
 * src/index/vector/flat.ts) that is the definition and the fallback; tests compare the two.
 * LION_BACKEND=ref forces the TypeScript twins; LION_THREADS=n caps the thread count (default: all cores).
 */
import { availableParallelism } from 'node:os';
import { AddonUnavailable, loadAddon } from '../util/addon.js';

type U32 = Uint32Array;
type F32 = Float32Array;
/** Postings weights: float32 or 8/16-bit impacts. */
export type WeightArray = Float32Array | Uint8Array | Uint16Array;

/** The functions native/search/addon.cc exports (argument order as there). */
export interface SearchAddon {
  sparseExact(numDocs: number, termOffsets: U32, docIds: U32, weights: WeightArray, scale: number,
    qOffsets: U32, qTerms: U32, qWeights: F32, k: number,
    outDocs: Int32Array, outScores: F32, outCounts: U32, outVisited: Float64Array, threads: number): void;
  sparseBlockMax(numDocs: number, termOffsets: U32, docIds: U32, weights: WeightArray, scale: number,
    shift: number, bmOffsets: U32, bmBlocks: U32, bmMax: Uint8Array, denseRow: Int32Array, denseMax: Uint8Array,
    bmScale: number, fwdOffsets: U32, fwdTerms: U32, fwdWeights: WeightArray, alpha: number,
    qOffsets: U32, qTerms: U32, qWeights: F32, k: number,
    outDocs: Int32Array, outScores: F32, outCounts: U32, outVisited: Float64Array, threads: number): void;
  sparseImpact(numDocs: number, termOffsets: U32, docIds: U32, weights: WeightArray, scale: number,
    fwdOffsets: U32, fwdTerms: U32, fwdWeights: WeightArray, impOffsets: U32, impDocs: U32, termMax: F32,
    cut: number, lambda: number, qOffsets: U32, qTerms: U32, qWeights: F32, k: number,
    outDocs: Int32Array, outScores: F32, outCounts: U32, outVisited: Float64Array, threads: number): void;
  sparseCluster?(numDocs: number, termOffsets: U32, docIds: U32, weights: WeightArray, scale: number,
    fwdOffsets: U32, fwdTerms: U32, fwdWeights: WeightArray, clOffsets: U32, clDocOffsets: U32, clDocs: U32,
    clSumOffsets: U32, clSumTerms: U32, clSumCodes: Uint8Array, clSumScale: F32, termMax: F32, cut: number, gamma: number,
    qOffsets: U32, qTerms: U32, qWeights: F32, k: number,
    outDocs: Int32Array, outScores: F32, outCounts: U32, outVisited: Float64Array, threads: number): void;
  buildClusters?(numDocs: number, termOffsets: U32, docIds: U32, weights: WeightArray, scale: number,
    fwdOffsets: U32, fwdTerms: U32, fwdWeights: WeightArray, listMax: number, clusterSize: number, summaryMass: number,
    summaryMax: number): [U32, U32, U32, U32, U32, Uint8Array, F32];
  reorderBisection?(fwdOffsets: U32, fwdTerms: U32, vocab: number, iters: number, minSize: number, order: U32): void;
  denseSearch(n: number, dim: number, data: Float32Array | Uint16Array | Int8Array, rowScale: F32, queries: F32,
    k: number, outDocs: Int32Array, outScores: F32, outCounts: U32, threads: number): void;
}

let cached: SearchAddon | null | undefined;

/** The native search addon, or null when it is not built or LION_BACKEND=ref. */
export function searchAddon(): SearchAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env.LION_BACKEND === 'ref') return cached;
  try {
    cached = loadAddon<SearchAddon>('lion_search', ['sparseExact', 'sparseBlockMax', 'sparseImpact', 'denseSearch']).addon;
  } catch (e) {
    if (!(e instanceof AddonUnavailable)) throw e;
  }
  return cached;
}

/** Default thread count: LION_THREADS when set, else every core. */
export function defaultThreads(): number {
  const env = Number(process.env.LION_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}
