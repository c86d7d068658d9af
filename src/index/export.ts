/**
 * Exports of Lion indexes to the formats of existing engines (docs/indexing.md gives the mappings and
 * collection settings), plus readers for the ones we read back in round-trip tests.
 *
 *  - `anserini`: JsonVectorCollection JSONL `{"id", "contents": "", "vector": {"<termId>": int}}` with integer
 *    impacts round(w * scale) (Anserini's convention for SPLADE is scale 100); zero impacts are dropped.
 *  - `ciff`: the Common Index File Format (osirrc/ciff CommonIndexFileFormat.proto): varint-length-delimited
 *    protobuf messages Header, then one PostingsList per non-empty term (terms as decimal ids, in byte order,
 *    docids d-gap encoded, tf = integer impact), then one DocRecord per document (doclength = sum of impacts).
 *    The protobuf encoding is written here by hand (varints, wire types 0/1/2).
 *  - `opensearch`: bulk NDJSON (action line + source line per document) with a `rank_features` field for sparse
 *    vectors (keys are term ids) or a `knn_vector` field for dense ones; the index mapping is written beside it.
 *  - `qdrant`: JSONL of points `{"id": position, "vector": {"<name>": {"indices", "values"}} | {"<name>": [..]},
 *    "payload": {"docid"}}` for the upsert API, with the collection settings written beside it.
 * Every export streams through an atomic file: a failure leaves no partial output.
 */
import { readFileSync } from 'node:fs';
import { FormatError, UsageError } from '../errors.js';
import { withAtomicWrite, writeFileAtomic } from '../util/atomic.js';
import type { InvertedIndex } from './inverted/format.js';
import { rowOf, type VectorIndex } from './vector/flat.js';

export type ExportFormat = 'anserini' | 'ciff' | 'opensearch' | 'qdrant';

export interface ExportOptions {
  /** Integer impacts = round(weight * scale) for anserini / ciff. */
  scale?: number;
  /** OpenSearch index name / Qdrant collection name. */
  name?: string;
  /** Field (OpenSearch) or named vector (Qdrant). */
  field?: string;
}

/** A document's (term, weight) pairs from the forward index, dequantised. */
function docTerms(ix: InvertedIndex, d: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = ix.fwdOffsets[d]!; p < ix.fwdOffsets[d + 1]!; p++) out.push([ix.fwdTerms[p]!, Math.fround(ix.fwdWeights[p]! * ix.scale)]);
  return out;
}

// ---- protobuf encoding (proto3 wire format) ----
class PbWriter {
  private bytes: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) { this.bytes.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    this.bytes.push(Number(x));
    return this;
  }
  tag(field: number, wire: number): this { return this.varint((field << 3) | wire); }
  int(field: number, v: number): this { return v === 0 ? this : this.tag(field, 0).varint(v); }
  double(field: number, v: number): this {
    if (v === 0) return this;
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    for (const x of b) this.bytes.push(x);
    return this;
  }
  bytesField(field: number, b: Uint8Array): this { this.tag(field, 2).varint(b.length); for (const x of b) this.bytes.push(x); return this; }
  string(field: number, s: string): this { return s === '' ? this : this.bytesField(field, Buffer.from(s, 'utf8')); }
  done(): Uint8Array { return Uint8Array.from(this.bytes); }
  /** The message prefixed by its varint length (writeDelimitedTo). */
  delimited(): Uint8Array { const m = this.done(); return Buffer.concat([new PbWriter().varint(m.length).done(), m]); }
}

/** Decoded proto3 message: field number -> values (numbers as bigint for varints, Uint8Array for bytes). */
type PbFields = Map<number, Array<bigint | number | Uint8Array>>;

function readVarint(b: Uint8Array, pos: { i: number }): bigint {
  let x = 0n, s = 0n;
  for (;;) {
    if (pos.i >= b.length) throw new FormatError('truncated protobuf varint');
    const c = b[pos.i++]!;
    x |= BigInt(c & 0x7f) << s;
    if (c < 0x80) return x;
    s += 7n;
  }
}

function parseMessage(b: Uint8Array): PbFields {
  const f: PbFields = new Map();
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const key = Number(readVarint(b, pos));
    const field = key >> 3, wire = key & 7;
    let v: bigint | number | Uint8Array;
    if (wire === 0) v = readVarint(b, pos);
    else if (wire === 1) { v = Buffer.from(b.buffer, b.byteOffset + pos.i, 8).readDoubleLE(0); pos.i += 8; }
    else if (wire === 2) { const n = Number(readVarint(b, pos)); v = b.subarray(pos.i, pos.i + n); pos.i += n; }
    else throw new FormatError(`unsupported protobuf wire type ${wire}`);
    if (!f.has(field)) f.set(field, []);
    f.get(field)!.push(v);
  }
  return f;
}

const num = (f: PbFields, n: number): number => Number((f.get(n)?.[0] as bigint | undefined) ?? 0n);
const str = (f: PbFields, n: number): string => Buffer.from((f.get(n)?.[0] as Uint8Array | undefined) ?? new Uint8Array()).toString('utf8');

