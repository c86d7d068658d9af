/**
 * Approximate dense search through usearch's HNSW (prebuilt native binaries, inner-product metric). The graph
 * is saved beside the exact index as `<index>.usearch`; its keys are row positions of the `.lvec` index, so
 * ids and any exact re-check come from the same file. Recall against `searchDense` is what bench/dense.ts
 * reports. usearch returns distances 1 - <q, d> for `ip`; we report <q, d>.
 *
 * The graph is bound to the exact `.lvec` it was built from: `<index>.usearch.json` records the graph's byte
 * size and checksum and the `.lvec`'s checksum, rows and dimension. `loadHnsw` checks all of them before the
 * graph file reaches usearch's loader (which trusts its input and would crash on a damaged file), so a stale
 * graph left beside a rebuilt index, or a cut or altered graph, is an `E_ARTIFACT` / `E_CHECKSUM`.
 *
 * usearch is loaded on first use (its CommonJS build, through `require`), so importing Lion never loads it:
 * its ES-module build searches for its native binary from the importing file's folder and recurses without
 * end when imported from inside another package.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Index } from 'usearch';
import { DEFAULTS } from '../../defaults.js';
import { ArtifactError, ChecksumError, NotFoundError, ShapeError } from '../../errors.js';
import { checksumFile } from '../../util/checksum.js';
import { commitTempFile, tempName, writeFileAtomicSync } from '../../util/atomic.js';
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

/** What `<graph>.json` records: the graph file and the `.lvec` it belongs to. */
interface GraphBinding {
  graphBytes: number;
  graphChecksum: number;
  lvecChecksum: number;
  rows: number;
  dim: number;
}

/** The binding file beside a graph. */
export function bindingPath(graphPath: string): string {
  return `${graphPath}.json`;
}

/** Removes a graph and its binding (a dense index rebuilt without --hnsw must not keep an old graph). */
export function removeHnsw(graphPath: string): void {
  rmSync(graphPath, { force: true });
  rmSync(bindingPath(graphPath), { force: true });
}

/**
 * Saves the graph atomically (temporary file, then rename) with its binding to `ix` (which must have been
 * written, so that its checksum is known): a failed save leaves no partial graph.
 */
export function saveHnsw(h: HnswIndex, path: string, ix: Pick<VectorIndex, 'checksum' | 'rows' | 'dim'>): void {
  if (ix.checksum === undefined) throw new ArtifactError('an HNSW graph can only be saved for an index written to disk', { file: path });
  const tmp = tempName(path);
  try {
    rmSync(bindingPath(path), { force: true });
    h.graph.save(tmp);
    const { checksum, bytes } = checksumFile(tmp);
    commitTempFile(tmp, path);
    const b: GraphBinding = { graphBytes: bytes, graphChecksum: checksum, lvecChecksum: ix.checksum, rows: ix.rows, dim: ix.dim };
    writeFileAtomicSync(bindingPath(path), `${JSON.stringify(b)}\n`);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Loads the graph of `ix` after checking that it was built from exactly this `.lvec` (checksum, rows,
 * dimension) and that the graph file is whole (size and checksum): nothing unchecked reaches usearch.
 */
export function loadHnsw(path: string, ix: Pick<VectorIndex, 'checksum' | 'rows' | 'dim'>, opts: HnswOptions = {}): HnswIndex {
  if (!existsSync(path)) throw new NotFoundError(`no HNSW graph at ${path}; build it with \`lion index --kind dense --hnsw\``, { file: path });
  const bp = bindingPath(path);
  const stale = (why: string) => new ArtifactError(`HNSW graph ${why}`, { file: path, hint: 'rebuild it with `lion index --kind dense --hnsw`' });
  if (!existsSync(bp)) throw stale(`has no binding file ${bp}: it cannot be checked against its index`);
  let b: GraphBinding;
  try { b = JSON.parse(readFileSync(bp, 'utf8')) as GraphBinding; } catch { throw stale(`binding ${bp} is not JSON`); }
  const num = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!b || typeof b !== 'object' || ![b.graphBytes, b.graphChecksum, b.lvecChecksum, b.rows, b.dim].every(num)) throw stale(`binding ${bp} is malformed`);
  if (ix.checksum === undefined || b.lvecChecksum !== ix.checksum || b.rows !== ix.rows || b.dim !== ix.dim) {
    throw stale(`was built from another index (${b.rows} x ${b.dim}, checksum ${b.lvecChecksum.toString(16)}), not this one (${ix.rows} x ${ix.dim}, checksum ${(ix.checksum ?? 0).toString(16)}); its row numbers would name the wrong documents`);
  }
  const size = statSync(path).size;
  if (size !== b.graphBytes) throw stale(`is ${size} bytes but was written with ${b.graphBytes}: it was cut or altered`);
  const { checksum } = checksumFile(path);
  if (checksum !== b.graphChecksum) throw new ChecksumError('HNSW graph checksum mismatch: the file has been altered or damaged', { file: path });
  const graph = makeIndex(ix.dim, opts);
  graph.load(path);
  if (graph.dimensions() !== ix.dim) throw new ShapeError(`HNSW graph has dimension ${graph.dimensions()}, index has ${ix.dim}`, { file: path });
  if (Number(graph.size()) !== ix.rows) throw stale(`holds ${graph.size()} vectors, the index ${ix.rows}`);
  return { graph, dim: ix.dim };
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
