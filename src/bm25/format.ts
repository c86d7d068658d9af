/**
 * The on-disk BM25 index (`*.lbm25`): a fixed 64-byte header, a JSON metadata block, then the typed-array
 * sections of `Bm25Index` in a fixed order, each starting on an 8-byte boundary. Little-endian throughout.
 *
 *   0  magic "LIONBM25"           8 bytes
 *   8  version                    u32 (= 1)
 *  12  tfBytes                    u32 (2 = Uint16 tfs, 4 = Uint32 tfs)
 *  16  numDocs  20 numTerms       u32, u32
 *  24  numPostings                u32
 *  28  docCount                   u32   (documents with ≥ 1 term)
 *  32  sumTotalTermFreq           f64
 *  40  metaBytes                  u32   (UTF-8 JSON length)
 *  44  docIdBlobBytes             u32
 *  48  termBlobBytes              u32
 *  52  checksum                   u32   (FNV-1a over the 32-bit words of everything after the header)
 *  56  reserved                   8 bytes of zero
 *  64  meta JSON, then: docLen u32[D] · docIdOffsets u32[D+1] · docIdBlob u8 · termOffsets u32[V+1] ·
 *      termBlob u8 · postingOffsets u32[V+1] · postingDocs u32[P] · postingTfs u16|u32[P]
 *
 * Loading reads the file once and makes typed-array views over that buffer: no per-posting objects. The
 * loader checks magic, version, the exact file size the header implies, the checksum, and the offsets'
 * end points, and names the file in every error. Writing goes through a temporary file and a rename.
 */
import { promises as fsp } from 'node:fs';
import { ArtifactError, NotFoundError } from '../errors.js';
import { withAtomicWrite } from '../util/atomic.js';
import { fnv1aWords } from '../util/checksum.js';
import type { Bm25Index, Bm25IndexMeta } from './build.js';
import { MAGIC } from '../io/sniff.js';

export const BM25_MAGIC = MAGIC.bm25Index;
export const BM25_FORMAT_VERSION = 1;
const HEADER_BYTES = 64;

// Arithmetic, not bit operations: sizes may exceed 2^31.
const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Section byte sizes in file order, from the header counts. */
function sectionSizes(D: number, V: number, P: number, idBytes: number, termBytes: number, tfBytes: number): number[] {
  return [4 * D, 4 * (D + 1), idBytes, 4 * (V + 1), termBytes, 4 * (V + 1), 4 * P, tfBytes * P];
}

/** FNV-1a over 32-bit little-endian words (the shared implementation in src/util/checksum.ts). */
const checksumUpdate = fnv1aWords;

/** A section as written: its bytes (4-byte aligned, copied only if they are not) and the zero padding after them. */
interface Section {
  bytes: Uint8Array;
  pad: Uint8Array;
}

function section(a: ArrayBufferView): Section {
  let bytes = bytesOf(a);
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  return { bytes, pad: new Uint8Array(pad8(bytes.byteLength) - bytes.byteLength) };
}

/** Checksum of a section followed by its padding, without copying the section. */
function checksumSection(h: number, s: Section): number {
  const full = Math.floor(s.bytes.byteLength / 4) * 4;
  h = checksumUpdate(h, s.bytes.subarray(0, full));
  const tail = new Uint8Array(s.bytes.byteLength - full + s.pad.byteLength); // a multiple of 4
  tail.set(s.bytes.subarray(full));
  return checksumUpdate(h, tail);
}

/**
 * Write `index` to `path` atomically (a crash leaves any earlier file intact). Sections are streamed from the
 * index's own arrays, so writing needs no second copy of the postings.
 *
 * @example await writeBm25Index('scifact.lbm25', await buildBm25Index(readCorpus('corpus.jsonl')));
 */
export async function writeBm25Index(path: string, index: Bm25Index): Promise<void> {
  const metaJson = new TextEncoder().encode(JSON.stringify(index.meta));
  const sections = [
    metaJson, index.docLen, index.docIdOffsets, index.docIdBlob, index.termOffsets, index.termBlob,
    index.postingOffsets, index.postingDocs, index.postingTfs,
  ].map(section);
  let sum = 0x811c9dc5;
  for (const s of sections) sum = checksumSection(sum, s);

  const header = new ArrayBuffer(HEADER_BYTES);
  const dv = new DataView(header);
  new Uint8Array(header).set(new TextEncoder().encode(BM25_MAGIC), 0);
  dv.setUint32(8, BM25_FORMAT_VERSION, true);
  dv.setUint32(12, index.postingTfs.BYTES_PER_ELEMENT, true);
  dv.setUint32(16, index.numDocs, true);
  dv.setUint32(20, index.numTerms, true);
  dv.setUint32(24, index.postingDocs.length, true);
  dv.setUint32(28, index.docCount, true);
  dv.setFloat64(32, index.sumTotalTermFreq, true);
  dv.setUint32(40, metaJson.byteLength, true);
  dv.setUint32(44, index.docIdBlob.byteLength, true);
  dv.setUint32(48, index.termBlob.byteLength, true);
  dv.setUint32(52, sum, true);

  await withAtomicWrite(path, async (out) => {
    await out.write(new Uint8Array(header));
    for (const s of sections) {
      await out.write(s.bytes);
      if (s.pad.byteLength) await out.write(s.pad);
    }
  });
}