/** A CIFF file in memory (as our round-trip test and users' scripts read it). */
export interface Ciff {
  header: { version: number; numPostingsLists: number; numDocRecords: number; totalPostingsLists: number; totalDocs: number; totalTerms: number; averageDoclength: number; description: string };
  postings: Array<{ term: string; df: number; cf: number; docids: number[]; tfs: number[] }>;
  docs: Array<{ docid: number; collectionDocid: string; doclength: number }>;
}

/** Reads a CIFF file (length-delimited Header, PostingsLists, DocRecords; d-gaps undone). */
export function readCiff(path: string): Ciff {
  const b = new Uint8Array(readFileSync(path));
  const pos = { i: 0 };
  const next = (): PbFields => {
    const n = Number(readVarint(b, pos));
    if (pos.i + n > b.length) throw new FormatError('truncated CIFF message', { file: path });
    const m = parseMessage(b.subarray(pos.i, pos.i + n));
    pos.i += n;
    return m;
  };
  const h = next();
  const header = {
    version: num(h, 1), numPostingsLists: num(h, 2), numDocRecords: num(h, 3), totalPostingsLists: num(h, 4), totalDocs: num(h, 5),
    totalTerms: num(h, 6), averageDoclength: (h.get(7)?.[0] as number | undefined) ?? 0, description: str(h, 8),
  };
  const postings: Ciff['postings'] = [];
  for (let i = 0; i < header.numPostingsLists; i++) {
    const m = next();
    const docids: number[] = [], tfs: number[] = [];
    let prev = 0;
    for (const raw of (m.get(4) ?? []) as Uint8Array[]) {
      const p = parseMessage(raw);
      prev += num(p, 1);
      docids.push(prev);
      tfs.push(num(p, 2));
    }
    postings.push({ term: str(m, 1), df: num(m, 2), cf: num(m, 3), docids, tfs });
  }
  const docs: Ciff['docs'] = [];
  for (let i = 0; i < header.numDocRecords; i++) {
    const m = next();
    docs.push({ docid: num(m, 1), collectionDocid: str(m, 2), doclength: num(m, 3) });
  }
  if (pos.i !== b.length) throw new FormatError(`trailing bytes after ${header.numDocRecords} doc records`, { file: path });
  return { header, postings, docs };
}

function impact(w: number, scale: number): number {
  return Math.round(w * scale);
}

async function exportCiff(ix: InvertedIndex, out: string, scale: number): Promise<void> {
  const terms: number[] = [];
  for (let t = 0; t < ix.vocab; t++) {
    let any = false;
    for (let p = ix.termOffsets[t]!; p < ix.termOffsets[t + 1]! && !any; p++) any = impact(ix.weights[p]! * ix.scale, scale) > 0;
    if (any) terms.push(t);
  }
  terms.sort((a, b) => (String(a) < String(b) ? -1 : 1)); // byte order of the term strings, as Lucene's lexicon
  const doclen = new Float64Array(ix.numDocs);
  let total = 0;
  for (let p = 0; p < ix.numPostings; p++) { const v = impact(ix.weights[p]! * ix.scale, scale); doclen[ix.docIds[p]!] += v; total += v; }
  await withAtomicWrite(out, async (o) => {
    const header = new PbWriter().int(1, 1).int(2, terms.length).int(3, ix.numDocs).int(4, terms.length).int(5, ix.numDocs)
      .int(6, total).double(7, ix.numDocs ? total / ix.numDocs : 0).string(8, `Lion learned sparse index, integer impacts = round(weight * ${scale})`);
    await o.write(header.delimited());
    for (const t of terms) {
      const pl = new PbWriter().string(1, String(t));
      let df = 0, cf = 0, prev = 0;
      const body = new PbWriter();
      for (let p = ix.termOffsets[t]!; p < ix.termOffsets[t + 1]!; p++) {
        const v = impact(ix.weights[p]! * ix.scale, scale);
        if (v <= 0) continue;
        const d = ix.docIds[p]!;
        body.bytesField(4, new PbWriter().int(1, d - prev).int(2, v).done());
        prev = d; df++; cf += v;
      }
      pl.int(2, df).int(3, cf);
      const msg = Buffer.concat([pl.done(), body.done()]);
      await o.write(Buffer.concat([new PbWriter().varint(msg.length).done(), msg]));
    }
    for (let d = 0; d < ix.numDocs; d++) {
      await o.write(new PbWriter().int(1, d).string(2, ix.ids[d]!).int(3, doclen[d]!).delimited());
    }
  });
}

async function exportAnserini(ix: InvertedIndex, out: string, scale: number): Promise<void> {
  await withAtomicWrite(out, async (o) => {
    let buf = '';
    for (let d = 0; d < ix.numDocs; d++) {
      const vector: Record<string, number> = {};
      for (const [t, w] of docTerms(ix, d)) { const v = impact(w, scale); if (v > 0) vector[String(t)] = v; }
      buf += `${JSON.stringify({ id: ix.ids[d], contents: '', vector })}\n`;
      if (buf.length > 1 << 20) { await o.write(buf); buf = ''; }
    }
    await o.write(buf);
  });
}

