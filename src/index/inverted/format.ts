/**
 * The sparse inverted index file (`.lidx`) and its in-memory form. Little-endian, version 2.
 *
 * Header (512 B):
 *   0  magic "LIONINV\0"        8  u32 version = 2       12 u32 weight dtype (0 f32, 1 u8, 2 u16)
 *   16 u32 numDocs (N)         20 u32 vocab (V)          24 f64 numPostings (P)
 *   32 f32 scale (impact -> weight; 1 for f32)           36 u32 blockShift (documents per block = 2^shift)
 *   40 u32 numBlocks (NB)      44 u32 denseRows (R)      48 f64 blockEntries (E)
 *   56 f32 bmScale (block bound = code * bmScale)        60 u32 section count (23)
 *   64 section table: 23 x (f64 offset, f64 bytes), sections 64-byte aligned, in this order:
 *     termOffsets u32 (V+1) | docIds u32 (P) | weights W (P) | fwdOffsets u32 (N+1) | fwdTerms u32 (P)
 *     | fwdWeights W (P) | bmOffsets u32 (V+1) | bmBlocks u32 (E) | bmMax u8 (E) | denseRow i32 (V)
 *     | denseMax u8 (R, NB) | impOffsets u32 (V+1) | impDocs u32 (I) | termMax f32 (V)
 *     | clOffsets u32 (V+1) | clDocOffsets u32 (C+1) | clDocs u32 (J) | clSumOffsets u32 (C+1)
 *     | clSumTerms u32 (S) | clSumCodes u8 (S) | clSumScale f32 (C)
 *     | doc ids UTF-8 "\n"-terminated (N) | build metadata JSON (build choices; "encoder": the identity of the
 *     encoder that produced the vectors, src/util/identity.ts)
 *   trailer (24 B, src/util/checksum.ts): the project's checksum of the body then the header, verified on open
 *   while the sections are read (LION_VERIFY=fast skips the data pass, not the size checks).
 * impDocs holds, per term, the positions of its highest-weight postings (at most `impactMax`), by weight
 * descending, ties by position: the impact-ordered lists of `impact` search.
 * The cl* sections are the clustered lists of `cluster` search: per term, its `listMax` highest-weight
 * postings (static pruning) in position order, cut into blocks of `clusterSize` documents; since positions
 * follow the document reordering (graph bisection), a block holds similar documents. Each block has a summary
 * vector: per term, the largest weight of the block's documents, the smallest entries dropped once the kept
 * ones hold `summaryMass` of the total, stored as 8-bit codes (weight ~ code * clSumScale[block]).
 * Postings of each term are sorted by document position; the forward arrays hold each document's terms
 * ascending. Loading checks every header number against the file size before allocating, verifies the
 * checksum while reading, and checks every invariant the native loops rely on, once.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { ArtifactError, NotFoundError } from '../../errors.js';
import type { WeightArray } from '../native.js';
import { Checksum, makeTrailer, TRAILER_BYTES, verifyMode, verifyTrailer } from '../../util/checksum.js';
import { ChecksumError } from '../../errors.js';
import { MAGIC } from '../../io/sniff.js';

export const INDEX_MAGIC = MAGIC.sparseIndex;
export const INDEX_VERSION = 2;
export const HEADER_BYTES = 512;
const SECTIONS = 23;

/** How postings weights are stored. */
export type WeightDtype = 'f32' | 'u8' | 'u16';
export const DTYPE_CODE: Record<WeightDtype, number> = { f32: 0, u8: 1, u16: 2 };
const DTYPE_OF = ['f32', 'u8', 'u16'] as const;

