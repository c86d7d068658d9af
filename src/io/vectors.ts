/**
 * Vector files: the on-disk form of sparse and dense representations (formats only, no math).
 *
 * Sparse JSONL (Anserini JsonVectorCollection shape, with token ids as keys):
 *   {"id": "d1", "vector": {"1037": 0.82, "2201": 1.4}}
 * Keys are decimal vocabulary ids; weights are finite and >= 0; zero weights are dropped on read.
 *
 * Binary sparse shard (`.lsv`), little-endian, written by `SparseShardWriter`:
 *   header (64 B): magic "LIONSPV\0" | u32 version=2 | u32 vocabSize | u32 rows | u32 reserved
 *                  | f64 nnz | f64 idsOffset | f64 idsBytes | f64 metaBytes | pad
 *   records: rows x ( u32 nnz | u32 terms[nnz] ascending | f32 weights[nnz] )
 *   ids: UTF-8, one id per line ("\n"-terminated), at idsOffset.
 *   meta: UTF-8 JSON {"encoder": EncoderIdentity | null} right after the ids.
 *   trailer (24 B): checksum of everything before it (src/util/checksum.ts).
 *
 * Binary dense shard (`.f32`), written by `DenseShardWriter`:
 *   header (64 B): magic "LIONDNS\0" | u32 version=2 | u32 dim | u32 rows | u32 dtype (0 = f32)
 *                  | f64 idsOffset | f64 idsBytes | f64 metaBytes | pad
 *   data: f32[rows * dim] row-major // (N, D)
 *   ids: UTF-8, one per line, at idsOffset; then meta JSON; then the 24-byte checksum trailer.
 *
 * Opening a shard checks, before allocating anything: magic, version, the trailer (file not cut or extended),
 * every header size against the file size, then the checksum of every byte (skipped with LION_VERIFY=fast).
 *
 * Writers stream to `<path>.tmp-<pid>-<n>` and rename on `close()`; `abort()` (or a failed write) removes the
 * temporary file, so a shard is either complete or absent. Counts in the header are patched in on close.
 * Invariants checked on write and read: ids contain no newline; term ids ascending, unique and < vocabSize
 * (when the vocabulary size is known); weights finite and non-negative (sparse) or finite (dense).
 */
import { closeSync, createReadStream, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ArtifactError, FormatError, NonFiniteError, NotFoundError, ShapeError } from '../errors.js';
import type { DenseMatrix, SparseVec } from '../types.js';
import { AtomicFileSync } from '../util/atomic.js';
import { Checksum, makeTrailer, TRAILER_BYTES, verifyTrailer, type VerifyMode } from '../util/checksum.js';
import { identityToJson, parseIdentity, type EncoderIdentity } from '../util/identity.js';

export const SPARSE_SHARD_MAGIC = 'LIONSPV\0';
export const DENSE_SHARD_MAGIC = 'LIONDNS\0';
export const SHARD_VERSION = 2;
const HEADER = 64;

/** A sparse vector with its external id, as read from or written to a vector file. */
export interface SparseRecord {
  id: string;
  vec: SparseVec;
}

/** Options for reading sparse vectors. */
export interface SparseReadOptions {
  /** Term ids must be below this (the encoder's vocabulary size); unchecked when absent. */
  vocabSize?: number;
}

/** Checks a sparse vector's invariants; `where` names the file and record for the error. */
export function checkSparseVec(vec: SparseVec, vocabSize: number | undefined, file: string, record: string, line?: number): void {
  const { terms, weights } = vec;
  if (terms.length !== weights.length) throw new FormatError(`${record}: ${terms.length} terms but ${weights.length} weights`, { file, line });
  let prev = -1;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    const w = weights[i]!;
    if (t <= prev) throw new FormatError(`${record}: term ids must be ascending and unique (term ${t} after ${prev})`, { file, line, field: String(t) });
    if (vocabSize !== undefined && t >= vocabSize) {
      throw new ShapeError(`${record}: term id ${t} is outside the vocabulary of ${vocabSize}`, { file, line, field: String(t) });
    }
    if (!Number.isFinite(w)) throw new NonFiniteError(`${record}: weight of term ${t} is ${w}; sparse weights must be finite and >= 0`, { file, line, field: String(t) });
    if (w < 0) throw new FormatError(`${record}: weight of term ${t} is ${w}; sparse weights must be finite and >= 0`, { file, line, field: String(t) });
    prev = t;
  }
}