/** OpenSearch mapping for the exported field. */
export function openSearchMapping(kind: 'sparse' | 'dense', field: string, dim = 0): Record<string, unknown> {
  if (kind === 'sparse') return { mappings: { properties: { [field]: { type: 'rank_features' }, docid: { type: 'keyword' } } } };
  return {
    settings: { index: { knn: true } },
    mappings: { properties: { [field]: { type: 'knn_vector', dimension: dim, method: { name: 'hnsw', space_type: 'innerproduct', engine: 'faiss' } }, docid: { type: 'keyword' } } },
  };
}

/** Qdrant collection settings for the exported named vector. */
export function qdrantCollection(kind: 'sparse' | 'dense', field: string, dim = 0): Record<string, unknown> {
  return kind === 'sparse' ? { sparse_vectors: { [field]: {} } } : { vectors: { [field]: { size: dim, distance: 'Dot' } } };
}

async function exportBulk(ix: InvertedIndex | VectorIndex, kind: 'sparse' | 'dense', format: 'opensearch' | 'qdrant', out: string, name: string, field: string): Promise<void> {
  const n = kind === 'sparse' ? (ix as InvertedIndex).numDocs : (ix as VectorIndex).rows;
  const dim = kind === 'dense' ? (ix as VectorIndex).dim : 0;
  await withAtomicWrite(out, async (o) => {
    let buf = '';
    const row = new Float32Array(dim);
    for (let d = 0; d < n; d++) {
      const id = ix.ids[d]!;
      let vec: unknown;
      if (kind === 'sparse') {
        const pairs = docTerms(ix as InvertedIndex, d).filter(([, w]) => w > 0);
        vec = format === 'opensearch' ? Object.fromEntries(pairs.map(([t, w]) => [String(t), w])) : { indices: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) };
      } else vec = Array.from(rowOf(ix as VectorIndex, d, row));
      if (format === 'opensearch') buf += `${JSON.stringify({ index: { _index: name, _id: id } })}\n${JSON.stringify({ docid: id, [field]: vec })}\n`;
      else buf += `${JSON.stringify({ id: d, vector: { [field]: vec }, payload: { docid: id } })}\n`;
      if (buf.length > 1 << 20) { await o.write(buf); buf = ''; }
    }
    await o.write(buf);
  });
  const settings = format === 'opensearch' ? openSearchMapping(kind, field, dim) : qdrantCollection(kind, field, dim);
  await writeFileAtomic(`${out}.${format === 'opensearch' ? 'mapping' : 'collection'}.json`, `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * Refuses an impact scale that rounds most of the index away: if more than half of the postings would become
 * impact 0 (and be dropped), the export would not be the index. Names the scale that keeps them.
 */
function checkScale(ix: InvertedIndex, scale: number): void {
  if (ix.numPostings === 0) return;
  let zero = 0, max = 0;
  for (let p = 0; p < ix.numPostings; p++) {
    const w = ix.weights[p]! * ix.scale;
    if (impact(w, scale) <= 0) zero++;
    if (w > max) max = w;
  }
  if (zero * 2 > ix.numPostings) {
    throw new UsageError(`--scale ${scale} rounds ${zero} of ${ix.numPostings} postings to impact 0 (largest weight ${max.toPrecision(4)}); the export would drop them`, {
      field: 'scale', hint: `use a scale of at least ${(100 / Math.max(max, 1e-30)).toPrecision(2)} (impacts up to 100), e.g. --scale 100 as Anserini does for SPLADE`,
    });
  }
}

/**
 * Exports a sparse (InvertedIndex) or dense (VectorIndex) index.
 * @example
 * ```ts
 * await exportIndex(loadInvertedIndex('docs.lidx'), 'sparse', 'ciff', 'docs.ciff', { scale: 100 });
 * ```
 */
export async function exportIndex(ix: InvertedIndex | VectorIndex, kind: 'sparse' | 'dense', format: ExportFormat, out: string, opts: ExportOptions = {}): Promise<void> {
  const scale = opts.scale ?? 100;
  if (!(scale > 0)) throw new UsageError(`impact scale must be > 0, got ${scale}`, { field: 'scale' });
  const name = opts.name ?? 'lion';
  const field = opts.field ?? (kind === 'sparse' ? 'sparse' : 'dense');
  if ((format === 'anserini' || format === 'ciff') && kind !== 'sparse') throw new UsageError(`${format} export holds sparse (inverted) indexes only`, { field: 'format' });
  if (format === 'anserini' || format === 'ciff') checkScale(ix as InvertedIndex, scale);
  if (format === 'anserini') return exportAnserini(ix as InvertedIndex, out, scale);
  if (format === 'ciff') return exportCiff(ix as InvertedIndex, out, scale);
  if (format === 'opensearch' || format === 'qdrant') return exportBulk(ix, kind, format, out, name, field);
  throw new UsageError(`export format must be anserini, ciff, opensearch or qdrant, got '${String(format)}'`, { field: 'format' });
}
