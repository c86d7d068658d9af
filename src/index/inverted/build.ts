/**
 * Builds the sparse inverted index from sparse vector files (JSONL or binary shards, any number, read in the
 * order given; a document's position is its load order). One pass reads the vectors into a forward index
 * (growing typed arrays); a counting sort inverts it, so postings come out sorted by position; block-max
 * summaries are taken per term over blocks of 2^blockShift positions. Optional quantisation stores impacts
 * as 8- or 16-bit codes with one global scale (code = max(1, round(w / scale)) so a present term stays
 * present; scale = max weight / code max). The file is written to a temporary name and renamed when
 * complete, so a failed build (bad record, full disk) leaves nothing behind.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DEFAULTS } from '../../defaults.js';
import { FormatError, ShapeError, UsageError } from '../../errors.js';
import { isSparseShard, readSparseVectors, type SparseRecord, writeSectionsAtomic } from '../../io/vectors.js';
import type { WeightArray } from '../native.js';
import { clusteredLists } from './clusters.js';
import { emptyClusters, encodeIndex, type InvertedIndex, type WeightDtype } from './format.js';
import { bisectionOrder, permuteForward } from './reorder.js';
import * as vectors from '../../io/vectors.js';
import { commonIdentity, type EncoderIdentity, identityToJson } from '../../util/identity.js';
import { GrowF32, GrowU32 } from '../../util/grow.js';

/** Build options; defaults in DEFAULTS.sparseIndex. */
export interface BuildSparseOptions {
  /** Weight storage: float32 or quantised impacts. */
  dtype?: WeightDtype;
  /** Vocabulary size; term ids must be below it. Default: largest id seen + 1. */
  vocabSize?: number;
  /** log2 of documents per block-max block (BMP uses 8..64 documents per block). */
  blockShift?: number;
  /** Longest impact-ordered list kept per term (the most `impact` search can use). */
  impactMax?: number;
  /** Free-form provenance stored in the index (sources, model, ...). */
  meta?: Record<string, unknown>;
  /** Identity of the encoder that produced the vectors (model fingerprint, head, vocabulary, precision), stored in the index. */
  encoder?: Record<string, unknown>;
  /** Reorder documents by recursive graph bisection so similar documents share blocks ('none' keeps load order). */
  reorder?: 'bp' | 'none';
  /** Graph bisection: swap rounds per level. */
  reorderIters?: number;
  /** Clustered lists (`cluster` search): highest-weight postings kept per term (0 = no clustered lists). */
  listMax?: number;
  /** Clustered lists: documents per block. */
  clusterSize?: number;
  /** Clustered lists: fraction of each block summary's weight mass kept (1 = the full max vector, a true bound). */
  summaryMass?: number;
  /** Clustered lists: most entries kept per block summary. */
  summaryMax?: number;
}

/** Largest vocabulary an index accepts (2^24 ids; encoder vocabularies are far smaller). */
export const MAX_VOCAB = 1 << 24;

/** Checks the build options (the option parser's types are not enough: ranges matter for memory). */
export function checkBuildOptions(opts: BuildSparseOptions): void {
  const int = (v: number | undefined, name: string, lo: number, hi: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) throw new UsageError(`${name} must be an integer in [${lo}, ${hi}], got ${v}`, { field: name });
  };
  int(opts.vocabSize, 'vocab', 1, MAX_VOCAB);
  int(opts.impactMax, 'impact-max', 1, 0xffffffff);
  int(opts.blockShift, 'block-shift', 0, 16);
  int(opts.listMax, 'list-max', 0, 0xffffffff);
  int(opts.clusterSize, 'cluster-size', 1, 65536);
  int(opts.summaryMax, 'summary-max', 1, 65536);
  int(opts.reorderIters, 'reorder-iters', 0, 100);
  if (opts.summaryMass !== undefined && !(opts.summaryMass > 0 && opts.summaryMass <= 1)) throw new UsageError(`summary-mass must be in (0, 1], got ${opts.summaryMass}`, { field: 'summary-mass' });
  if (opts.reorder !== undefined && opts.reorder !== 'bp' && opts.reorder !== 'none') throw new UsageError(`reorder must be bp or none, got '${String(opts.reorder)}'`, { field: 'reorder' });
  if (opts.dtype !== undefined && !['f32', 'u8', 'u16'].includes(opts.dtype)) throw new UsageError(`weight dtype must be f32, u8 or u16, got '${opts.dtype}'`, { field: 'dtype' });
}