/** Builds a SparseVec from `{tokenId: weight}`, sorting ids and dropping zeros; validates every entry. */
export function sparseFromObject(obj: Record<string, unknown>, vocabSize: number | undefined, file: string, record: string, line?: number): SparseVec {
  const keys = Object.keys(obj);
  const pairs: Array<[number, number]> = [];
  for (const k of keys) {
    const t = Number(k);
    if (!/^\d+$/.test(k) || !Number.isSafeInteger(t) || t > 0xffffffff) {
      throw new FormatError(`${record}: key '${k}' is not a vocabulary id (a non-negative integer)`, { file, line, field: k });
    }
    const w = obj[k];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new FormatError(`${record}: weight of term ${k} is ${JSON.stringify(w)}; sparse weights must be finite numbers >= 0`, { file, line, field: k });
    }
    if (vocabSize !== undefined && t >= vocabSize) {
      throw new ShapeError(`${record}: term id ${t} is outside the vocabulary of ${vocabSize}`, { file, line, field: k });
    }
    if (w > 0) pairs.push([t, w]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const terms = new Uint32Array(pairs.length);
  const weights = new Float32Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) { terms[i] = pairs[i]![0]; weights[i] = pairs[i]![1]; }
  return { terms, weights };
}

/** The `{tokenId: weight}` object for a sparse vector (JSONL form). */
export function sparseToObject(vec: SparseVec): Record<string, number> {
  const o: Record<string, number> = {};
  for (let i = 0; i < vec.terms.length; i++) o[String(vec.terms[i])] = vec.weights[i]!;
  return o;
}

function checkId(id: string, file: string, record: string): void {
  if (typeof id !== 'string' || id.length === 0 || /[\n\r]/.test(id)) {
    throw new FormatError(`${record}: id ${JSON.stringify(id)} must be a non-empty string without line breaks`, { file, field: 'id' });
  }
}

/** What a shard's header and meta block say, after the sizes were checked against the file. */
export interface ShardInfo {
  kind: 'sparse' | 'dense';
  rows: number;
  /** Sparse: vocabulary size recorded by the writer (0 = unknown). */
  vocabSize: number;
  /** Dense: vector dimension. */
  dim: number;
  /** Sparse: total non-zeros. */
  nnz: number;
  idsOffset: number;
  idsBytes: number;
  /** The encoder that wrote the vectors, when recorded. */
  encoder?: EncoderIdentity;
  /** True when the checksum of every byte was verified (false in the fast mode). */
  verified: boolean;
}

const isSize = (x: number): boolean => Number.isSafeInteger(x) && x >= 0;

/**
 * Reads and checks a shard's header, trailer and meta block: magic, version, trailer, every size against the
 * file size, and (mode 'full') the checksum of every byte. Nothing is allocated from an unchecked size.
 */
