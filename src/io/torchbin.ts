/**
 * PyTorch checkpoints (`pytorch_model.bin`, `adapter_model.bin`, `*.pt`) read WITHOUT Python and without ever
 * executing anything: a zip reader plus a restricted unpickler that understands only what `torch.save` writes
 * for a state dict.
 *
 * Format (torch ≥ 1.6 "zip" serialization): a zip archive `<prefix>/data.pkl` (a pickle of the state dict),
 * `<prefix>/data/<key>` (the raw little-endian bytes of each storage), `<prefix>/version`, optionally
 * `<prefix>/byteorder`. PyTorch stores entries uncompressed (64-byte aligned), so a contiguous tensor is just
 * a byte range of the file and is read straight into its destination like a safetensors tensor; deflated
 * entries (a re-zipped file) are inflated with node:zlib.
 *
 * The pickle is interpreted by a small stack machine that BUILDS DATA ONLY. Globals are resolved against an
 * allow-list (`torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`, the typed storage classes,
 * `collections.OrderedDict`); any other global (`posix.system`, `torch.storage._load_from_bytes`, …) or any
 * opcode outside the protocol-2..4 subset a state dict uses (INST, OBJ, NEWOBJ, EXT…) is refused with a
 * ModelError naming it and its byte offset. A persistent id `('storage', <StorageClass>, key, location, numel)`
 * names the `data/<key>` entry. Tensors keep their storage offset and strides; non-contiguous tensors and
 * views sharing one storage are made contiguous when read. Legacy (pre-1.6, non-zip) pickles are refused:
 * their tensors live inside the pickle stream and reading them needs the full pickle machinery.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { ArtifactError, ModelError, NotFoundError } from '../errors.js';
import { sniffBytes } from './sniff.js';
import { readTensorInto, type SafetensorsIndex, type TensorInfo } from './safetensors.js';

/** Element types of torch storages, in safetensors spelling. */
export type TorchDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const STORAGES: Record<string, TorchDtype> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};
const ELEMENT_BYTES: Record<TorchDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** One entry of a zip archive: where its (possibly compressed) bytes lie in the file. */
interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  dataStart: number;
  compressedSize: number;
  size: number;
}

/** A tensor of a torch checkpoint: a TensorInfo (byte range of its storage) plus its view geometry. */
export interface TorchTensorInfo extends TensorInfo {
  torch: {
    /** Element strides of the view, and its offset (elements) into the storage. */
    stride: number[];
    storageOffset: number;
    /** The storage's zip entry. */
    entry: ZipEntry;
    /** True when `begin..end` is exactly the tensor's bytes (stored entry, row-major, no gaps). */
    direct: boolean;
  };
}

export function isTorchTensor(info: TensorInfo): info is TorchTensorInfo {
  return (info as Partial<TorchTensorInfo>).torch !== undefined;
}

// ------------------------------------------------------------------------------------------------ zip

function readAt(fd: number, pos: number, len: number, file: string): Buffer {
  const buf = Buffer.alloc(len);
  let done = 0;
  while (done < len) {
    const got = readSync(fd, buf, done, len - done, pos + done);
    if (got <= 0) throw new ArtifactError(`file ends early (wanted ${len} bytes at offset ${pos})`, { file });
    done += got;
  }
  return buf;
}