/** Builds an index in memory from records (positions follow iteration order). */
export async function buildInvertedIndexFromRecords(records: AsyncIterable<SparseRecord> | Iterable<SparseRecord>, opts: BuildSparseOptions = {}, source = '<records>'): Promise<InvertedIndex> {
  checkBuildOptions(opts);
  const fOff = new GrowU32();
  const fTerms = new GrowU32();
  const fW = new GrowF32();
  const ids: string[] = [];
  const seen = new Set<string>();
  fOff.push(0);
  let maxTerm = -1;
  for await (const r of records) {
    if (seen.has(r.id)) throw new FormatError(`document id ${r.id} appears twice`, { file: source, field: r.id });
    seen.add(r.id);
    ids.push(r.id);
    const t = r.vec.terms, w = r.vec.weights;
    for (let i = 0; i < w.length; i++) {
      if (!(w[i]! >= 0 && w[i]! < Infinity)) throw new FormatError(`document ${r.id}: weight of term ${t[i]} is ${w[i]}; weights must be finite and >= 0`, { file: source, field: r.id });
    }
    if (t.length > 0 && t[t.length - 1]! > maxTerm) maxTerm = t[t.length - 1]!;
    if (opts.vocabSize !== undefined && maxTerm >= opts.vocabSize) {
      throw new FormatError(`document ${r.id}: term id ${maxTerm} is outside the vocabulary of ${opts.vocabSize}`, { file: source, field: String(maxTerm) });
    }
    fTerms.append(t);
    fW.append(r.vec.weights);
    fOff.push(fTerms.length);
  }
  return invert(fOff.toArray(), fTerms.toArray(), fW.toArray(), ids, opts);
}

function quantise(w: Float32Array, dtype: WeightDtype): { codes: WeightArray; scale: number } {
  if (dtype === 'f32') return { codes: w, scale: 1 };
  let max = 0;
  for (let i = 0; i < w.length; i++) if (w[i]! > max) max = w[i]!;
  const top = dtype === 'u8' ? 255 : 65535;
  const scale = max > 0 ? Math.fround(max / top) : 1;
  const codes = dtype === 'u8' ? new Uint8Array(w.length) : new Uint16Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const x = w[i]!;
    codes[i] = x > 0 ? Math.min(top, Math.max(1, Math.round(x / scale))) : 0;
  }
  return { codes, scale };
}