/** A loaded sparse inverted index: typed arrays only. */
export interface InvertedIndex {
  path?: string;
  numDocs: number; // N
  vocab: number; // V
  numPostings: number; // P
  dtype: WeightDtype;
  /** Stored code times `scale` is the weight (1 for f32). */
  scale: number;
  termOffsets: Uint32Array; // (V + 1)
  docIds: Uint32Array; // (P) document positions
  weights: WeightArray; // (P)
  /** Block-max summaries and forward index (for `blockmax` search). */
  blockShift: number;
  numBlocks: number; // NB
  bmScale: number;
  fwdOffsets: Uint32Array; // (N + 1)
  fwdTerms: Uint32Array; // (P)
  fwdWeights: WeightArray; // (P)
  bmOffsets: Uint32Array; // (V + 1)
  bmBlocks: Uint32Array; // (E)
  bmMax: Uint8Array; // (E)
  denseRow: Int32Array; // (V) row of denseMax, or -1
  denseMax: Uint8Array; // (R, NB)
  /** Impact-ordered lists (for `impact` search). */
  impOffsets: Uint32Array; // (V + 1)
  impDocs: Uint32Array; // (I)
  termMax: Float32Array; // (V) largest (dequantised) weight per term
  /** Clustered lists with block summaries (for `cluster` search); empty when built without them. */
  clOffsets: Uint32Array; // (V + 1) block range of each term
  clDocOffsets: Uint32Array; // (C + 1) document range of each block
  clDocs: Uint32Array; // (J) positions, ascending within a block
  clSumOffsets: Uint32Array; // (C + 1) summary entry range of each block
  clSumTerms: Uint32Array; // (S) ascending within a block
  clSumCodes: Uint8Array; // (S)
  clSumScale: Float32Array; // (C)
  ids: string[]; // (N) external document ids, by position
  meta: Record<string, unknown>;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** An empty clustered-list structure (an index built without `cluster` lists). */
export function emptyClusters(V: number): Pick<InvertedIndex, 'clOffsets' | 'clDocOffsets' | 'clDocs' | 'clSumOffsets' | 'clSumTerms' | 'clSumCodes' | 'clSumScale'> {
  return { clOffsets: new Uint32Array(V + 1), clDocOffsets: new Uint32Array(1), clDocs: new Uint32Array(0), clSumOffsets: new Uint32Array(1), clSumTerms: new Uint32Array(0), clSumCodes: new Uint8Array(0), clSumScale: new Float32Array(0) };
}

/**
 * Serialises an index into header + section payloads + checksum footer (written by build.ts through an
 * atomic file). The last entry of `sections` is the footer. @internal
 */
export function encodeIndex(ix: InvertedIndex): { header: Buffer; sections: Uint8Array[]; offsets: number[] } {
  const idsBytes = Buffer.from(ix.ids.map((s) => `${s}\n`).join(''), 'utf8');
  const metaBytes = Buffer.from(JSON.stringify(ix.meta), 'utf8');
  const sections: Uint8Array[] = [
    bytesOf(ix.termOffsets), bytesOf(ix.docIds), bytesOf(ix.weights), bytesOf(ix.fwdOffsets), bytesOf(ix.fwdTerms),
    bytesOf(ix.fwdWeights), bytesOf(ix.bmOffsets), bytesOf(ix.bmBlocks), bytesOf(ix.bmMax), bytesOf(ix.denseRow),
    bytesOf(ix.denseMax), bytesOf(ix.impOffsets), bytesOf(ix.impDocs), bytesOf(ix.termMax),
    bytesOf(ix.clOffsets), bytesOf(ix.clDocOffsets), bytesOf(ix.clDocs), bytesOf(ix.clSumOffsets), bytesOf(ix.clSumTerms),
    bytesOf(ix.clSumCodes), bytesOf(ix.clSumScale), idsBytes, metaBytes,
  ];
  const h = Buffer.alloc(HEADER_BYTES);
  h.write(INDEX_MAGIC, 0, 'latin1');
  h.writeUInt32LE(INDEX_VERSION, 8);
  h.writeUInt32LE(DTYPE_CODE[ix.dtype], 12);
  h.writeUInt32LE(ix.numDocs, 16);
  h.writeUInt32LE(ix.vocab, 20);
  h.writeDoubleLE(ix.numPostings, 24);
  h.writeFloatLE(ix.scale, 32);
  h.writeUInt32LE(ix.blockShift, 36);
  h.writeUInt32LE(ix.numBlocks, 40);
  h.writeUInt32LE(ix.numBlocks > 0 ? ix.denseMax.length / ix.numBlocks : 0, 44);
  h.writeDoubleLE(ix.bmBlocks.length, 48);
  h.writeFloatLE(ix.bmScale, 56);
  h.writeUInt32LE(SECTIONS, 60);
  const offsets: number[] = [];
  let pos = HEADER_BYTES;
  sections.forEach((s, i) => {
    offsets.push(pos);
    h.writeDoubleLE(pos, 64 + 16 * i);
    h.writeDoubleLE(s.byteLength, 72 + 16 * i);
    pos = align64(pos + s.byteLength);
  });
  // The checksum covers the body (each section and the zero padding after it) and then the header.
  const c = new Checksum();
  const pad = new Uint8Array(64);
  sections.forEach((s) => { c.update(s); c.update(pad.subarray(0, align64(s.byteLength) - s.byteLength)); });
  c.update(h);
  sections.push(makeTrailer(c.digest(), pos));
  offsets.push(pos);
  return { header: h, sections, offsets };
}

function fail(path: string, msg: string): never {
  throw new ArtifactError(msg, { file: path });
}

/** Options of `loadInvertedIndex`. */
export interface LoadIndexOptions {
  /** Verify the checksum while reading (default: true unless LION_VERIFY=fast). `false` skips the data pass, not the bounds. */
  verify?: boolean;
}

/** Loads an index file, checking magic, version, sizes, the checksum and the postings invariants. */
export function loadInvertedIndex(path: string, opts: LoadIndexOptions = {}): InvertedIndex {
  if (!existsSync(path)) throw new NotFoundError(`no such index: ${path}`, { file: path });
  const verify = opts.verify ?? verifyMode() === 'full';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const h = Buffer.alloc(HEADER_BYTES);
    if (size < HEADER_BYTES + TRAILER_BYTES || readSync(fd, h, 0, HEADER_BYTES, 0) !== HEADER_BYTES) fail(path, `truncated index: ${size} bytes, shorter than header and checksum trailer`);
    const magic = h.toString('latin1', 0, 8);
    if (magic !== INDEX_MAGIC) fail(path, `not a Lion sparse index (magic ${JSON.stringify(magic)})`);
    const version = h.readUInt32LE(8);
    if (version !== INDEX_VERSION) fail(path, `index version ${version}; this Lion reads version ${INDEX_VERSION} (rebuild the index with lion index)`);
    const dcode = h.readUInt32LE(12);
    if (dcode > 2) fail(path, `unknown weight dtype ${dcode}`);
    const dtype = DTYPE_OF[dcode]!;
    const N = h.readUInt32LE(16), V = h.readUInt32LE(20), P = h.readDoubleLE(24);
    const NB = h.readUInt32LE(40), R = h.readUInt32LE(44), E = h.readDoubleLE(48);
    if (h.readUInt32LE(60) !== SECTIONS) fail(path, `expected ${SECTIONS} sections, header lists ${h.readUInt32LE(60)}`);
    // Trailer and sizes first (no data pass: the sections are hashed below, as they are read).
    const trailer = verifyTrailer(fd, path, { headerBytes: HEADER_BYTES, mode: 'fast' });
    const footerAt = trailer.payloadBytes;
    // Every count in the header must be a non-negative integer that fits the file, before anything is allocated.
    const count = (x: number, name: string) => { if (!Number.isSafeInteger(x) || x < 0 || x > size) fail(path, `header field ${name} is ${x}; expected a non-negative integer within the file size`); };
    count(P, 'numPostings'); count(E, 'blockEntries'); count(V, 'vocab'); count(N, 'numDocs');
    if (P > 0xffffffff) fail(path, `header field numPostings is ${P}; at most 2^32 - 1`);
    const shift = h.readUInt32LE(36);
    if (shift > 16 || NB !== Math.ceil(N / 2 ** shift)) fail(path, `block layout is inconsistent (shift ${shift}, ${NB} blocks, ${N} documents)`);
    if (R * NB > size) fail(path, `header lists ${R} dense rows of ${NB} blocks, more than the file holds`);
    const wb = dcode === 0 ? 4 : dcode === 1 ? 1 : 2;
    const expect = [4 * (V + 1), 4 * P, wb * P, 4 * (N + 1), 4 * P, wb * P, 4 * (V + 1), 4 * E, E, 4 * V, R * NB, 4 * (V + 1), -1, 4 * V, 4 * (V + 1)];
    const table: Array<[number, number]> = [];
    let prevEnd = HEADER_BYTES;
    for (let i = 0; i < SECTIONS; i++) {
      const off = h.readDoubleLE(64 + 16 * i), len = h.readDoubleLE(72 + 16 * i);
      if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < prevEnd || len < 0 || off % 64 !== 0) fail(path, `section ${i} has a bad offset or length (${off}, ${len})`);
      if (off + len > footerAt) fail(path, `truncated index: section ${i} ends at byte ${off + len}, past the footer at ${footerAt}`);
      if (i < expect.length && expect[i]! >= 0 && len !== expect[i]) fail(path, `section ${i} holds ${len} bytes, expected ${expect[i]}`);
      table.push([off, len]);
      prevEnd = off + len;
    }
    const digest = verify ? new Checksum() : null;
    let at = HEADER_BYTES; // next byte to hash
    const gap = (to: number) => {
      if (!digest || to <= at) return;
      const b = Buffer.alloc(to - at);
      readSync(fd, b, 0, b.length, at);
      digest.update(b);
    };
    const read = (i: number): Uint8Array => {
      const [off, len] = table[i]!;
      gap(off);
      const buf = new Uint8Array(new ArrayBuffer(len));
      let done = 0;
      while (done < len) {
        const n = readSync(fd, buf, done, Math.min(1 << 30, len - done), off + done);
        if (n <= 0) fail(path, `truncated index: section ${i}`);
        done += n;
      }
      digest?.update(buf);
      at = off + len;
      return buf;
    };
    const u32 = (i: number) => {
      const b = read(i);
      if (b.byteLength % 4 !== 0) fail(path, `section ${i} holds ${b.byteLength} bytes, not a whole number of 32-bit entries`);
      return new Uint32Array(b.buffer);
    };
    const wts = (i: number): WeightArray => {
      const b = read(i).buffer;
      return dcode === 0 ? new Float32Array(b) : dcode === 1 ? new Uint8Array(b) : new Uint16Array(b);
    };
    const ix: InvertedIndex = {
      path, numDocs: N, vocab: V, numPostings: P, dtype, scale: h.readFloatLE(32),
      termOffsets: u32(0), docIds: u32(1), weights: wts(2), fwdOffsets: u32(3), fwdTerms: u32(4), fwdWeights: wts(5),
      bmOffsets: u32(6), bmBlocks: u32(7), bmMax: read(8), denseRow: new Int32Array(read(9).buffer), denseMax: read(10),
      blockShift: shift, numBlocks: NB, bmScale: h.readFloatLE(56),
      impOffsets: u32(11), impDocs: u32(12), termMax: new Float32Array(read(13).buffer),
      clOffsets: u32(14), clDocOffsets: u32(15), clDocs: u32(16), clSumOffsets: u32(17), clSumTerms: u32(18), clSumCodes: read(19),
      clSumScale: new Float32Array(0), ids: [], meta: {},
    };
    const sc = u32(20);
    ix.clSumScale = new Float32Array(sc.buffer);
    const ids = Buffer.from(read(21)).toString('utf8').split('\n');
    ids.pop();
    if (ids.length !== N) fail(path, `index lists ${ids.length} document ids for ${N} documents`);
    ix.ids = ids;
    const metaBytes = read(22);
    gap(footerAt);
    if (digest) {
      const got = digest.update(h).digest();
      if (got !== trailer.checksum) throw new ChecksumError(`checksum mismatch (recorded ${trailer.checksum.toString(16).padStart(8, '0')}, computed ${got.toString(16).padStart(8, '0')}): the index file has been altered or damaged; rebuild it`, { file: path });
    }
    try { ix.meta = JSON.parse(Buffer.from(metaBytes).toString('utf8')) as Record<string, unknown>; } catch { fail(path, 'index metadata is not JSON'); }
    if (ix.meta === null || typeof ix.meta !== 'object') fail(path, 'index metadata is not a JSON object');
    ix.meta.checksumVerified = verify;
    checkInvariants(ix, path);
    return ix;
  } finally {
    closeSync(fd);
  }
}

