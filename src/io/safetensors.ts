/**
 * safetensors files: read and write, single files and sharded checkpoints (`model.safetensors.index.json`).
 *
 * Layout of one file (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian header
 * length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`
 * (padded with spaces), then the raw little-endian tensor bytes; offsets are relative to the end of the header.
 *
 * Reading is two-phase so that a model never needs more than its size in the destination dtype plus a small
 * scratch buffer: `openCheckpoint` reads only the headers, then `readTensorInto` (float32 destination) or
 * `readTensorBf16Into` (bfloat16 destination, a Uint16Array of raw bits) reads each tensor straight into its
 * destination: bytes already in the destination dtype land in place, anything else goes through a fixed
 * 4 MiB scratch buffer and is converted chunk by chunk (F16 → BF16 and F32 → BF16 round to nearest even).
 * `readTensorChunks` hands a tensor over in row-aligned chunks (for per-row int8 quantisation). Nothing is
 * memory-mapped or read whole.
 *
 * Invariants checked: the header parses, every tensor's byte range lies inside the file and matches its
 * dtype × shape, the destination has exactly as many elements, and only float dtypes are read; every failure
 * is a ModelError/ArtifactError naming the tensor and the file.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactError, ModelError, NotFoundError } from '../errors.js';
import { withAtomicWrite } from '../util/atomic.js';

/** The float dtypes Lion reads (and writes, except F64). */
export type FloatDtype = 'F32' | 'F16' | 'BF16' | 'F64';
const BYTES: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** Where one tensor lives: `begin`/`end` are absolute byte offsets in `file`. */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  file: string;
  begin: number;
  end: number;
}

/** The tensors of one safetensors file or of a whole (possibly sharded) checkpoint, by name. */
export interface SafetensorsIndex {
  tensors: Map<string, TensorInfo>;
  /** `__metadata__` of the (first) file. */
  metadata: Record<string, string>;
  /** Every file read, in order. */
  files: string[];
}

const SCRATCH_BYTES = 4 << 20;

