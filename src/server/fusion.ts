/**
 * The page's fused list: reciprocal rank fusion by default, or a weighted sum after min-max / z-score
 * normalisation with per-system weights (`parseFusion`, `fuseLists`). RRF is (src/index/fusion.ts, `fuseRuns`, c = DEFAULTS.fusion.rrfK)
 * of the ranked lists the systems returned for one query, with each fused document's rank in every input
 * list kept for display (null where a list lacks it).
 */
import { DEFAULTS } from '../defaults.js';
import { fuseRuns } from '../index/fusion.js';
import type { Hit } from '../types.js';
import { badRequest } from './http.js';

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

/** How the page's fused column combines the systems: RRF or a weighted sum after normalisation. */
export interface FusionRequest {
  method: 'rrf' | 'sum';
  norm: 'minmax' | 'zscore' | 'none';
  /** One weight per system of the request, in order; undefined = 1 each. */
  weights?: number[];
}

/**
 * Read `fusion` (rrf | sum), `norm` (minmax | zscore | none) and `weights` (an array, or a comma-separated
 * string in a GET query) from a request; defaults: RRF, min-max, weight 1 each.
 */
export function parseFusion(method: unknown, norm: unknown, weights: unknown): FusionRequest {
  const m = method ?? 'rrf';
  if (m !== 'rrf' && m !== 'sum') throw badRequest(`fusion must be rrf or sum; got ${JSON.stringify(m)}`, 'fusion');
  const n = norm ?? DEFAULTS.fusion.norm;
  if (n !== 'minmax' && n !== 'zscore' && n !== 'none') throw badRequest(`norm must be minmax, zscore or none; got ${JSON.stringify(n)}`, 'norm');
  if (weights === undefined || weights === '') return { method: m, norm: n };
  const list = typeof weights === 'string' ? weights.split(',').map((x) => (x.trim() === '' ? NaN : Number(x))) : weights;
  if (!Array.isArray(list) || list.length > 64 || !list.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
    throw badRequest('weights must be a list of finite numbers ≥ 0, one per system', 'weights');
  }
  return { method: m, norm: n, weights: list as number[] };
}

/** Fuse ranked lists with `f` (see fuseRuns), keeping each fused document's rank in every input list. */
export function fuseLists(lists: Hit[][], k: number, f: FusionRequest): FusedHit[] {
  if (lists.length === 0) return [];
  const weights = f.weights ?? lists.map(() => 1);
  if (weights.length !== lists.length) throw badRequest(`weights has ${weights.length} values for ${lists.length} systems`, 'weights');
  const fused = fuseRuns(lists.map((hits) => new Map([['q', hits]])), { method: f.method, norm: f.norm, weights, rrfK: DEFAULTS.fusion.rrfK, k }).get('q') ?? [];
  const rankIn = lists.map((hits) => new Map(hits.map((h, i) => [h.docid, i + 1])));
  return fused.map((h) => ({ docid: h.docid, score: h.score, ranks: rankIn.map((m) => m.get(h.docid) ?? null) }));
}
