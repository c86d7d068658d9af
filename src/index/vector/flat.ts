/**
 * The dense vector index (`.lvec`): exact inner-product search over all documents (FAISS IndexFlatIP, as the
 * paper, spec §6.2), with float32, bf16 or int8 storage. Little-endian, version 2.
 *
 * Header (128 B): magic "LIONVEC\0" | u32 version | u32 dtype (0 f32, 1 bf16, 2 int8) | u32 rows (N)
 *   | u32 dim (D) | 4 x (f64 offset, f64 bytes) at 32: data (N, D) | rowScale f32 (N; int8 only, else empty)
 *   | ids UTF-8 "\n"-terminated | metadata JSON (with `encoder`, the identity of the encoder that produced the
 *   vectors, when known). Sections 64-byte aligned, then the 24-byte checksum trailer (src/util/checksum.ts).
 * Loading checks the trailer and every section's offset and size against the file before allocating, then the
 * checksum (skipped with LION_VERIFY=fast) and that every stored value is finite.
 * bf16 keeps the upper 16 bits of each float32 (rounded to nearest even); int8 stores round(x / s_r) with
 * s_r = max|x_r| / 127 per row. Search converts a tile of rows back to float32 and multiplies by float32
 * queries, so the recall cost of a dtype is exactly its rounding.
 * Native search (native/search/dense.h): blocked GEMM with per-query heaps on all cores; `denseRef` is the
 * TypeScript twin (float64 dot products).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { DEFAULTS } from '../../defaults.js';
import { ArtifactError, NonFiniteError, NotFoundError, ShapeError, UsageError } from '../../errors.js';
import { readDenseShards, readShardInfo, writeSectionsAtomic } from '../../io/vectors.js';
import { Checksum, makeTrailer, verifyTrailer } from '../../util/checksum.js';
import { commonIdentity, identityToJson, parseIdentity, type EncoderIdentity } from '../../util/identity.js';
import type { DenseMatrix } from '../../types.js';
import { defaultThreads, searchAddon } from '../native.js';
import { emptyResult, type SearchResult, TopK } from '../topk.js';
import { MAGIC } from '../../io/sniff.js';

export const VEC_MAGIC = MAGIC.denseIndex;
export const VEC_VERSION = 2;
const HEADER = 128;

export type DenseDtype = 'f32' | 'bf16' | 'i8';
const DT: DenseDtype[] = ['f32', 'bf16', 'i8'];

/** A loaded dense index. */
export interface VectorIndex {
  path?: string;
  rows: number; // N
  dim: number; // D
  dtype: DenseDtype;
  data: Float32Array | Uint16Array | Int8Array; // (N, D)
  rowScale: Float32Array; // (N) for i8, else empty
  ids: string[]; // (N)
  meta: Record<string, unknown>;
  /** The encoder that produced the vectors, when recorded. */
  encoder?: EncoderIdentity;
  /** Checksum recorded in the file's trailer: an HNSW graph is bound to it. */
  checksum?: number;
}

