/**
 * Approximate dense search through usearch's HNSW (prebuilt native binaries, inner-product metric). The graph
 * is saved beside the exact index as `<index>.usearch`; its keys are row positions of the `.lvec` index, so
 * ids and any exact re-check come from the same file. Recall against `searchDense` is what bench/dense.ts
 * reports. usearch returns distances 1 - <q, d> for `ip`; we report <q, d>.
 *
 * usearch is loaded on first use (its CommonJS build, through `require`), so importing Lion never loads it:
 * its ES-module build searches for its native binary from the importing file's folder and recurses without
 * end when imported from inside another package.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Index } from 'usearch';
import { DEFAULTS } from '../../defaults.js';
import { NotFoundError, ShapeError } from '../../errors.js';
import { defaultThreads } from '../native.js';
import { emptyResult, type SearchResult } from '../topk.js';
import { rowOf, type VectorIndex } from './flat.js';

/** HNSW build and search knobs (defaults in DEFAULTS.denseIndex). */
export interface HnswOptions {
  connectivity?: number;
  expansionAdd?: number;
  expansionSearch?: number;
  threads?: number;
}

/** An HNSW graph over the rows of a VectorIndex. */
export interface HnswIndex {
  graph: Index;
  dim: number;
}

let usearch: typeof import('usearch') | null = null;

function makeIndex(dim: number, opts: HnswOptions): Index {
  usearch ??= createRequire(import.meta.url)('usearch') as typeof import('usearch');
  const { Index, MetricKind, ScalarKind } = usearch;
  return new Index({
    dimensions: dim, metric: MetricKind.IP, quantization: ScalarKind.F32,
    connectivity: opts.connectivity ?? DEFAULTS.denseIndex.connectivity,
    expansion_add: opts.expansionAdd ?? DEFAULTS.denseIndex.expansionAdd,
    expansion_search: opts.expansionSearch ?? DEFAULTS.denseIndex.expansionSearch,
    multi: false,
  });
}

/** Builds an HNSW graph over every row (dequantised to float32); keys are row positions. */
export function buildHnsw(ix: VectorIndex, opts: HnswOptions = {}): HnswIndex {
  const graph = makeIndex(ix.dim, opts);
  const chunk = 8192;
  for (let r0 = 0; r0 < ix.rows; r0 += chunk) {
    const n = Math.min(chunk, ix.rows - r0);
    const block = new Float32Array(n * ix.dim);
    if (ix.dtype === 'f32') block.set((ix.data as Float32Array).subarray(r0 * ix.dim, (r0 + n) * ix.dim));
    else for (let i = 0; i < n; i++) rowOf(ix, r0 + i, block.subarray(i * ix.dim, (i + 1) * ix.dim));
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = BigInt(r0 + i);
    graph.add(keys, block, opts.threads ?? defaultThreads());
  }
  return { graph, dim: ix.dim };
}

/** Saves the graph atomically (temporary file, then rename): a failed save leaves no partial graph. */
export function saveHnsw(h: HnswIndex, path: string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    h.graph.save(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function loadHnsw(path: string, dim: number, opts: HnswOptions = {}): HnswIndex {
  if (!existsSync(path)) throw new NotFoundError(`no HNSW graph at ${path}; build it with \`lion index --kind dense --hnsw\``, { file: path });
  const graph = makeIndex(dim, opts);
  graph.load(path);
  if (graph.dimensions() !== dim) throw new ShapeError(`HNSW graph has dimension ${graph.dimensions()}, index has ${dim}`, { file: path });
  return { graph, dim };
}

/** Approximate top-k by HNSW; scores are inner products (float32). */
export function searchHnsw(h: HnswIndex, queries: Float32Array, k: number, threads = defaultThreads()): SearchResult {
  if (queries.length % h.dim !== 0) throw new ShapeError(`queries hold ${queries.length} values, not a multiple of ${h.dim}`);
  const nq = queries.length / h.dim;
  const out = emptyResult(nq, k);
  if (nq === 0 || h.graph.size() === 0) return out;
  const m = h.graph.search(queries, k, threads);
  const keys = m.keys;
  const counts: BigUint64Array = 'counts' in m ? (m as { counts: BigUint64Array }).counts : BigUint64Array.of(BigInt(m.keys.length));
  for (let q = 0; q < nq; q++) {
    const c = Math.min(k, Number(counts[q]!));
    for (let i = 0; i < c; i++) {
      out.docs[q * k + i] = Number(keys[q * k + i]!);
      out.scores[q * k + i] = Math.fround(1 - m.distances[q * k + i]!);
    }
    out.counts[q] = c;
  }
  return out;
}