/** Inverts a forward index (positions in order) into postings + block-max summaries. */
export function invert(fwdOffsets: Uint32Array, fwdTerms: Uint32Array, fwdW: Float32Array, ids: string[], opts: BuildSparseOptions = {}): InvertedIndex {
  checkBuildOptions(opts);
  const dtype = opts.dtype ?? DEFAULTS.sparseIndex.dtype;
  const shift = opts.blockShift ?? DEFAULTS.sparseIndex.blockShift;
  const N = ids.length;
  const P = fwdTerms.length;
  if (P > 0xffffffff) throw new UsageError(`${P} postings exceed one index (2^32 - 1); build several shards and search them together`);
  let maxTerm = -1;
  for (let p = 0; p < P; p++) if (fwdTerms[p]! > maxTerm) maxTerm = fwdTerms[p]!;
  for (let p = 0; p < P; p++) {
    const w = fwdW[p]!;
    if (!(w >= 0 && w < Infinity)) {
      let d = 0;
      while (fwdOffsets[d + 1]! <= p) d++;
      throw new FormatError(`document ${ids[d]}: weight ${w} of term ${fwdTerms[p]} must be finite and >= 0`, { field: ids[d] });
    }
  }
  const V = opts.vocabSize ?? maxTerm + 1;
  if (maxTerm >= V) throw new ShapeError(`term id ${maxTerm} is outside the vocabulary of ${V}`, { field: String(maxTerm) });
  if (V > MAX_VOCAB) throw new UsageError(`vocabulary of ${V} ids exceeds ${MAX_VOCAB}`, { field: 'vocab' });
  const tStart = performance.now();
  const reorder = opts.reorder ?? DEFAULTS.sparseIndex.reorder;
  const iters = opts.reorderIters ?? DEFAULTS.sparseIndex.reorderIters;
  if (reorder === 'bp' && N > 1) ({ fwdOffsets, fwdTerms, fwdW, ids } = permuteForward(fwdOffsets, fwdTerms, fwdW, ids, bisectionOrder(fwdOffsets, fwdTerms, V, { iters, minSize: Math.max(2, 2 ** shift) })));
  const reorderSeconds = (performance.now() - tStart) / 1000;
  const { codes: fwdCodes, scale } = quantise(fwdW, dtype);
  // Counting sort by term: postings come out in position order.
  const termOffsets = new Uint32Array(V + 1);
  for (let p = 0; p < P; p++) termOffsets[fwdTerms[p]! + 1]! += 1;
  for (let t = 0; t < V; t++) termOffsets[t + 1]! += termOffsets[t]!;
  const fill = termOffsets.slice(0, V);
  const docIds = new Uint32Array(P);
  const weights: WeightArray = dtype === 'f32' ? new Float32Array(P) : dtype === 'u8' ? new Uint8Array(P) : new Uint16Array(P);
  for (let d = 0; d < N; d++) {
    for (let p = fwdOffsets[d]!; p < fwdOffsets[d + 1]!; p++) {
      const q = fill[fwdTerms[p]!]!++;
      docIds[q] = d;
      weights[q] = fwdCodes[p]!;
    }
  }
  const ix: InvertedIndex = {
    numDocs: N, vocab: V, numPostings: P, dtype, scale, termOffsets, docIds, weights,
    fwdOffsets, fwdTerms, fwdWeights: fwdCodes, blockShift: shift, numBlocks: Math.ceil(N / 2 ** shift), bmScale: 1,
    bmOffsets: new Uint32Array(V + 1), bmBlocks: new Uint32Array(0), bmMax: new Uint8Array(0),
    denseRow: new Int32Array(V).fill(-1), denseMax: new Uint8Array(0), impOffsets: new Uint32Array(V + 1), impDocs: new Uint32Array(0), termMax: new Float32Array(V), ids,
    ...emptyClusters(V),
    meta: {
      ...(opts.meta ?? {}), dtype, blockShift: shift, vocabDeclared: opts.vocabSize !== undefined, builtBy: 'lion', createdAt: new Date().toISOString(),
      reorder, reorderIters: reorder === 'bp' ? iters : 0, impactMax: opts.impactMax ?? DEFAULTS.sparseIndex.impactMax,
      ...(opts.encoder ? { encoder: opts.encoder } : {}),
    },
  };
  blockMax(ix);
  impactLists(ix, opts.impactMax ?? DEFAULTS.sparseIndex.impactMax);
  const cl = {
    listMax: opts.listMax ?? DEFAULTS.sparseIndex.listMax, clusterSize: opts.clusterSize ?? DEFAULTS.sparseIndex.clusterSize,
    summaryMass: opts.summaryMass ?? DEFAULTS.sparseIndex.summaryMass, summaryMax: opts.summaryMax ?? DEFAULTS.sparseIndex.summaryMax,
  };
  const tClusters = performance.now();
  if (cl.listMax > 0) Object.assign(ix, clusteredLists(ix, cl));
  ix.meta.clusters = cl;
  ix.meta.buildSeconds = { reorder: reorderSeconds, clusters: (performance.now() - tClusters) / 1000, total: (performance.now() - tStart) / 1000 };
  return ix;
}