function openShard(fd: number, path: string, magic: string, mode?: VerifyMode): ShardInfo {
  const kind = magic === SPARSE_SHARD_MAGIC ? 'sparse' : 'dense';
  const size = fstatSync(fd).size;
  const h = Buffer.alloc(HEADER);
  if (size < HEADER || readSync(fd, h, 0, HEADER, 0) !== HEADER) throw new ArtifactError(`truncated shard: ${size} bytes, shorter than its header`, { file: path });
  if (h.toString('latin1', 0, 8) !== magic) {
    throw new ArtifactError(`not a Lion ${kind} shard (magic ${JSON.stringify(h.toString('latin1', 0, 8))})`, { file: path });
  }
  const v = h.readUInt32LE(8);
  if (v === 1) throw new ArtifactError('shard version 1 carries no checksum; encode it again with this Lion', { file: path });
  if (v !== SHARD_VERSION) throw new ArtifactError(`shard version ${v}; this Lion reads version ${SHARD_VERSION}`, { file: path });
  const { payloadBytes, verified } = verifyTrailer(fd, path, { headerBytes: HEADER, mode });
  const rows = h.readUInt32LE(16);
  const vocabSize = kind === 'sparse' ? h.readUInt32LE(12) : 0;
  const dim = kind === 'dense' ? h.readUInt32LE(12) : 0;
  const nnz = kind === 'sparse' ? h.readDoubleLE(24) : 0;
  const base = kind === 'sparse' ? 32 : 24;
  const idsOffset = h.readDoubleLE(base);
  const idsBytes = h.readDoubleLE(base + 8);
  const metaBytes = h.readDoubleLE(base + 16);
  const bad = (what: string) => new ArtifactError(`shard header is inconsistent: ${what}`, { file: path });
  if (![nnz, idsOffset, idsBytes, metaBytes].every(isSize)) throw bad('a size or offset is negative, fractional or not a number');
  if (idsOffset < HEADER || idsOffset + idsBytes + metaBytes !== payloadBytes) {
    throw bad(`ids at ${idsOffset} (+${idsBytes}) and meta (+${metaBytes}) do not end where the data ends (${payloadBytes})`);
  }
  if (rows > idsBytes / 2) throw bad(`${rows} rows cannot have ids in ${idsBytes} bytes`);
  if (kind === 'sparse') {
    if (4 * rows + 8 * nnz !== idsOffset - HEADER) throw bad(`${rows} records with ${nnz} non-zeros do not fill bytes ${HEADER}..${idsOffset}`);
  } else {
    if (h.readUInt32LE(20) !== 0) throw new ArtifactError(`dense shard dtype ${h.readUInt32LE(20)}; only 0 (float32) is defined`, { file: path });
    if (dim === 0 && rows > 0) throw bad('dimension 0');
    if (idsOffset !== HEADER + 4 * rows * dim) throw bad(`${rows} x ${dim} floats but ids at byte ${idsOffset}`);
  }
  if (metaBytes > 1 << 20) throw bad(`meta block of ${metaBytes} bytes`);
  let encoder: EncoderIdentity | undefined;
  if (metaBytes > 0) {
    const m = Buffer.alloc(metaBytes);
    readSync(fd, m, 0, metaBytes, idsOffset + idsBytes);
    let meta: unknown;
    try { meta = JSON.parse(m.toString('utf8')); } catch { throw bad('meta block is not JSON'); }
    if (typeof meta !== 'object' || meta === null) throw bad('meta block is not an object');
    encoder = parseIdentity((meta as { encoder?: unknown }).encoder, path);
  }
  const info: ShardInfo = { kind, rows, vocabSize, dim, nnz, idsOffset, idsBytes, verified };
  if (encoder) info.encoder = encoder;
  return info;
}

/**
 * A shard's header facts and encoder identity (sizes and trailer checked; the data pass is left to the reader).
 * @example readShardInfo('queries.lsv').encoder
 */
export function readShardInfo(path: string): ShardInfo {
  const fd = openExisting(path);
  try {
    const b = Buffer.alloc(8);
    readSync(fd, b, 0, 8, 0);
    const magic = b.toString('latin1') === DENSE_SHARD_MAGIC ? DENSE_SHARD_MAGIC : SPARSE_SHARD_MAGIC;
    return openShard(fd, path, magic, 'fast');
  } finally { closeSync(fd); }
}

function readIds(fd: number, path: string, offset: number, bytes: number, rows: number): string[] {
  const b = Buffer.alloc(bytes);
  readSync(fd, b, 0, bytes, offset);
  const ids = b.toString('utf8').split('\n');
  if (ids.pop() !== '') throw new ArtifactError('shard ids section does not end with a newline', { file: path });
  if (ids.length !== rows) throw new ArtifactError(`shard lists ${ids.length} ids for ${rows} rows`, { file: path });
  return ids;
}

/**
 * A binary file written through a temporary name: records are appended after a HEADER-byte gap, `finish`
 * writes the ids section and the header, syncs and renames; `abort` removes the temporary file.
 */
abstract class ShardFile {
  readonly path: string;
  private readonly file: AtomicFileSync;
  protected pos = HEADER;
  protected rows = 0;
  protected ids: string[] = [];
  protected readonly sum = new Checksum();
  protected readonly encoder?: EncoderIdentity;

  constructor(path: string, encoder?: EncoderIdentity) {
    this.path = path;
    this.encoder = encoder;
    this.file = new AtomicFileSync(path);
  }

  protected append(b: Uint8Array): void {
    this.file.write(b, this.pos);
    this.sum.update(b);
    this.pos += b.length;
  }

  /** Header fields after magic and version, given the ids offset and byte length. */
  /** @internal */
  protected abstract header(h: Buffer, idsOffset: number, idsBytes: number, metaBytes: number): void;
  protected abstract readonly magic: string;