/** Checks what the native loops assume (offsets monotone and complete, ids in range); O(P), once per load. */
export function checkInvariants(ix: InvertedIndex, path = '<memory>'): void {
  const { numDocs: N, vocab: V } = ix;
  const mono = (a: Uint32Array, end: number, name: string) => {
    if (a[0] !== 0 || a[a.length - 1] !== end) fail(path, `${name} must run from 0 to ${end}`);
    for (let i = 1; i < a.length; i++) if (a[i]! < a[i - 1]!) fail(path, `${name} decreases at ${i}`);
  };
  mono(ix.termOffsets, ix.numPostings, 'termOffsets');
  mono(ix.fwdOffsets, ix.numPostings, 'fwdOffsets');
  mono(ix.bmOffsets, ix.bmBlocks.length, 'bmOffsets');
  mono(ix.impOffsets, ix.impDocs.length, 'impOffsets');
  for (let i = 0; i < ix.impDocs.length; i++) if (ix.impDocs[i]! >= N) fail(path, `impact list entry ${i} points past the ${N} documents`);
  const d = ix.docIds;
  for (let t = 0; t < V; t++) {
    let prev = -1;
    for (let p = ix.termOffsets[t]!; p < ix.termOffsets[t + 1]!; p++) {
      const x = d[p]!;
      if (x >= N || x <= prev) fail(path, `postings of term ${t} are not ascending document positions below ${N}`);
      prev = x;
    }
  }
  const ft = ix.fwdTerms;
  for (let p = 0; p < ft.length; p++) if (ft[p]! >= V) fail(path, `forward term ${ft[p]} at ${p} is outside the vocabulary of ${V}`);
  for (let e = 0; e < ix.bmBlocks.length; e++) if (ix.bmBlocks[e]! >= ix.numBlocks) fail(path, `block id ${ix.bmBlocks[e]} out of range`);
  const rows = ix.numBlocks > 0 ? ix.denseMax.length / ix.numBlocks : 0;
  for (let t = 0; t < V; t++) if (ix.denseRow[t]! >= rows || ix.denseRow[t]! < -1) fail(path, `denseRow of term ${t} is out of range`);
  // Clustered lists: block ranges, document ranges and summary ranges complete and monotone; ids in range.
  const C = ix.clDocOffsets.length - 1;
  if (C < 0 || ix.clSumOffsets.length !== C + 1 || ix.clSumScale.length !== C) fail(path, 'clustered-list block tables disagree in length');
  mono(ix.clOffsets, C, 'clOffsets');
  mono(ix.clDocOffsets, ix.clDocs.length, 'clDocOffsets');
  mono(ix.clSumOffsets, ix.clSumTerms.length, 'clSumOffsets');
  if (ix.clSumCodes.length !== ix.clSumTerms.length) fail(path, 'clustered-list summary codes and terms disagree in length');
  for (let i = 0; i < ix.clDocs.length; i++) if (ix.clDocs[i]! >= N) fail(path, `clustered list entry ${i} points past the ${N} documents`);
  for (let i = 0; i < ix.clSumTerms.length; i++) if (ix.clSumTerms[i]! >= V) fail(path, `summary term ${ix.clSumTerms[i]} is outside the vocabulary of ${V}`);
  for (let c = 0; c < C; c++) if (!(ix.clSumScale[c]! >= 0 && ix.clSumScale[c]! < Infinity)) fail(path, `summary scale of block ${c} is not finite`);
  for (const [name, a] of [['forward', ix.fwdWeights], ['posting', ix.weights]] as const) for (let i = 0; i < a.length; i++) { const w = a[i]!; if (!(w >= 0 && w < Infinity)) fail(path, `${name} weight ${i} is ${w}; weights must be finite and >= 0`); }
}