/** Reads the central directory of a zip file (zip64 included). */
function readZipEntries(fd: number, file: string): Map<string, ZipEntry> {
  const size = fstatSync(fd).size;
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, size - tailLen, tailLen, file);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new ArtifactError('not a zip archive (no end-of-central-directory record)', { file });
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locPos = size - tailLen + eocd - 20;
    const loc = readAt(fd, locPos, 20, file);
    if (loc.readUInt32LE(0) !== 0x07064b50) throw new ArtifactError('zip64 end-of-central-directory locator missing', { file });
    const z = readAt(fd, Number(loc.readBigUInt64LE(8)), 56, file);
    if (z.readUInt32LE(0) !== 0x06064b50) throw new ArtifactError('zip64 end-of-central-directory record missing', { file });
    count = Number(z.readBigUInt64LE(32));
    cdSize = Number(z.readBigUInt64LE(40));
    cdOffset = Number(z.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > size) throw new ArtifactError('zip central directory lies outside the file', { file });
  const cd = readAt(fd, cdOffset, cdSize, file);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new ArtifactError(`zip central directory entry ${i} is damaged`, { file });
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressed = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28), extraLen = cd.readUInt16LE(p + 30), commentLen = cd.readUInt16LE(p + 32);
    let local = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values of the fields that hold 0xffffffff, in this order
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x), len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (uncompressed === 0xffffffff) { uncompressed = Number(cd.readBigUInt64LE(q)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(cd.readBigUInt64LE(q)); q += 8; }
        if (local === 0xffffffff) { local = Number(cd.readBigUInt64LE(q)); q += 8; }
      }
      x += 4 + len;
    }
    p = xEnd + commentLen;
    const lh = readAt(fd, local, 30, file);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw new ArtifactError(`zip entry ${name}: local header missing`, { file, field: name });
    const dataStart = local + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    if (dataStart + compressedSize > size) throw new ArtifactError(`zip entry ${name} lies outside the file`, { file, field: name });
    if (method !== 0 && method !== 8) throw new ArtifactError(`zip entry ${name} uses compression method ${method} (only stored and deflate are read)`, { file, field: name });
    entries.set(name, { name, method, dataStart, compressedSize, size: uncompressed });
  }
  return entries;
}

function entryBytes(fd: number, e: ZipEntry, file: string): Buffer {
  const raw = readAt(fd, e.dataStart, e.compressedSize, file);
  if (e.method === 0) return raw;
  try {
    return inflateRawSync(raw);
  } catch (err) {
    throw new ArtifactError(`zip entry ${e.name} does not inflate`, { file, field: e.name, cause: err });
  }
}

// ------------------------------------------------------------------------------------------------ pickle

class Tuple { constructor(readonly items: unknown[]) {} }
class Global { constructor(readonly module: string, readonly name: string) {} get full(): string { return `${this.module}.${this.name}`; } }
interface StorageRef { kind: 'storage'; dtype: TorchDtype; key: string; numel: number }
interface TensorRef { kind: 'tensor'; storage: StorageRef; offset: number; shape: number[]; stride: number[] }
const MARK = Symbol('mark');

/** Globals a state dict needs; everything else is refused. */
const ALLOWED = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state', ...Object.keys(STORAGES).map((s) => `torch.${s}`),
]);

const OPNAMES: Record<number, string> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x50: 'PERSID', 0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x64: 'DICT',
  0x8b: 'LONG4', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