  /** Writes ids and header, flushes, and renames the shard into place. */
  close(): void {
    try {
      const idsOffset = this.pos;
      const ids = Buffer.from(this.ids.map((s) => `${s}\n`).join(''), 'utf8');
      this.append(ids);
      const meta = Buffer.from(JSON.stringify({ encoder: this.encoder ? identityToJson(this.encoder) : null }), 'utf8');
      this.append(meta);
      const h = Buffer.alloc(HEADER);
      h.write(this.magic, 0, 'latin1');
      h.writeUInt32LE(SHARD_VERSION, 8);
      this.header(h, idsOffset, ids.length, meta.length);
      this.file.write(h.subarray(0, HEADER), 0);
      this.sum.update(h);
      const t = makeTrailer(this.sum.digest(), this.pos);
      this.file.write(t.subarray(0, TRAILER_BYTES), this.pos);
    } catch (e) { this.abort(); throw e; }
    this.file.commit();
  }

  /** Discards the partial shard. */
  abort(): void {
    this.file.abort();
  }
}

/** Streaming writer of a binary sparse shard; complete on `close()`, absent after `abort()`. */
export class SparseShardWriter extends ShardFile {
  protected readonly magic = SPARSE_SHARD_MAGIC;
  private nnz = 0;
  private readonly vocabSize: number;

  /**
   * @param vocabSize the vocabulary size; term ids must be below it (0 = unchecked, recorded as 0).
   * @param encoder the encoder that produced the vectors, recorded in the shard.
   */
  constructor(path: string, vocabSize = 0, encoder?: EncoderIdentity) {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < 0 || vocabSize > 0xffffffff) throw new ShapeError(`vocabulary size must be an integer in [0, 2^32), got ${vocabSize}`, { file: path });
    super(path, encoder);
    this.vocabSize = vocabSize;
  }

  /** Appends one vector (validated: ascending unique ids below vocabSize, finite non-negative weights). */
  add(id: string, vec: SparseVec): void {
    try {
      checkId(id, this.path, `record ${this.rows + 1}`);
      checkSparseVec(vec, this.vocabSize || undefined, this.path, `record ${this.rows + 1} (id ${id})`);
    } catch (e) { this.abort(); throw e; }
    const n = vec.terms.length;
    const b = Buffer.allocUnsafe(4 + 8 * n);
    b.writeUInt32LE(n, 0);
    Buffer.from(vec.terms.buffer, vec.terms.byteOffset, 4 * n).copy(b, 4);
    Buffer.from(vec.weights.buffer, vec.weights.byteOffset, 4 * n).copy(b, 4 + 4 * n);
    this.append(b);
    this.rows += 1;
    this.nnz += n;
    this.ids.push(id);
  }

  /** @internal */
  protected header(h: Buffer, idsOffset: number, idsBytes: number, metaBytes: number): void {
    h.writeUInt32LE(this.vocabSize, 12);
    h.writeUInt32LE(this.rows, 16);
    h.writeDoubleLE(this.nnz, 24);
    h.writeDoubleLE(idsOffset, 32);
    h.writeDoubleLE(idsBytes, 40);
    h.writeDoubleLE(metaBytes, 48);
  }
}

/** Streaming writer of a binary dense `.f32` shard. */
export class DenseShardWriter extends ShardFile {
  protected readonly magic = DENSE_SHARD_MAGIC;
  readonly dim: number;

  constructor(path: string, dim: number, encoder?: EncoderIdentity) {
    if (!Number.isInteger(dim) || dim <= 0 || dim > 0xffffffff) throw new ShapeError(`dense dimension must be a positive integer, got ${dim}`, { file: path });
    super(path, encoder);
    this.dim = dim;
  }

  /** Appends rows: `data` is (n, dim) row-major and `ids` has n entries. */
  add(ids: string[], data: Float32Array): void {
    try {
      if (data.length !== ids.length * this.dim) {
        throw new ShapeError(`record ${this.rows + 1}: ${data.length} values for ${ids.length} ids of dimension ${this.dim}`, { file: this.path });
      }
      for (let i = 0; i < ids.length; i++) checkId(ids[i]!, this.path, `record ${this.rows + i + 1}`);
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) {
          const r = Math.floor(i / this.dim);
          throw new NonFiniteError(`record ${this.rows + r + 1} (id ${ids[r]}): component ${i % this.dim} is ${data[i]}; dense vectors must be finite`, { file: this.path });
        }
      }
    } catch (e) { this.abort(); throw e; }
    this.append(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.rows += ids.length;
    for (const id of ids) this.ids.push(id);
  }

  /** @internal */
  protected header(h: Buffer, idsOffset: number, idsBytes: number, metaBytes: number): void {
    h.writeUInt32LE(this.dim, 12);
    h.writeUInt32LE(this.rows, 16);
    h.writeUInt32LE(0, 20);
    h.writeDoubleLE(idsOffset, 24);
    h.writeDoubleLE(idsBytes, 32);
    h.writeDoubleLE(metaBytes, 40);
  }
}