/** Reads the header of one safetensors file (not its data). */
export function readSafetensorsHeader(file: string): SafetensorsIndex {
  if (!existsSync(file)) throw new NotFoundError('safetensors file not found', { file });
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new ArtifactError('file too short for a safetensors header', { file });
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n <= 1 || 8 + n > size) throw new ArtifactError(`header length ${n} does not fit a file of ${size} bytes`, { file, hint: 'is this a safetensors file?' });
    const hdr = Buffer.alloc(n);
    readSync(fd, hdr, 0, n, 8);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(hdr.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ArtifactError('safetensors header is not valid JSON', { file, cause: e });
    }
    const base = 8 + n;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(json)) {
      if (name === '__metadata__') { metadata = (v ?? {}) as Record<string, string>; continue; }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof e?.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
        throw new ArtifactError(`tensor ${name}: header entry needs dtype, shape and data_offsets`, { file, field: name });
      }
      const [b, en] = e.data_offsets as number[];
      if (!(Number.isInteger(b) && Number.isInteger(en) && b >= 0 && en >= b && base + en <= size)) {
        throw new ArtifactError(`tensor ${name}: data_offsets [${b}, ${en}] lie outside the file`, { file, field: name });
      }
      tensors.set(name, { name, dtype: e.dtype, shape: (e.shape as number[]).map(Number), file, begin: base + b, end: base + en });
    }
    return { tensors, metadata, files: [file] };
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a checkpoint: a `.safetensors` file, or a directory holding `model.safetensors` or a sharded set
 * listed by `model.safetensors.index.json` (every shard's header is read and the weight map is checked).
 */
export function openCheckpoint(path: string): SafetensorsIndex {
  if (!existsSync(path)) throw new NotFoundError('checkpoint not found', { file: path });
  if (!statSync(path).isDirectory()) return readSafetensorsHeader(path);
  const indexFile = join(path, 'model.safetensors.index.json');
  if (existsSync(indexFile)) {
    let idx: { weight_map?: Record<string, string> };
    try {
      idx = JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map?: Record<string, string> };
    } catch (e) {
      throw new ArtifactError('not valid JSON', { file: indexFile, cause: e });
    }
    if (!idx.weight_map || typeof idx.weight_map !== 'object') throw new ArtifactError('missing "weight_map"', { file: indexFile, field: 'weight_map' });
    const shards = [...new Set(Object.values(idx.weight_map))];
    const out: SafetensorsIndex = { tensors: new Map(), metadata: {}, files: [] };
    for (const shard of shards) {
      const h = readSafetensorsHeader(join(path, shard));
      if (out.files.length === 0) out.metadata = h.metadata;
      out.files.push(...h.files);
      for (const [k, v] of h.tensors) out.tensors.set(k, v);
    }
    for (const [name, shard] of Object.entries(idx.weight_map)) {
      const t = out.tensors.get(name);
      if (!t) throw new ModelError(`tensor ${name} is listed in the index but missing from ${shard}`, { file: join(path, shard), field: name });
    }
    return out;
  }
  const single = join(path, 'model.safetensors');
  if (existsSync(single)) return readSafetensorsHeader(single);
  throw new NotFoundError('no model.safetensors or model.safetensors.index.json in the directory', {
    file: path, hint: 'only safetensors checkpoints are read (convert pytorch_model.bin with safetensors in Python)',
  });
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Converts one IEEE half to float32 bits' value. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, round to nearest even (NaN stays NaN). */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return (b >> 16) | 0x40;
  return ((b + 0x7fff + ((b >> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → IEEE half bits, round to nearest even, overflow to ±Infinity. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r += 1;
    return sign | r;
  }
  let r = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r += 1;
  return sign | r;
}

/**
 * Reads tensor `info` into `dst` (float32, exactly `numel(shape)` elements), converting from its dtype.
 * `fd` may be an already open descriptor of `info.file`.
 */
export function readTensorInto(info: TensorInfo, dst: Float32Array, fd?: number): void {
  const dtype = checkTensor(info, dst.length);
  const n = dst.length;
  const own = fd === undefined;
  const f = own ? openSync(info.file, 'r') : fd;
  try {
    if (dtype === 'F32') readFully(f, new Uint8Array(dst.buffer, dst.byteOffset, n * 4), info.begin, info);
    else forEachChunk(info, f, dtype, n, 1, (chunk, start) => dst.set(chunk, start));
  } finally {
    if (own) closeSync(f);
  }
}

/**
 * Reads tensor `info` into `dst` as bfloat16 bits (exactly `numel(shape)` elements): BF16 bytes land in place
 * with no float32 copy anywhere; F16, F32 and F64 are rounded to nearest even chunk by chunk (NaN stays NaN).
 */
export function readTensorBf16Into(info: TensorInfo, dst: Uint16Array, fd?: number): void {
  const dtype = checkTensor(info, dst.length);
  const n = dst.length;
  const own = fd === undefined;
  const f = own ? openSync(info.file, 'r') : fd;
  try {
    if (dtype === 'BF16') {
      readFully(f, new Uint8Array(dst.buffer, dst.byteOffset, n * 2), info.begin, info);
      return;
    }
    forEachChunk(info, f, dtype, n, 1, (chunk, start) => {
      const bits = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length);
      for (let j = 0; j < bits.length; j++) {
        const b = bits[j]!;
        dst[start + j] = (b & 0x7fffffff) > 0x7f800000 ? (b >>> 16) | 0x40 : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
      }
    });
  } finally {
    if (own) closeSync(f);
  }
}

/**
 * Hands tensor `info` to `onChunk` in pieces of whole rows (`rowLength` elements each) of at most ~4 MiB:
 * BF16 as its raw bits (Uint16Array), every other float dtype as float32. `start` is the first element's
 * index. The chunk views are reused: copy what must outlive the call.
 */
export function readTensorChunks(info: TensorInfo, rowLength: number, onChunk: (chunk: Float32Array | Uint16Array, start: number) => void, fd?: number): void {
  const n = numel(info.shape);
  const dtype = checkTensor(info, n);
  if (!(rowLength >= 1) || n % rowLength !== 0) throw new ModelError(`tensor ${info.name}: ${n} values are not whole rows of ${rowLength}`, { file: info.file, field: info.name });
  const own = fd === undefined;
  const f = own ? openSync(info.file, 'r') : fd;
  try {
    if (dtype === 'BF16') {
      const per = Math.max(1, Math.floor(SCRATCH_BYTES / 2 / rowLength)) * rowLength;
      const buf = new Uint16Array(Math.min(per, n));
      for (let i = 0; i < n; i += per) {
        const cnt = Math.min(per, n - i);
        readFully(f, new Uint8Array(buf.buffer, 0, cnt * 2), info.begin + i * 2, info);
        onChunk(buf.subarray(0, cnt), i);
      }
      return;
    }
    forEachChunk(info, f, dtype, n, rowLength, onChunk);
  } finally {
    if (own) closeSync(f);
  }
}

/** Checks `info`'s dtype, byte size and the destination size; returns the dtype. */
function checkTensor(info: TensorInfo, dstLength: number): FloatDtype {
  const dtype = info.dtype as FloatDtype;
  const bytes = BYTES[dtype];
  if (bytes === undefined) {
    throw new ModelError(`tensor ${info.name} has dtype ${info.dtype}; Lion reads F32, F16, BF16 and F64 weights`, { file: info.file, field: info.name });
  }
  const n = numel(info.shape);
  if (n * bytes !== info.end - info.begin) {
    throw new ArtifactError(`tensor ${info.name}: ${info.end - info.begin} bytes do not hold ${info.dtype} [${info.shape.join(', ')}]`, { file: info.file, field: info.name });
  }
  if (dstLength !== n) {
    throw new ModelError(`tensor ${info.name}: destination holds ${dstLength} values, the file has [${info.shape.join(', ')}]`, { file: info.file, field: info.name });
  }
  return dtype;
}

/** Reads n elements of any float dtype as float32 chunks (whole rows of `rowLength`) through one scratch buffer. */
function forEachChunk(info: TensorInfo, f: number, dtype: FloatDtype, n: number, rowLength: number, onChunk: (chunk: Float32Array, start: number) => void): void {
  const bytes = BYTES[dtype];
  const per = Math.max(1, Math.floor(SCRATCH_BYTES / 8 / rowLength)) * rowLength;
  const raw = new Uint8Array(new ArrayBuffer(Math.min(per, n) * bytes));
  const out = dtype === 'F32' ? new Float32Array(raw.buffer) : new Float32Array(Math.min(per, n));
  for (let i = 0; i < n; i += per) {
    const cnt = Math.min(per, n - i);
    readFully(f, raw.subarray(0, cnt * bytes), info.begin + i * bytes, info);
    if (dtype === 'BF16') {
      const s = new Uint16Array(raw.buffer, 0, cnt), o32 = new Uint32Array(out.buffer, 0, cnt);
      for (let j = 0; j < cnt; j++) o32[j] = s[j]! << 16;
    } else if (dtype === 'F16') {
      const s = new Uint16Array(raw.buffer, 0, cnt);
      for (let j = 0; j < cnt; j++) out[j] = halfToFloat(s[j]!);
    } else if (dtype === 'F64') {
      const s = new Float64Array(raw.buffer, 0, cnt);
      for (let j = 0; j < cnt; j++) out[j] = s[j]!;
    }
    onChunk(out.subarray(0, cnt), i);
  }
}

/** One read call at most 1 GiB (Node refuses lengths ≥ 2 GiB; an 8B model's head is 2 GiB in F32). */
const MAX_READ = 1 << 30;

function readFully(fd: number, buf: Uint8Array, pos: number, info: TensorInfo): void {
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, Math.min(MAX_READ, buf.length - done), pos + done);
    if (got <= 0) throw new ArtifactError(`tensor ${info.name}: file ends early`, { file: info.file, field: info.name });
    done += got;
  }
}