function isTensor(v: unknown): v is TensorRef { return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor'; }

function asInts(v: unknown, what: string, fail: (m: string) => never): number[] {
  const items = v instanceof Tuple ? v.items : Array.isArray(v) ? v : null;
  if (!items || !items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) fail(`${what} is not a tuple of non-negative integers`);
  return items as number[];
}

/**
 * Runs the restricted unpickler over `data` and returns the unpickled value (dicts are Maps, tensors are
 * TensorRefs). `where` names the file for errors.
 */
function unpickle(data: Buffer, where: string): unknown {
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const storages = new Map<string, StorageRef>();
  let pos = 0;
  let opAt = 0;
  const fail = (msg: string): never => { throw new ModelError(`pickle byte ${opAt}: ${msg}`, { file: where, hint: 'Lion reads only plain state dicts (tensors by name) saved with torch.save' }); };
  const need = (n: number): void => { if (pos + n > data.length) fail('the pickle ends early'); };
  const u8 = (): number => { need(1); return data[pos++]!; };
  const u16 = (): number => { need(2); const v = data.readUInt16LE(pos); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = data.readUInt32LE(pos); pos += 4; return v; };
  const str = (n: number): string => { need(n); const s = data.toString('utf8', pos, pos + n); pos += n; return s; };
  const line = (): string => { const e = data.indexOf(0x0a, pos); if (e < 0) fail('unterminated GLOBAL'); const s = data.toString('latin1', pos, e); pos = e + 1; return s; };
  const pop = (): unknown => { if (stack.length === 0) fail('stack underflow'); return stack.pop(); };
  const popMark = (): unknown[] => { const m = marks.pop(); if (m === undefined) fail('no MARK on the stack'); const items = stack.splice(m! + 1); stack.pop(); return items; };
  const top = (): unknown => { if (stack.length === 0) fail('stack underflow'); return stack[stack.length - 1]; };
  const setItems = (target: unknown, kv: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) (target as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  };
  const global = (module: string, name: string): Global => {
    const g = new Global(module, name);
    if (!ALLOWED.has(g.full)) {
      fail(`global ${g.full} is not allowed (a state dict needs only ${[...ALLOWED].filter((a) => !a.endsWith('Storage')).join(', ')} and torch storage types); nothing was executed`);
    }
    return g;
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global)) return fail('REDUCE on something that is not an allowed global');
    const a = args instanceof Tuple ? args.items : fail('REDUCE arguments are not a tuple');
    switch ((fn as Global).full) {
      case 'collections.OrderedDict': {
        const m = new Map<unknown, unknown>();
        if (a.length > 0) fail('OrderedDict with constructor arguments');
        return m;
      }
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = a;
        if (!(typeof storage === 'object' && storage !== null && (storage as StorageRef).kind === 'storage')) fail('_rebuild_tensor_v2 without a storage');
        if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) fail('_rebuild_tensor_v2 storage offset is not a non-negative integer');
        const shape = asInts(size, 'tensor size', fail), st = asInts(stride, 'tensor stride', fail);
        if (shape.length !== st.length) fail('tensor size and stride differ in length');
        const s = storage as StorageRef;
        let last = offset as number;
        for (let i = 0; i < shape.length; i++) if (shape[i]! > 0) last += (shape[i]! - 1) * st[i]!;
        if (shape.some((d) => d === 0) ? (offset as number) > s.numel : last >= s.numel) fail(`tensor view [${shape.join(', ')}] at offset ${String(offset)} lies outside its storage of ${s.numel} elements`);
        return { kind: 'tensor', storage: s, offset: offset as number, shape, stride: st } satisfies TensorRef;
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        if (!isTensor(a[0])) fail('_rebuild_parameter without a tensor');
        return a[0];
      default:
        return fail(`calling ${(fn as Global).full} is not allowed`);
    }
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); pos += 8; break; // FRAME
      case 0x2e: { // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      }
      case 0x28: marks.push(stack.length); stack.push(MARK); break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new Tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new Tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(new Tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new Tuple([a, b, c])); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo key ${k} is not set`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: { const module = line(); stack.push(global(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(data.readBigUInt64LE(pos)); pos += 8; stack.push(str(n)); break; } // BINUNICODE8
      case 0x54: stack.push(str(u32())); break; // BINSTRING
      case 0x55: stack.push(str(u8())); break; // SHORT_BINSTRING
      case 0x42: { const n = u32(); need(n); stack.push(data.subarray(pos, pos + n)); pos += n; break; } // BINBYTES
      case 0x43: { const n = u8(); need(n); stack.push(data.subarray(pos, pos + n)); pos += n; break; } // SHORT_BINBYTES
      case 0x4a: { need(4); stack.push(data.readInt32LE(pos)); pos += 4; break; } // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[pos + i]!);
        if (n > 0 && data[pos + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail('integer too large');
        stack.push(Number(v));
        break;
      }
      case 0x47: { need(8); stack.push(data.readDoubleBE(pos)); pos += 8; break; } // BINFLOAT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x51: { // BINPERSID
        const pid = pop();
        const t = pid instanceof Tuple ? pid.items : fail('persistent id is not a tuple');
        const [tag, cls, key, , numel] = t;
        if (tag !== 'storage' || !(cls instanceof Global) || typeof key !== 'string' || typeof numel !== 'number') {
          fail('persistent id is not (\'storage\', <StorageClass>, key, location, numel)');
        }
        const dtype = STORAGES[(cls as Global).name]!;
        let s = storages.get(key as string);
        if (!s) { s = { kind: 'storage', dtype, key: key as string, numel: numel as number }; storages.set(key as string, s); }
        stack.push(s);
        break;
      }
      case 0x52: { const args = pop(); stack.push(reduce(pop(), args)); break; } // REDUCE
      case 0x62: { // BUILD: only the `_metadata` attribute torch puts on a state dict's OrderedDict
        const state = pop();
        if (!(top() instanceof Map) || !(state instanceof Map)) fail('BUILD on something other than a state dict');
        break;
      }
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) fail('APPEND to a non-list'); (l as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = top(); if (!Array.isArray(l)) fail('APPENDS to a non-list'); (l as unknown[]).push(...items); break; } // APPENDS
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        fail(`opcode ${OPNAMES[op] ?? '0x' + op.toString(16).padStart(2, '0')} is not allowed in a state dict (only data-building opcodes are read); nothing was executed`);
    }
  }
}

// ------------------------------------------------------------------------------------------------ public

/**
 * Reads the tensor directory of a torch zip checkpoint (no tensor data): name → TorchTensorInfo, in the
 * shape of a safetensors index so model loaders can treat both alike.
 */
export function readTorchCheckpoint(file: string): SafetensorsIndex {
  if (!existsSync(file)) throw new NotFoundError('PyTorch checkpoint not found', { file });
  const fd = openSync(file, 'r');
  try {
    const kind = sniffBytes(readAt(fd, 0, Math.min(16, fstatSync(fd).size), file));
    if (kind !== 'torch-zip') {
      const legacy = kind === 'torch-legacy';
      throw new ModelError(legacy
        ? 'this is a legacy (pre-1.6, non-zip) PyTorch pickle: its tensors are embedded in the pickle stream, which Lion does not interpret'
        : 'not a PyTorch zip checkpoint (no zip header)', {
        file, hint: legacy ? 're-save it once with a current torch.save (zip format), or as safetensors' : 'expected a file written by torch.save',
      });
    }
    const entries = readZipEntries(fd, file);
    const pkl = [...entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
    if (!pkl) throw new ArtifactError('the zip has no data.pkl: not a torch.save checkpoint', { file });
    const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
    const order = entries.get(prefix + 'byteorder');
    if (order && entryBytes(fd, order, file).toString('latin1').trim() !== 'little') {
      throw new ModelError('the checkpoint was saved big-endian; Lion reads little-endian checkpoints', { file, field: 'byteorder' });
    }
    const root = unpickle(entryBytes(fd, entries.get(pkl)!, file), file);
    if (!(root instanceof Map)) throw new ModelError('the checkpoint is not a dict of tensors', { file });
    const tensors = new Map<string, TensorInfo>();
    for (const [name, v] of root) {
      if (typeof name !== 'string') throw new ModelError('the checkpoint has a key that is not a string', { file });
      if (!isTensor(v)) throw new ModelError(`entry ${name} is not a tensor (Lion reads plain state dicts)`, { file, field: name });
      tensors.set(name, tensorInfo(name, v, entries, prefix, file));
    }
    return { tensors, metadata: {}, files: [file] };
  } finally {
    closeSync(fd);
  }
}

function tensorInfo(name: string, t: TensorRef, entries: Map<string, ZipEntry>, prefix: string, file: string): TorchTensorInfo {
  const entry = entries.get(`${prefix}data/${t.storage.key}`);
  if (!entry) throw new ArtifactError(`tensor ${name}: storage data/${t.storage.key} is missing from the zip`, { file, field: name });
  const bytes = ELEMENT_BYTES[t.storage.dtype];
  if (entry.size !== t.storage.numel * bytes) {
    throw new ArtifactError(`tensor ${name}: storage data/${t.storage.key} holds ${entry.size} bytes, not ${t.storage.numel} × ${bytes}`, { file, field: name });
  }
  let contiguous = true;
  for (let i = t.shape.length - 1, want = 1; i >= 0; i--) {
    if (t.shape[i]! !== 1 && t.stride[i]! !== want) contiguous = false;
    want *= t.shape[i]!;
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  const direct = contiguous && entry.method === 0;
  const begin = direct ? entry.dataStart + t.offset * bytes : entry.dataStart;
  return {
    name, dtype: t.storage.dtype, shape: t.shape, file, begin, end: direct ? begin + n * bytes : entry.dataStart + entry.compressedSize,
    torch: { stride: t.stride, storageOffset: t.offset, entry, direct },
  };
}

function decode(buf: Buffer, dtype: TorchDtype, i: number): number {
  switch (dtype) {
    case 'F32': return buf.readFloatLE(i * 4);
    case 'F64': return buf.readDoubleLE(i * 8);
    case 'BF16': { const b = Buffer.alloc(4); b.writeUInt32LE(buf.readUInt16LE(i * 2) << 16 >>> 0); return b.readFloatLE(0); }
    case 'F16': {
      const h = buf.readUInt16LE(i * 2), s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
      if (e === 0) return s * m * 2 ** -24;
      if (e === 31) return m ? NaN : s * Infinity;
      return s * (1 + m / 1024) * 2 ** (e - 15);
    }
    case 'I64': return Number(buf.readBigInt64LE(i * 8));
    case 'I32': return buf.readInt32LE(i * 4);
    case 'I16': return buf.readInt16LE(i * 2);
    case 'I8': return buf.readInt8(i);
    default: return buf[i]!;
  }
}

/**
 * Reads tensor `info` into `dst` as float32 (row-major), converting its dtype. Safetensors tensors and
 * contiguous stored torch tensors are read in place by byte range; strided views and deflated entries read
 * their storage once and gather the elements. `fd` may be an open descriptor of `info.file`.
 */
export function readWeightInto(info: TensorInfo, dst: Float32Array, fd?: number): void {
  if (!isTorchTensor(info) || (info.torch.direct && ['F32', 'F16', 'BF16', 'F64'].includes(info.dtype))) {
    readTensorInto(info, dst, fd);
    return;
  }
  const n = info.shape.reduce((a, b) => a * b, 1);
  if (dst.length !== n) {
    throw new ModelError(`tensor ${info.name}: destination holds ${dst.length} values, the file has [${info.shape.join(', ')}]`, { file: info.file, field: info.name });
  }
  const own = fd === undefined;
  const f = own ? openSync(info.file, 'r') : fd;
  try {
    const storage = entryBytes(f, info.torch.entry, info.file);
    const { stride, storageOffset } = info.torch;
    const shape = info.shape;
    const dtype = info.dtype as TorchDtype;
    const idx = new Array<number>(shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let at = storageOffset;
      for (let d = 0; d < shape.length; d++) at += idx[d]! * stride[d]!;
      dst[k] = decode(storage, dtype, at);
      for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
    }
  } finally {
    if (own) closeSync(f);
  }
}

/** Reads one tensor of any supported checkpoint into a new Float32Array. */
export function readWeight(info: TensorInfo): Float32Array {
  const out = new Float32Array(info.shape.reduce((a, b) => a * b, 1));
  readWeightInto(info, out);
  return out;
}