/**
 * Writes a header and 64-byte-aligned sections at the given offsets to a temporary file, syncs and renames it
 * to `path` (used by the index files); on any failure the temporary file is removed and `path` untouched.
 */
export function writeSectionsAtomic(path: string, header: Uint8Array, sections: Uint8Array[], offsets: number[]): void {
  const f = new AtomicFileSync(path);
  try {
    f.write(header, 0);
    sections.forEach((sec, i) => f.write(sec, offsets[i]!));
  } catch (e) {
    f.abort();
    throw e;
  }
  f.commit();
}

function openExisting(path: string): number {
  if (!existsSync(path)) throw new NotFoundError(`no such file: ${path}`, { file: path });
  return openSync(path, 'r');
}

/** True when `path` starts with the sparse shard magic (otherwise it is read as JSONL). */
export function isSparseShard(path: string): boolean {
  const fd = openExisting(path);
  try {
    const b = Buffer.alloc(8);
    return readSync(fd, b, 0, 8, 0) === 8 && b.toString('latin1') === SPARSE_SHARD_MAGIC;
  } finally { closeSync(fd); }
}

/** Reads a binary sparse shard record by record (1 MiB buffered reads). */
export function* readSparseShard(path: string, opts: SparseReadOptions = {}): Generator<SparseRecord> {
  const fd = openExisting(path);
  try {
    const info = openShard(fd, path, SPARSE_SHARD_MAGIC);
    const { vocabSize: shardVocab, rows, idsOffset } = info;
    const ids = readIds(fd, path, idsOffset, info.idsBytes, rows);
    const vocab = opts.vocabSize ?? (shardVocab || undefined);
    let buf = Buffer.alloc(1 << 20);
    let bufStart = HEADER; // file offset of buf[0]
    let bufLen = 0;
    let pos = HEADER;
    const ensure = (n: number): void => {
      if (pos + n <= bufStart + bufLen) return;
      if (pos + n > idsOffset) throw new ArtifactError(`truncated shard: record runs past the records section at byte ${pos}`, { file: path });
      if (n > buf.length) buf = Buffer.alloc(n * 2);
      bufStart = pos;
      bufLen = readSync(fd, buf, 0, Math.min(buf.length, idsOffset - pos), pos);
    };
    for (let r = 0; r < rows; r++) {
      ensure(4);
      const n = buf.readUInt32LE(pos - bufStart);
      ensure(4 + 8 * n);
      const o = pos - bufStart + 4;
      const terms = new Uint32Array(n);
      const weights = new Float32Array(n);
      new Uint8Array(terms.buffer).set(buf.subarray(o, o + 4 * n));
      new Uint8Array(weights.buffer).set(buf.subarray(o + 4 * n, o + 8 * n));
      pos += 4 + 8 * n;
      const vec = { terms, weights };
      checkSparseVec(vec, vocab, path, `record ${r + 1} (id ${ids[r]})`);
      yield { id: ids[r]!, vec };
    }
    if (pos !== idsOffset) throw new ArtifactError(`records end at byte ${pos} but the ids start at ${idsOffset}`, { file: path });
  } finally { closeSync(fd); }
}