/**
 * Per-term block upper bounds, 8-bit: code = ceil(w / bmScale) with bmScale = max weight / 255 (nudged up so
 * code * bmScale >= w in float32). Terms present in at least 1/denseFraction of the blocks get a dense row.
 */
function blockMax(ix: InvertedIndex): void {
  const { vocab: V, numBlocks: NB, blockShift: shift, termOffsets, docIds, weights, scale } = ix;
  let maxW = 0;
  for (let p = 0; p < weights.length; p++) { const w = weights[p]! * scale; if (w > maxW) maxW = w; }
  const bmScale = maxW > 0 ? Math.fround((maxW / 255) * (1 + 1e-6)) : 1;
  const code = (w: number): number => {
    let c = Math.ceil(w / bmScale);
    while (c < 255 && Math.fround(c * bmScale) < w) c++;
    return Math.min(255, c);
  };
  const blocksOf = new Uint32Array(V);
  for (let t = 0; t < V; t++) {
    let last = -1, n = 0;
    for (let p = termOffsets[t]!; p < termOffsets[t + 1]!; p++) { const b = docIds[p]! >>> shift; if (b !== last) { n++; last = b; } }
    blocksOf[t] = n;
  }
  const denseMin = Math.max(1, Math.floor(NB / DEFAULTS.sparseIndex.denseFraction));
  const denseRow = new Int32Array(V).fill(-1);
  const bmOffsets = new Uint32Array(V + 1);
  let rows = 0;
  for (let t = 0; t < V; t++) {
    if (blocksOf[t]! >= denseMin && NB > 0) { denseRow[t] = rows++; bmOffsets[t + 1] = bmOffsets[t]!; }
    else bmOffsets[t + 1] = bmOffsets[t]! + blocksOf[t]!;
  }
  const E = bmOffsets[V]!;
  const bmBlocks = new Uint32Array(E);
  const bmMax = new Uint8Array(E);
  const denseMax = new Uint8Array(rows * NB);
  for (let t = 0; t < V; t++) {
    const row = denseRow[t]!;
    let e = bmOffsets[t]!;
    let last = -1, best = 0;
    const flush = () => {
      if (last < 0) return;
      if (row >= 0) denseMax[row * NB + last] = code(best);
      else { bmBlocks[e] = last; bmMax[e] = code(best); e++; }
    };
    for (let p = termOffsets[t]!; p < termOffsets[t + 1]!; p++) {
      const b = docIds[p]! >>> shift;
      const w = Math.fround(weights[p]! * scale);
      if (b !== last) { flush(); last = b; best = w; } else if (w > best) best = w;
    }
    flush();
  }
  Object.assign(ix, { bmScale, bmOffsets, bmBlocks, bmMax, denseRow, denseMax });
}

/**
 * Impact-ordered lists: per term, the positions of its `max` highest-weight postings, weight descending, ties
 * by position. Long lists are cut with a 1024-bucket histogram of w / maxw (O(postings)), then the few
 * candidates at or above the threshold bucket are sorted.
 */
function impactLists(ix: InvertedIndex, max: number): void {
  const { vocab: V, termOffsets, docIds, weights } = ix;
  const impOffsets = new Uint32Array(V + 1);
  for (let t = 0; t < V; t++) impOffsets[t + 1] = impOffsets[t]! + Math.min(max, termOffsets[t + 1]! - termOffsets[t]!);
  const impDocs = new Uint32Array(impOffsets[V]!);
  const termMax = new Float32Array(V);
  const hist = new Uint32Array(1024);
  for (let t = 0; t < V; t++) {
    const a = termOffsets[t]!, b = termOffsets[t + 1]!;
    let from = 0;
    let wmax = 0;
    for (let p = a; p < b; p++) if (weights[p]! > wmax) wmax = weights[p]!;
    termMax[t] = Math.fround(wmax * ix.scale);
    const bucket = (w: number) => Math.min(1023, Math.floor((w / wmax) * 1024));
    if (b - a > max && wmax > 0) {
      hist.fill(0);
      for (let p = a; p < b; p++) hist[bucket(weights[p]!)]! += 1;
      let c = 0;
      for (from = 1023; from > 0 && c + hist[from]! < max; from--) c += hist[from]!;
    }
    const cand: number[] = [];
    for (let p = a; p < b; p++) if (b - a <= max || bucket(weights[p]!) >= from) cand.push(p);
    cand.sort((x, y) => (weights[y]! - weights[x]!) || (docIds[x]! - docIds[y]!));
    const o = impOffsets[t]!;
    for (let i = 0; i < impOffsets[t + 1]! - o; i++) impDocs[o + i] = docIds[cand[i]!]!;
  }
  Object.assign(ix, { impOffsets, impDocs, termMax });
}