/** Rounds float32 to bf16 bits (nearest, ties to even). */
export function toBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = u[i]!;
    out[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** Builds an in-memory index from a dense matrix in the chosen storage. */
export function vectorIndexFromMatrix(m: DenseMatrix, dtype: DenseDtype = DEFAULTS.denseIndex.dtype): VectorIndex {
  if (!DT.includes(dtype)) throw new UsageError(`dense dtype must be f32, bf16 or i8, got '${dtype}'`, { field: 'dtype' });
  const { rows: N, dim: D } = m;
  let data: VectorIndex['data'] = m.data;
  let rowScale = new Float32Array(0);
  if (dtype === 'bf16') data = toBf16(m.data);
  if (dtype === 'i8') {
    const q = new Int8Array(N * D);
    rowScale = new Float32Array(N);
    for (let r = 0; r < N; r++) {
      let mx = 0;
      for (let c = 0; c < D; c++) mx = Math.max(mx, Math.abs(m.data[r * D + c]!));
      const s = mx > 0 ? Math.fround(mx / 127) : 1;
      rowScale[r] = s;
      for (let c = 0; c < D; c++) q[r * D + c] = Math.max(-127, Math.min(127, Math.round(m.data[r * D + c]! / s)));
    }
    data = q;
  }
  return { rows: N, dim: D, dtype, data, rowScale, ids: m.ids, meta: { dtype, builtBy: 'lion', createdAt: new Date().toISOString() } };
}

/** Writes an index atomically. */
export function writeVectorIndex(ix: VectorIndex, path: string): void {
  const ids = Buffer.from(ix.ids.map((s) => `${s}\n`).join(''), 'utf8');
  const meta = Buffer.from(JSON.stringify(ix.encoder ? { ...ix.meta, encoder: identityToJson(ix.encoder) } : ix.meta), 'utf8');
  const secs = [new Uint8Array(ix.data.buffer, ix.data.byteOffset, ix.data.byteLength), new Uint8Array(ix.rowScale.buffer, ix.rowScale.byteOffset, ix.rowScale.byteLength), ids, meta];
  const h = Buffer.alloc(HEADER);
  h.write(VEC_MAGIC, 0, 'latin1');
  h.writeUInt32LE(VEC_VERSION, 8);
  h.writeUInt32LE(DT.indexOf(ix.dtype), 12);
  h.writeUInt32LE(ix.rows, 16);
  h.writeUInt32LE(ix.dim, 20);
  const offs: number[] = [];
  let pos = HEADER;
  secs.forEach((s, i) => { offs.push(pos); h.writeDoubleLE(pos, 32 + 16 * i); h.writeDoubleLE(s.byteLength, 40 + 16 * i); pos = Math.ceil((pos + s.byteLength) / 64) * 64; });
  // Checksum: the body (sections and their zero padding) first, then the header.
  const sum = new Checksum();
  let at = HEADER;
  secs.forEach((s, i) => {
    if (offs[i]! > at) sum.update(new Uint8Array(offs[i]! - at));
    sum.update(s);
    at = offs[i]! + s.byteLength;
  });
  sum.update(h);
  const checksum = sum.digest();
  writeSectionsAtomic(path, h, [...secs, makeTrailer(checksum, at)], [...offs, at]);
  ix.checksum = checksum;
}

/**
 * Loads a dense index, checking magic, version, dtype, the trailer, every section's offset and size against
 * the file (before allocating), the checksum (unless LION_VERIFY=fast) and that every value is finite.
 */
export function loadVectorIndex(path: string): VectorIndex {
  if (!existsSync(path)) throw new NotFoundError(`no such index: ${path}`, { file: path });
  const fd = openSync(path, 'r');
  const bad = (m: string): never => { throw new ArtifactError(m, { file: path }); };
  try {
    const size = fstatSync(fd).size;
    const h = Buffer.alloc(HEADER);
    if (size < HEADER || readSync(fd, h, 0, HEADER, 0) !== HEADER) bad(`truncated index: ${size} bytes, shorter than the header`);
    if (h.toString('latin1', 0, 8) !== VEC_MAGIC) bad(`not a Lion dense index (magic ${JSON.stringify(h.toString('latin1', 0, 8))})`);
    const version = h.readUInt32LE(8);
    if (version === 1) bad('index version 1 carries no checksum; rebuild it with `lion index`');
    if (version !== VEC_VERSION) bad(`index version ${version}; this Lion reads version ${VEC_VERSION}`);
    const dt = DT[h.readUInt32LE(12)] ?? bad(`unknown dtype ${h.readUInt32LE(12)}`);
    const { payloadBytes, checksum } = verifyTrailer(fd, path, { headerBytes: HEADER });
    const N = h.readUInt32LE(16), D = h.readUInt32LE(20);
    if (D === 0 && N > 0) bad('dimension 0');
    const eb = dt === 'f32' ? 4 : dt === 'bf16' ? 2 : 1;
    const expect = [N * D * eb, dt === 'i8' ? 4 * N : 0];
    let prevEnd = HEADER;
    for (let i = 0; i < 4; i++) {
      const off = h.readDoubleLE(32 + 16 * i), len = h.readDoubleLE(40 + 16 * i);
      if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < prevEnd || len < 0) bad(`section ${i}: offset ${off} and length ${len} are not valid`);
      if (off + len > payloadBytes) bad(`truncated index: section ${i} ends at byte ${off + len} of ${payloadBytes}`);
      if (i < 2 && len !== expect[i]) bad(`section ${i} holds ${len} bytes, expected ${expect[i]}`);
      if (i === 2 && N > len / 2) bad(`${N} rows cannot have ids in ${len} bytes`);
      prevEnd = off + len;
    }
    const read = (i: number): ArrayBuffer => {
      const off = h.readDoubleLE(32 + 16 * i), len = h.readDoubleLE(40 + 16 * i);
      const buf = new Uint8Array(len);
      let d = 0;
      while (d < len) { const n = readSync(fd, buf, d, Math.min(1 << 30, len - d), off + d); if (n <= 0) bad('truncated index'); d += n; }
      return buf.buffer;
    };
    const raw = read(0);
    const data = dt === 'f32' ? new Float32Array(raw) : dt === 'bf16' ? new Uint16Array(raw) : new Int8Array(raw);
    const rowScale = new Float32Array(read(1));
    const ids = Buffer.from(read(2)).toString('utf8').split('\n');
    ids.pop();
    if (ids.length !== N) bad(`index lists ${ids.length} ids for ${N} rows`);
    let meta: Record<string, unknown> = {};
    try { meta = JSON.parse(Buffer.from(read(3)).toString('utf8')) as Record<string, unknown>; } catch { bad('index metadata is not JSON'); }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) bad('index metadata is not a JSON object');
    const ix: VectorIndex = { path, rows: N, dim: D, dtype: dt, data, rowScale, ids, meta, checksum };
    const encoder = parseIdentity(meta.encoder, path);
    if (encoder) ix.encoder = encoder;
    checkFinite(ix, path);
    return ix;
  } finally { closeSync(fd); }
}