function fail(path: string, what: string): never {
  throw new ArtifactError(`${what}`, { file: path, hint: 'rebuild it with `lion bm25 index --corpus ... --out ...`' });
}

/**
 * Read a whole file into a fresh, 8-byte-aligned buffer (typed-array views need aligned offsets), in chunks,
 * since fs.readFile stops at 2 GiB.
 */
async function readWhole(path: string): Promise<Buffer> {
  const fh = await fsp.open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.from(new ArrayBuffer(size));
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(buf, at, Math.min(size - at, 1 << 30), at);
      if (bytesRead === 0) throw new Error(`file shrank while reading (${at} of ${size} bytes)`);
      at += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/**
 * Load an index written by `writeBm25Index`. Throws ArtifactError (code E_ARTIFACT) for a file that is not a
 * Lion BM25 index, has another format version, is truncated or has been altered.
 */
export async function readBm25Index(path: string): Promise<Bm25Index> {
  let buf: Buffer;
  try {
    buf = await readWhole(path);
  } catch (e) {
    throw new NotFoundError(`cannot read BM25 index: ${(e as Error).message}`, { file: path, hint: 'build one with `lion bm25 index`' });
  }
  if (buf.byteLength < HEADER_BYTES || buf.toString('latin1', 0, 8) !== BM25_MAGIC) {
    fail(path, `not a Lion BM25 index (expected the magic '${BM25_MAGIC}' at byte 0)`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== BM25_FORMAT_VERSION) fail(path, `BM25 index format version ${version}; this Lion reads version ${BM25_FORMAT_VERSION}`);
  const tfBytes = dv.getUint32(12, true);
  if (tfBytes !== 2 && tfBytes !== 4) fail(path, `header field tfBytes is ${tfBytes}; expected 2 or 4`);
  const D = dv.getUint32(16, true);
  const V = dv.getUint32(20, true);
  const P = dv.getUint32(24, true);
  const docCount = dv.getUint32(28, true);
  const sumTotalTermFreq = dv.getFloat64(32, true);
  const metaBytes = dv.getUint32(40, true);
  const idBytes = dv.getUint32(44, true);
  const termBytes = dv.getUint32(48, true);
  const checksum = dv.getUint32(52, true);
  const sizes = sectionSizes(D, V, P, idBytes, termBytes, tfBytes);
  const expected = HEADER_BYTES + pad8(metaBytes) + sizes.reduce((a, s) => a + pad8(s), 0);
  if (buf.byteLength !== expected) {
    fail(path, `file is ${buf.byteLength} bytes but its header describes ${expected} (truncated or not fully written)`);
  }
  const body = new Uint8Array(buf.buffer, buf.byteOffset + HEADER_BYTES, buf.byteLength - HEADER_BYTES);
  if (checksumUpdate(0x811c9dc5, body) !== checksum) fail(path, 'checksum mismatch: the file has been altered or damaged');

  let meta: Bm25IndexMeta;
  try {
    meta = JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + metaBytes)) as Bm25IndexMeta;
  } catch {
    fail(path, 'metadata block is not valid JSON');
  }
  if (typeof meta?.analyzer !== 'string') fail(path, "metadata block lacks the 'analyzer' field");

  let at = buf.byteOffset + HEADER_BYTES + pad8(metaBytes);
  const views: ArrayBufferView[] = [];
  const kinds = ['u32', 'u32', 'u8', 'u32', 'u8', 'u32', 'u32', tfBytes === 2 ? 'u16' : 'u32'];
  for (let i = 0; i < sizes.length; i++) {
    const n = sizes[i]!;
    const k = kinds[i]!;
    views.push(k === 'u8' ? new Uint8Array(buf.buffer, at, n) : k === 'u16' ? new Uint16Array(buf.buffer, at, n / 2) : new Uint32Array(buf.buffer, at, n / 4));
    at += pad8(n);
  }
  const [docLen, docIdOffsets, docIdBlob, termOffsets, termBlob, postingOffsets, postingDocs, postingTfs] = views as [
    Uint32Array, Uint32Array, Uint8Array, Uint32Array, Uint8Array, Uint32Array, Uint32Array, Uint16Array | Uint32Array,
  ];
  if (docIdOffsets[D] !== idBytes || termOffsets[V] !== termBytes || postingOffsets[V] !== P) {
    fail(path, 'section offsets do not end at the section sizes the header gives');
  }
  return {
    numDocs: D, numTerms: V, docCount, sumTotalTermFreq,
    docLen, docIdOffsets, docIdBlob, termOffsets, termBlob, postingOffsets, postingDocs, postingTfs, meta,
  };
}