/** Writes an index atomically (temporary file, fsync, rename); on failure nothing is left at `path`. */
export function writeInvertedIndex(ix: InvertedIndex, path: string): void {
  const { header, sections, offsets } = encodeIndex(ix);
  writeSectionsAtomic(path, header, sections, offsets);
}

/** The vocabulary size recorded in a `.lsv` shard header (0 when unrecorded or not a shard). */
function shardVocab(path: string): number {
  if (!isSparseShard(path)) return 0;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(16);
    readSync(fd, b, 0, 16, 0);
    return b.readUInt32LE(12);
  } finally { closeSync(fd); }
}

/**
 * The encoder identity shared by every source, from the `.lsv` shard metadata (readSparseShardInfo in
 * src/io/vectors.ts, when that reader records it); undefined when any source does not record one. Sources
 * from different encoders are refused (E_FOREIGN) by commonIdentity.
 */
function sourcesEncoder(sources: string[]): Record<string, unknown> | undefined {
  const info = (vectors as unknown as { readSparseShardInfo?: (p: string) => { encoder?: EncoderIdentity } }).readSparseShardInfo;
  if (!info) return undefined;
  const ids = sources.map((s) => (isSparseShard(s) ? info(s).encoder : undefined));
  const id = commonIdentity(ids, sources);
  return id ? identityToJson(id) : undefined;
}

/** Reads every source in order and yields its records (positions continue across files). */
async function* allSources(sources: string[], vocabSize?: number): AsyncGenerator<SparseRecord> {
  for (const s of sources) yield* readSparseVectors(s, { vocabSize });
}

/**
 * Builds an index from sparse vector files and writes it to `out`.
 * @example
 * ```ts
 * await buildSparseIndex(['docs-0.lsv', 'docs-1.jsonl'], 'docs.lidx', { dtype: 'u8' });
 * ```
 */
export async function buildSparseIndex(sources: string[], out: string, opts: BuildSparseOptions = {}): Promise<InvertedIndex> {
  if (sources.length === 0) throw new UsageError('no input vector files given');
  checkBuildOptions(opts);
  const { resolve } = await import('node:path');
  if (sources.some((s) => resolve(s) === resolve(out))) throw new UsageError(`the index ${out} would overwrite one of its inputs`, { field: 'out' });
  // The vocabulary is the encoder's: taken from --vocab, else from the .lsv shard headers (which must agree),
  // never guessed from the largest id when a header records it.
  let vocabSize = opts.vocabSize;
  if (vocabSize === undefined) {
    for (const s of sources) {
      const v = shardVocab(s);
      if (v === 0) continue;
      if (vocabSize !== undefined && v !== vocabSize) throw new ShapeError(`shard ${s} records a vocabulary of ${v}, another input ${vocabSize}`, { file: s, field: 'vocab' });
      vocabSize = v;
    }
  }
  opts = { ...opts, vocabSize, encoder: opts.encoder ?? sourcesEncoder(sources) };
  const ix = await buildInvertedIndexFromRecords(allSources(sources, opts.vocabSize), opts, sources.join(','));
  ix.meta.sources = sources;
  writeInvertedIndex(ix, out);
  ix.path = out;
  return ix;
}