/** Every stored value (and int8 row scale) must be finite: NaN rows would rank arbitrarily. */
function checkFinite(ix: VectorIndex, file: string): void {
  const fail = (i: number): never => { throw new NonFiniteError(`row ${Math.floor(i / ix.dim) + 1} (id ${ix.ids[Math.floor(i / ix.dim)]}) holds a NaN or infinite value`, { file }); };
  if (ix.dtype === 'f32') { const d = ix.data as Float32Array; for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) fail(i); }
  else if (ix.dtype === 'bf16') { const d = ix.data as Uint16Array; for (let i = 0; i < d.length; i++) if ((d[i]! & 0x7f80) === 0x7f80) fail(i); }
  else for (let r = 0; r < ix.rowScale.length; r++) if (!Number.isFinite(ix.rowScale[r]!) || ix.rowScale[r]! < 0) fail(r * ix.dim);
}

/** Builds a dense index from `.f32` shards (concatenated in order) and writes it. */
export function buildDenseIndex(sources: string[], out: string, opts: { dtype?: DenseDtype; allowForeign?: boolean } = {}): VectorIndex {
  if (sources.length === 0) throw new UsageError('no input vector files given');
  const encoder = commonIdentity(sources.map((p) => readShardInfo(p).encoder), sources, opts.allowForeign);
  const m = readDenseShards(sources);
  const seen = new Set<string>();
  for (const id of m.ids) {
    if (seen.has(id)) throw new ShapeError(`document id ${id} appears twice`, { file: sources.join(','), field: id });
    seen.add(id);
  }
  const ix = vectorIndexFromMatrix(m, opts.dtype);
  ix.meta.sources = sources;
  if (encoder) ix.encoder = encoder;
  writeVectorIndex(ix, out);
  ix.path = out;
  return ix;
}

/** Row r of the index as float32 values (dequantised). */
export function rowOf(ix: VectorIndex, r: number, out = new Float32Array(ix.dim)): Float32Array {
  const D = ix.dim;
  const u = new Uint32Array(1), f = new Float32Array(u.buffer);
  for (let c = 0; c < D; c++) {
    const x = ix.data[r * D + c]!;
    if (ix.dtype === 'f32') out[c] = x;
    else if (ix.dtype === 'bf16') { u[0] = x << 16; out[c] = f[0]!; } else out[c] = x * ix.rowScale[r]!;
  }
  return out;
}

/** TypeScript twin of the native search: float64 dot products over dequantised rows, same top-k order. */
export function denseRef(ix: VectorIndex, queries: Float32Array, k: number): SearchResult {
  const D = ix.dim, nq = queries.length / D;
  const out = emptyResult(nq, k);
  const heaps = Array.from({ length: nq }, () => new TopK(k));
  const row = new Float32Array(D);
  for (let r = 0; r < ix.rows; r++) {
    rowOf(ix, r, row);
    for (let q = 0; q < nq; q++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += queries[q * D + c]! * row[c]!;
      heaps[q]!.push(Math.fround(s), r);
    }
  }
  heaps.forEach((h, q) => { h.emit(out, q); out.visited[q] = ix.rows; });
  return out;
}

/**
 * Exact inner-product top-k for a batch of queries (Q, D).
 * @example
 * ```ts
 * const ix = loadVectorIndex('docs.lvec');
 * const r = searchDense(ix, queries, { k: 10 }); // r.docs[q * 10 + i] is a row of ix.ids
 * ```
 */
export function searchDense(ix: VectorIndex, queries: Float32Array, opts: { k?: number; threads?: number; backend?: 'native' | 'ref' } = {}): SearchResult {
  const k = opts.k ?? DEFAULTS.search.k;
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
  if (queries.length % ix.dim !== 0) throw new ShapeError(`queries hold ${queries.length} values, not a multiple of the index dimension ${ix.dim}`);
  for (let i = 0; i < queries.length; i++) {
    if (!Number.isFinite(queries[i]!)) throw new ShapeError(`query ${Math.floor(i / ix.dim)}: component ${i % ix.dim} is ${queries[i]}`);
  }
  const addon = opts.backend === 'ref' ? null : searchAddon();
  if (!addon) return denseRef(ix, queries, k);
  const nq = queries.length / ix.dim;
  const out = emptyResult(nq, k);
  addon.denseSearch(out.docs, out.scores, out.counts, ix.rows, ix.dim, ix.data, ix.rowScale, queries, k, opts.threads ?? defaultThreads());
  out.visited.fill(ix.rows);
  return out;
}