/** Reads sparse JSONL `{id, vector:{tokenId: weight}}` line by line (blank lines skipped). */
export async function* readSparseJsonl(path: string, opts: SparseReadOptions = {}): AsyncGenerator<SparseRecord> {
  if (!existsSync(path)) throw new NotFoundError(`no such file: ${path}`, { file: path });
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line += 1;
    if (text.trim() === '') continue;
    let o: unknown;
    try { o = JSON.parse(text); } catch (e) { throw new FormatError(`not valid JSON (${(e as Error).message})`, { file: path, line }); }
    if (typeof o !== 'object' || o === null) throw new FormatError('expected an object {id, vector}', { file: path, line });
    const rec = o as { id?: unknown; _id?: unknown; vector?: unknown };
    const id = rec.id ?? rec._id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new FormatError("missing string field 'id'", { file: path, line, field: 'id' });
    if (typeof id === 'number' && !Number.isSafeInteger(id)) throw new FormatError(`id ${id} is not an integer that a JSON number can hold exactly (beyond 2^53); write it as a string`, { file: path, line, field: 'id' });
    if (typeof rec.vector !== 'object' || rec.vector === null || Array.isArray(rec.vector)) {
      throw new FormatError("missing object field 'vector' ({tokenId: weight})", { file: path, line, field: 'vector' });
    }
    const sid = String(id);
    checkId(sid, path, `line ${line}`);
    yield { id: sid, vec: sparseFromObject(rec.vector as Record<string, unknown>, opts.vocabSize, path, `id ${sid}`, line) };
  }
}

/** Reads sparse vectors from a binary shard or JSONL file, whichever `path` is (detected by magic). */
export async function* readSparseVectors(path: string, opts: SparseReadOptions = {}): AsyncGenerator<SparseRecord> {
  if (isSparseShard(path)) yield* readSparseShard(path, opts);
  else yield* readSparseJsonl(path, opts);
}

/** Writes sparse vectors as JSONL atomically. */
export async function writeSparseJsonl(path: string, records: Iterable<SparseRecord> | AsyncIterable<SparseRecord>): Promise<number> {
  const { withAtomicWrite } = await import('../util/atomic.js');
  return withAtomicWrite(path, async (out) => {
    let n = 0;
    let chunk = '';
    for await (const r of records) {
      checkId(r.id, path, `record ${n + 1}`);
      checkSparseVec(r.vec, undefined, path, `record ${n + 1} (id ${r.id})`);
      chunk += `${JSON.stringify({ id: r.id, vector: sparseToObject(r.vec) })}\n`;
      n += 1;
      if (chunk.length > 1 << 20) { await out.write(chunk); chunk = ''; }
    }
    if (chunk) await out.write(chunk);
    return n;
  });
}

/** Reads a whole dense `.f32` shard into memory. */
export function readDenseShard(path: string): DenseMatrix {
  const fd = openExisting(path);
  try {
    const info = openShard(fd, path, DENSE_SHARD_MAGIC);
    const { dim, rows, idsOffset } = info;
    const ids = readIds(fd, path, idsOffset, info.idsBytes, rows);
    const data = new Float32Array(rows * dim);
    const bytes = new Uint8Array(data.buffer);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, Math.min(1 << 30, bytes.length - done), HEADER + done);
      if (n <= 0) throw new ArtifactError('truncated dense shard', { file: path });
      done += n;
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new NonFiniteError(`row ${Math.floor(i / dim) + 1} (id ${ids[Math.floor(i / dim)]}): component ${i % dim} is ${data[i]}`, { file: path });
    }
    return { data, rows, dim, ids };
  } finally { closeSync(fd); }
}

/** Writes a dense matrix as one `.f32` shard. */
export function writeDenseShard(path: string, m: DenseMatrix, encoder?: EncoderIdentity): void {
  if (m.data.length !== m.rows * m.dim || m.ids.length !== m.rows) {
    throw new ShapeError(`dense matrix is ${m.rows} x ${m.dim} with ${m.data.length} values and ${m.ids.length} ids`, { file: path });
  }
  const w = new DenseShardWriter(path, m.dim, encoder);
  w.add(m.ids, m.data);
  w.close();
}

/** Reads dense vectors from one or more shards (concatenated in order); dimensions must agree. */
export function readDenseShards(paths: string[]): DenseMatrix {
  const parts = paths.map((p) => readDenseShard(p));
  if (parts.length === 1) return parts[0]!;
  const dim = parts[0]?.dim ?? 0;
  let rows = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i]!.dim !== dim) throw new ShapeError(`dimension ${parts[i]!.dim} differs from ${dim} in ${paths[0]}`, { file: paths[i] });
    rows += parts[i]!.rows;
  }
  const data = new Float32Array(rows * dim);
  const ids: string[] = [];
  let o = 0;
  for (const p of parts) { data.set(p.data, o); o += p.data.length; for (const id of p.ids) ids.push(id); }
  return { data, rows, dim, ids };
}