/** Reads a tensor into a new Float32Array. */
export function readTensor(info: TensorInfo): Float32Array {
  const dst = new Float32Array(numel(info.shape));
  readTensorInto(info, dst);
  return dst;
}

/**
 * One tensor to write: float32 data stored as `dtype` (default F32), or bfloat16 bits (a Uint16Array) stored
 * as BF16 unchanged.
 */
export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array | Uint16Array;
  dtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Writes a safetensors file atomically (temporary file, then rename). Tensors are stored in the order given,
 * converted chunk by chunk so no second copy of a large tensor is made.
 */
export async function writeSafetensors(path: string, tensors: TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    if (numel(t.shape) !== t.data.length) throw new ModelError(`tensor ${t.name}: shape [${t.shape.join(', ')}] does not match ${t.data.length} values`, { file: path, field: t.name });
    const dtype = t.data instanceof Uint16Array ? 'BF16' : t.dtype ?? 'F32';
    if (t.data instanceof Uint16Array && t.dtype !== undefined && t.dtype !== 'BF16') {
      throw new ModelError(`tensor ${t.name}: bfloat16 bits can only be written as BF16, not ${t.dtype}`, { file: path, field: t.name });
    }
    const nbytes = t.data.length * BYTES[dtype];
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [off, off + nbytes] };
    off += nbytes;
  }
  let hjson = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (hjson.length % 8)) % 8;
  if (pad) hjson = Buffer.concat([hjson, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hjson.length));
  await withAtomicWrite(path, async (out) => {
    const put = (chunk: Uint8Array): Promise<void> => out.write(chunk);
    await put(len);
    await put(hjson);
    for (const t of tensors) {
      const data = t.data;
      if (data instanceof Uint16Array) {
        for (let i = 0; i < data.length; i += SCRATCH_BYTES / 2) {
          const part = data.subarray(i, Math.min(data.length, i + SCRATCH_BYTES / 2));
          await put(new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength)));
        }
        continue;
      }
      const dtype = t.dtype ?? 'F32';
      if (dtype === 'F32') {
        // copy in chunks: the stream keeps a reference to what it is given
        for (let i = 0; i < data.length; i += SCRATCH_BYTES / 4) {
          const part = data.subarray(i, Math.min(data.length, i + SCRATCH_BYTES / 4));
          await put(new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength)));
        }
        continue;
      }
      const conv = dtype === 'BF16' ? floatToBf16 : floatToHalf;
      const per = SCRATCH_BYTES / 2;
      for (let i = 0; i < data.length; i += per) {
        const cnt = Math.min(per, data.length - i);
        const s = new Uint16Array(cnt);
        for (let j = 0; j < cnt; j++) s[j] = conv(data[i + j]!);
        await put(new Uint8Array(s.buffer));
      }
    }
  });
}
