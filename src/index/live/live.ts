/**
 * Live indexes: BM25, learned sparse and dense indexes an application can keep current (add, update and
 * delete documents by id) while it searches them. The model is Lucene's:
 *
 *  - A **segment** is an immutable file of documents (a BEIR JSONL corpus for BM25, a sparse `.lsv` shard, a
 *    dense `.f32` shard) written once and never modified; its index is built in memory with the ordinary
 *    builders (`buildBm25Index`, `buildInvertedIndexFromRecords`, `vectorIndexFromMatrix`) when it is opened.
 *  - A **deletion bitmap** per segment marks deleted documents; each commit that deletes writes a new bitmap
 *    file (`seg-N_G.del`, G the commit generation), again never modified.
 *  - The **commit point** is `live.json`, the manifest: the ordered segments and their current bitmaps. It is
 *    written to a temporary file, fsynced and renamed, after every file it names has been fsynced, so a crash
 *    at any instant leaves either the previous or the new commit readable. Files no manifest names (a
 *    half-written segment, superseded bitmaps, merged segments) are removed by the next writer.
 *  - **Merging** rewrites a contiguous run of segments, without their deleted documents, as one new segment
 *    (explicitly with `merge`, or after a commit when `autoMerge` is on and more than `mergeFactor`
 *    segments exist). Contiguous runs keep the order of documents, so searches stay exactly the same.
 *
 * Exactness. Search over the live segments returns exactly the hits (ids, float32 scores and their order) a
 * fresh index built from `documents()` returns, ties broken by that order. Sparse and dense scores depend
 * only on the query and the document. BM25 depends on collection statistics (document frequency, number of
 * documents, average length); Lucene keeps them per segment and counts deleted documents until a merge, so
 * its scores drift with the segment layout. Here they are computed globally over the live documents at
 * search time (df = postings minus deleted ones, summed over segments), so a live BM25 index scores exactly
 * as a rebuild. Quantised sparse impacts (u8/u16) use one scale per index and would differ per segment; live
 * sparse indexes store float32 weights.
 *
 * Updates are `add` with an existing id: the old version is deleted and the new one is appended, so it moves
 * to the end of the document order (as it would in a rebuild from `documents()`). Changes are buffered until
 * `commit()`; searches see the last commit. One process writes (a `write.lock` file); any number read.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArtifactError, FormatError, NotFoundError, ShapeError, UsageError } from '../../errors.js';
import { buildBm25Index, termIdOf, type Bm25Index } from '../../bm25/build.js';
import { createBm25Searcher, topK as bm25TopK, type Bm25Searcher, type QueryTerm } from '../../bm25/search.js';
import { createEnglishAnalyzer, type Analyzer, type AnalyzerOptions } from '../../bm25/analyzer.js';
import { bm25AvgLength, bm25Idf, normInverseTable, type Bm25Params } from '../../bm25/similarity.js';
import { DEFAULTS } from '../../defaults.js';
import { checkSparseVec, readDenseShard, readSparseShard, SparseShardWriter, writeDenseShard } from '../../io/vectors.js';
import type { Hit, SparseVec } from '../../types.js';
import { fsyncDir, writeFileAtomic, writeFileAtomicSync } from '../../util/atomic.js';
import { buildInvertedIndexFromRecords } from '../inverted/build.js';
import type { InvertedIndex } from '../inverted/format.js';
import { packQueries, searchSparse } from '../inverted/search.js';
import { searchDense, vectorIndexFromMatrix, type DenseDtype, type VectorIndex } from '../vector/flat.js';

export type LiveKind = 'bm25' | 'sparse' | 'dense';

/** A document of a live index: text for BM25, a sparse vector for sparse, a dense vector for dense. */
export interface LiveDoc {
  id: string;
  title?: string;
  text?: string;
  sparse?: SparseVec;
  dense?: Float32Array; // (dim)
}

/** A query: text (BM25), a sparse vector (sparse) or a dense vector (dense). */
export type LiveQuery = { text: string } | { sparse: SparseVec } | { dense: Float32Array };

/** Fixed when the index is created. */
export interface LiveConfig {
  kind: LiveKind;
  /** Sparse: vocabulary size (term ids below it). */
  vocab?: number;
  /** Dense: vector dimension. */
  dim?: number;
  /** Dense storage: f32, bf16 or i8 (per-row scale, so segment-independent). */
  dtype?: DenseDtype;
  /** BM25 analyzer options. */
  analyzer?: AnalyzerOptions;
}

export interface LiveOpenOptions {
  /** Open for searching only: no lock is taken and nothing is written or cleaned. */
  readOnly?: boolean;
  /** Merge after a commit when more than `mergeFactor` segments exist (default DEFAULTS.live.autoMerge). */
  autoMerge?: boolean;
  /** Segments merged at once by the automatic policy (default DEFAULTS.live.mergeFactor). */
  mergeFactor?: number;
  /** BM25 k1 and b (default Lucene/Anserini). */
  bm25?: Partial<Bm25Params>;
}

interface SegMeta { name: string; docs: number; deleted: number; del?: string }
interface Manifest { format: 'lion-live'; version: 1; config: LiveConfig; generation: number; nextSegment: number; segments: SegMeta[] }

const MANIFEST = 'live.json';
const LOCK = 'write.lock';
const DEL_MAGIC = 'LIONDEL\0';
const SEG_FILE = /^seg-\d{6}(\.jsonl|\.lsv|\.f32|_\d+\.del)$/;

/** One opened segment: its documents' ids, deletion bitmap and in-memory index. Replaced, never mutated, by commits. */
class Segment {
  /** Live-document statistics and per-term live df cache for BM25. */
  private dfCache = new Map<string, number>();
  private normAvgdl = NaN;
  liveDocCount = 0; // BM25: live documents with at least one term
  liveSumTtf = 0; // BM25: sum of live document lengths

  constructor(
    readonly meta: SegMeta,
    readonly ids: string[],
    readonly del: Uint8Array, // (ceil(docs/8)) bit set = deleted
    readonly docs: LiveDoc[],
    readonly bm25?: { index: Bm25Index; searcher: Bm25Searcher },
    readonly sparse?: InvertedIndex,
    readonly dense?: VectorIndex,
  ) {
    if (bm25) {
      const len = bm25.index.docLen;
      for (let d = 0; d < len.length; d++) if (!this.isDeleted(d)) { this.liveSumTtf += len[d]!; if (len[d]! > 0) this.liveDocCount++; }
    }
  }

  isDeleted(d: number): boolean { return (this.del[d >> 3]! & (1 << (d & 7))) !== 0; }
  get numDeleted(): number { return this.meta.deleted; }
  get numLive(): number { return this.meta.docs - this.meta.deleted; }

  /** A copy sharing the index with extra documents deleted. */
  withDeletes(locals: number[], gen: number): Segment {
    const del = this.del.slice();
    let n = this.meta.deleted;
    for (const d of locals) if (!(del[d >> 3]! & (1 << (d & 7)))) { del[d >> 3]! |= 1 << (d & 7); n++; }
    const meta: SegMeta = { name: this.meta.name, docs: this.meta.docs, deleted: n, del: `${this.meta.name}_${gen}.del` };
    return new Segment(meta, this.ids, del, this.docs, this.bm25, this.sparse, this.dense);
  }

  /** BM25: number of live documents of this segment containing `term` (0 when absent). */
  liveDf(term: string): number {
    const ix = this.bm25!.index;
    let df = this.dfCache.get(term);
    if (df !== undefined) return df;
    const t = termIdOf(ix, term);
    df = 0;
    if (t >= 0) {
      const s = ix.postingOffsets[t]!, e = ix.postingOffsets[t + 1]!;
      if (this.meta.deleted === 0) df = e - s;
      else for (let p = s; p < e; p++) if (!this.isDeleted(ix.postingDocs[p]!)) df++;
    }
    this.dfCache.set(term, df);
    return df;
  }

  /** BM25: the searcher with its length normalisation computed for the collection-wide average length. */
  searcherFor(avgdl: number, params: Bm25Params): Bm25Searcher {
    const s = this.bm25!.searcher;
    if (this.normAvgdl !== avgdl) {
      s.normInv = normInverseTable(this.bm25!.index.docLen, avgdl, params);
      this.normAvgdl = avgdl;
    }
    return s;
  }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function checkConfig(c: LiveConfig, file: string): LiveConfig {
  if (c.kind !== 'bm25' && c.kind !== 'sparse' && c.kind !== 'dense') throw new UsageError(`live index kind must be bm25, sparse or dense, got '${String(c.kind)}'`, { field: 'kind', file });
  if (c.kind === 'sparse' && !(Number.isInteger(c.vocab) && c.vocab! > 0)) throw new UsageError('a sparse live index needs its vocabulary size (vocab, a positive integer)', { field: 'vocab', file });
  if (c.kind === 'dense' && !(Number.isInteger(c.dim) && c.dim! > 0)) throw new UsageError('a dense live index needs its vector dimension (dim, a positive integer)', { field: 'dim', file });
  if (c.kind === 'dense' && c.dtype !== undefined && !['f32', 'bf16', 'i8'].includes(c.dtype)) throw new UsageError(`dense dtype must be f32, bf16 or i8, got '${c.dtype}'`, { field: 'dtype', file });
  return c;
}

function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) throw new NotFoundError('no live index here (live.json is missing)', { file, hint: 'create one with `lion live create`' });
  let m: Manifest;
  try { m = JSON.parse(readFileSync(file, 'utf8')) as Manifest; } catch (e) { throw new ArtifactError(`live.json does not parse: ${(e as Error).message}`, { file }); }
  if (m.format !== 'lion-live' || m.version !== 1 || !Array.isArray(m.segments) || !Number.isInteger(m.generation)) {
    throw new ArtifactError('live.json is not a Lion live index manifest of version 1', { file });
  }
  checkConfig(m.config, file);
  return m;
}

function segFile(dir: string, name: string, kind: LiveKind): string {
  return join(dir, `${name}${kind === 'bm25' ? '.jsonl' : kind === 'sparse' ? '.lsv' : '.f32'}`);
}

function readBitmap(file: string, docs: number): Uint8Array {
  const b = readFileSync(file);
  const need = 12 + Math.ceil(docs / 8);
  if (b.length !== need || b.toString('latin1', 0, 8) !== DEL_MAGIC || b.readUInt32LE(8) !== docs) {
    throw new ArtifactError(`deletion bitmap is damaged (${b.length} bytes, expected ${need} for ${docs} documents)`, { file });
  }
  return new Uint8Array(b.subarray(12));
}

/** Reads a segment's documents from its file. */
async function readSegmentDocs(dir: string, name: string, config: LiveConfig): Promise<LiveDoc[]> {
  const file = segFile(dir, name, config.kind);
  if (config.kind === 'bm25') {
    const out: LiveDoc[] = [];
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue;
      let j: { _id?: unknown; title?: unknown; text?: unknown };
      try { j = JSON.parse(lines[i]!) as typeof j; } catch { throw new ArtifactError(`segment line ${i + 1} is not JSON`, { file, line: i + 1 }); }
      if (typeof j._id !== 'string' || typeof j.text !== 'string') throw new ArtifactError(`segment line ${i + 1} lacks _id or text`, { file, line: i + 1 });
      out.push(typeof j.title === 'string' ? { id: j._id, title: j.title, text: j.text } : { id: j._id, text: j.text });
    }
    return out;
  }
  if (config.kind === 'sparse') return [...readSparseShard(file)].map((r) => ({ id: r.id, sparse: r.vec }));
  const m = readDenseShard(file);
  return m.ids.map((id, r) => ({ id, dense: m.data.slice(r * m.dim, (r + 1) * m.dim) }));
}

async function writeSegmentDocs(dir: string, name: string, config: LiveConfig, docs: LiveDoc[]): Promise<void> {
  const file = segFile(dir, name, config.kind);
  if (config.kind === 'bm25') {
    const text = docs.map((d) => JSON.stringify(d.title !== undefined ? { _id: d.id, title: d.title, text: d.text ?? '' } : { _id: d.id, text: d.text ?? '' })).join('\n');
    await writeFileAtomic(file, `${text}\n`);
  } else if (config.kind === 'sparse') {
    const w = new SparseShardWriter(file, config.vocab!);
    for (const d of docs) w.add(d.id, d.sparse!);
    w.close();
  } else {
    const dim = config.dim!;
    const data = new Float32Array(docs.length * dim);
    docs.forEach((d, r) => data.set(d.dense!, r * dim));
    writeDenseShard(file, { data, rows: docs.length, dim, ids: docs.map((d) => d.id) });
  }
}

/** Builds a segment's in-memory index from its documents. */
async function buildSegment(meta: SegMeta, docs: LiveDoc[], del: Uint8Array, config: LiveConfig, params: Bm25Params): Promise<Segment> {
  const ids = docs.map((d) => d.id);
  if (config.kind === 'bm25') {
    const index = await buildBm25Index(docs.map((d) => (d.title !== undefined ? { id: d.id, title: d.title, text: d.text ?? '' } : { id: d.id, text: d.text ?? '' })), { analyzer: config.analyzer });
    return new Segment(meta, ids, del, docs, { index, searcher: createBm25Searcher(index, params) });
  }
  if (config.kind === 'sparse') {
    const ix = await buildInvertedIndexFromRecords(docs.map((d) => ({ id: d.id, vec: d.sparse! })), { dtype: 'f32', vocabSize: config.vocab, listMax: 0 });
    return new Segment(meta, ids, del, docs, undefined, ix);
  }
  const dim = config.dim!;
  const data = new Float32Array(docs.length * dim);
  docs.forEach((d, r) => data.set(d.dense!, r * dim));
  return new Segment(meta, ids, del, docs, undefined, undefined, vectorIndexFromMatrix({ data, rows: docs.length, dim, ids }, config.dtype ?? 'f32'));
}

interface State { generation: number; nextSegment: number; segments: Segment[] }

/** Statistics of a live index. */
export interface LiveStats {
  kind: LiveKind;
  generation: number;
  segments: Array<{ name: string; docs: number; deleted: number }>;
  documents: number;
  deleted: number;
  pendingAdds: number;
  pendingDeletes: number;
}

/**
 * A live index in a folder.
 * @example
 * ```ts
 * const live = await LiveIndex.create('app.live', { kind: 'bm25' });
 * live.add([{ id: 'd1', text: 'wing flutter at supersonic speed' }]);
 * await live.commit();
 * live.search({ text: 'flutter' }, 10); // [{ docid: 'd1', score: ... }]
 * await live.close();
 * ```
 */
export class LiveIndex {
  private state: State;
  private readonly loc = new Map<string, [Segment, number]>();
  private pendingAdds = new Map<string, LiveDoc>();
  private pendingDeletes = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private merging: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly params: Bm25Params;
  private analyzer?: Analyzer;

  private constructor(readonly dir: string, readonly config: LiveConfig, state: State, private readonly opts: LiveOpenOptions) {
    this.state = state;
    this.params = { k1: opts.bm25?.k1 ?? DEFAULTS.bm25.k1, b: opts.bm25?.b ?? DEFAULTS.bm25.b, exactLengths: opts.bm25?.exactLengths ?? false };
    this.reindexIds();
  }

  /** Creates an empty live index in `dir` (which must not hold one) and opens it for writing. */
  static async create(dir: string, config: LiveConfig, opts: Omit<LiveOpenOptions, 'readOnly'> = {}): Promise<LiveIndex> {
    checkConfig(config, join(dir, MANIFEST));
    if (existsSync(join(dir, MANIFEST))) throw new UsageError(`${dir} already holds a live index`, { file: join(dir, MANIFEST), hint: 'open it, or choose another folder' });
    const m: Manifest = { format: 'lion-live', version: 1, config, generation: 0, nextSegment: 1, segments: [] };
    await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(m, null, 1)}\n`);
    fsyncDir(dir);
    return LiveIndex.open(dir, opts);
  }

  /** Opens the last commit of the live index in `dir`. */
  static async open(dir: string, opts: LiveOpenOptions = {}): Promise<LiveIndex> {
    if (!opts.readOnly) LiveIndex.lock(dir);
    try {
      for (let attempt = 0; ; attempt++) {
        const m = readManifest(dir);
        try {
          const params: Bm25Params = { k1: opts.bm25?.k1 ?? DEFAULTS.bm25.k1, b: opts.bm25?.b ?? DEFAULTS.bm25.b, exactLengths: opts.bm25?.exactLengths ?? false };
          const segments: Segment[] = [];
          for (const s of m.segments) {
            const docs = await readSegmentDocs(dir, s.name, m.config);
            if (docs.length !== s.docs) throw new ArtifactError(`segment ${s.name} holds ${docs.length} documents, the manifest says ${s.docs}`, { file: segFile(dir, s.name, m.config.kind) });
            const del = s.del ? readBitmap(join(dir, s.del), s.docs) : new Uint8Array(Math.ceil(s.docs / 8));
            segments.push(await buildSegment({ ...s }, docs, del, m.config, params));
          }
          const live = new LiveIndex(dir, m.config, { generation: m.generation, nextSegment: m.nextSegment, segments }, opts);
          if (!opts.readOnly) live.removeUnreferenced();
          return live;
        } catch (e) {
          // A reader racing a writer's merge may find a segment already removed: read the new manifest.
          if (opts.readOnly && attempt < 5 && ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof NotFoundError)) continue;
          throw e;
        }
      }
    } catch (e) {
      if (!opts.readOnly) LiveIndex.unlock(dir);
      throw e;
    }
  }

  /** Folders this process holds the write lock of. */
  private static readonly held = new Set<string>();

  private static lock(dir: string): void {
    const file = join(dir, LOCK);
    if (LiveIndex.held.has(resolve(dir))) throw new UsageError('the live index is already open for writing in this process', { file, hint: 'share the open LiveIndex' });
    if (!existsSync(join(dir, MANIFEST))) readManifest(dir); // the clear not-found error
    for (let i = 0; i < 2; i++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        LiveIndex.held.add(resolve(dir));
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(file, 'utf8'));
        if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
          throw new UsageError(`the live index is open for writing by process ${pid}`, { file, hint: 'one process writes a live index; open it with readOnly to search' });
        }
        rmSync(file, { force: true }); // left by a process that died
      }
    }
    throw new UsageError('could not take the live index write lock', { file });
  }

  private reindexIds(): void {
    this.loc.clear();
    for (const s of this.state.segments) s.ids.forEach((id, d) => { if (!s.isDeleted(d)) this.loc.set(id, [s, d]); });
  }

  /** Removes files of this folder that the current manifest does not name (crash leftovers, superseded files). */
  private removeUnreferenced(): void {
    const keep = new Set<string>([MANIFEST, LOCK]);
    for (const s of this.state.segments) {
      keep.add(segFile('', s.meta.name, this.config.kind));
      if (s.meta.del) keep.add(s.meta.del);
    }
    for (const f of readdirSync(this.dir)) {
      if (keep.has(f)) continue;
      const base = f.replace(/\.tmp-\d+(-\d+)?$/, '');
      if (SEG_FILE.test(base) || (base === MANIFEST && f !== MANIFEST)) rmSync(join(this.dir, f), { force: true });
    }
  }

  private writable(): void {
    if (this.opts.readOnly) throw new UsageError('this live index was opened read-only', { field: 'readOnly' });
    if (this.closed) throw new UsageError('this live index is closed');
  }

  private validate(d: LiveDoc): void {
    const file = this.dir;
    if (typeof d.id !== 'string' || d.id === '' || /[\n\r]/.test(d.id)) throw new FormatError(`document id ${JSON.stringify(d.id)} must be a non-empty string without line breaks`, { file, field: 'id' });
    if (this.config.kind === 'bm25') {
      if (typeof d.text !== 'string') throw new FormatError(`document ${d.id}: a BM25 live index needs text`, { file, field: 'text' });
      if (d.title !== undefined && typeof d.title !== 'string') throw new FormatError(`document ${d.id}: title must be a string`, { file, field: 'title' });
    } else if (this.config.kind === 'sparse') {
      if (!d.sparse) throw new FormatError(`document ${d.id}: a sparse live index needs a sparse vector`, { file, field: 'sparse' });
      checkSparseVec(d.sparse, this.config.vocab, file, `document ${d.id}`);
    } else {
      if (!(d.dense instanceof Float32Array) || d.dense.length !== this.config.dim) throw new ShapeError(`document ${d.id}: a dense vector of ${this.config.dim} floats is needed, got ${d.dense?.length ?? 'none'}`, { file, field: 'dense' });
      for (const x of d.dense) if (!Number.isFinite(x)) throw new FormatError(`document ${d.id}: dense vector has a non-finite value`, { file, field: 'dense' });
    }
  }

  /** Adds documents, replacing any (committed or pending) with the same id. Visible after `commit()`. */
  add(docs: LiveDoc[]): void {
    this.writable();
    for (const d of docs) this.validate(d);
    for (const d of docs) {
      if (this.loc.has(d.id)) this.pendingDeletes.add(d.id);
      this.pendingAdds.delete(d.id);
      this.pendingAdds.set(d.id, d);
    }
  }

  /** Deletes documents by id; returns how many existed (committed or pending). Visible after `commit()`. */
  delete(ids: string[]): number {
    this.writable();
    let n = 0;
    for (const id of ids) {
      const pend = this.pendingAdds.delete(id);
      const committed = this.loc.has(id) && !this.pendingDeletes.has(id);
      if (this.loc.has(id)) this.pendingDeletes.add(id);
      if (pend || committed) n++;
    }
    return n;
  }

  /** Whether `id` is a live document of the last commit. */
  has(id: string): boolean { return this.loc.has(id); }

  /** A live document of the last commit. */
  get(id: string): LiveDoc | undefined {
    const l = this.loc.get(id);
    return l ? l[0].docs[l[1]] : undefined;
  }

  /** Live documents of the last commit, in index order (a rebuild from them gives the same search results). */
  documents(): LiveDoc[] {
    const out: LiveDoc[] = [];
    for (const s of this.state.segments) s.docs.forEach((d, i) => { if (!s.isDeleted(i)) out.push(d); });
    return out;
  }

  /** Number of live documents in the last commit. */
  get size(): number { return this.loc.size; }
  get generation(): number { return this.state.generation; }

  stats(): LiveStats {
    const segs = this.state.segments.map((s) => ({ name: s.meta.name, docs: s.meta.docs, deleted: s.meta.deleted }));
    return {
      kind: this.config.kind, generation: this.state.generation, segments: segs, documents: this.size,
      deleted: segs.reduce((a, s) => a + s.deleted, 0), pendingAdds: this.pendingAdds.size, pendingDeletes: this.pendingDeletes.size,
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Writes a new manifest for `state` (after every file it names is durable) and makes it current. */
  private async publish(state: State): Promise<void> {
    fsyncDir(this.dir);
    const m: Manifest = {
      format: 'lion-live', version: 1, config: this.config, generation: state.generation, nextSegment: state.nextSegment,
      segments: state.segments.map((s) => ({ ...s.meta })),
    };
    await writeFileAtomic(join(this.dir, MANIFEST), `${JSON.stringify(m, null, 1)}\n`);
    fsyncDir(this.dir);
    this.state = state;
    this.reindexIds();
    this.removeUnreferenced();
  }

  /**
   * Makes the buffered adds and deletes durable and visible: one new segment for the adds, new bitmaps for
   * segments with deletions, then the manifest. Returns the new generation (unchanged when nothing was pending).
   */
  commit(): Promise<number> {
    this.writable();
    return this.serial(async () => {
      const adds = this.pendingAdds, dels = this.pendingDeletes;
      if (adds.size === 0 && dels.size === 0) return this.state.generation;
      this.pendingAdds = new Map();
      this.pendingDeletes = new Set();
      try {
        const gen = this.state.generation + 1;
        let next = this.state.nextSegment;
        const byseg = new Map<Segment, number[]>();
        for (const id of dels) {
          const l = this.loc.get(id);
          if (!l) continue;
          let a = byseg.get(l[0]);
          if (!a) byseg.set(l[0], (a = []));
          a.push(l[1]);
        }
        const segments: Segment[] = [];
        for (const s of this.state.segments) {
          const d = byseg.get(s);
          if (!d) { segments.push(s); continue; }
          const ns = s.withDeletes(d, gen);
          if (ns.numLive === 0) continue; // fully deleted segments are dropped
          const bm = Buffer.alloc(12 + ns.del.length);
          bm.write(DEL_MAGIC, 0, 'latin1');
          bm.writeUInt32LE(ns.meta.docs, 8);
          bm.set(ns.del, 12);
          writeFileAtomicSync(join(this.dir, ns.meta.del!), bm);
          segments.push(ns);
        }
        if (adds.size) {
          const docs = [...adds.values()];
          const name = `seg-${String(next++).padStart(6, '0')}`;
          await writeSegmentDocs(this.dir, name, this.config, docs);
          segments.push(await buildSegment({ name, docs: docs.length, deleted: 0 }, docs, new Uint8Array(Math.ceil(docs.length / 8)), this.config, this.params));
        }
        await this.publish({ generation: gen, nextSegment: next, segments });
        if (this.opts.autoMerge ?? DEFAULTS.live.autoMerge) this.scheduleMerge();
        return gen;
      } catch (e) {
        // Put the changes back (later ones win) so a retry can commit them.
        for (const [id, d] of this.pendingAdds) adds.delete(id), adds.set(id, d);
        for (const id of this.pendingDeletes) dels.add(id);
        this.pendingAdds = adds;
        this.pendingDeletes = dels;
        throw e;
      }
    });
  }

  private scheduleMerge(): void {
    this.merging = new Promise<void>((resolve) => setImmediate(resolve)).then(() => (this.closed ? undefined : this.maybeMerge())).catch((e: unknown) => {
      process.stderr.write(`lion live: background merge failed: ${(e as Error).message}\n`);
    });
  }

  /** Resolves when a background merge started by a commit has finished. */
  async idle(): Promise<void> {
    await this.merging;
    await this.queue;
  }

  /** Merges the contiguous run of segments [from, to) into one; returns the new segment name. */
  private async mergeRange(from: number, to: number): Promise<void> {
    const st = this.state;
    const run = st.segments.slice(from, to);
    const docs: LiveDoc[] = [];
    for (const s of run) s.docs.forEach((d, i) => { if (!s.isDeleted(i)) docs.push(d); });
    const name = `seg-${String(st.nextSegment).padStart(6, '0')}`;
    await writeSegmentDocs(this.dir, name, this.config, docs);
    const seg = await buildSegment({ name, docs: docs.length, deleted: 0 }, docs, new Uint8Array(Math.ceil(docs.length / 8)), this.config, this.params);
    const segments = [...st.segments.slice(0, from), seg, ...st.segments.slice(to)];
    await this.publish({ generation: st.generation + 1, nextSegment: st.nextSegment + 1, segments });
  }

  /**
   * Merges segments until at most `maxSegments` remain (default 1): repeatedly the contiguous run with the
   * fewest live documents. Deleted documents are dropped from merged segments.
   */
  merge(maxSegments = 1): Promise<number> {
    this.writable();
    if (!Number.isInteger(maxSegments) || maxSegments < 1) throw new UsageError(`maxSegments must be a positive integer, got ${maxSegments}`, { field: 'maxSegments' });
    return this.serial(async () => {
      const segs = this.state.segments;
      if (segs.length > maxSegments) {
        await this.mergeRange(...this.smallestRun(segs.length - maxSegments + 1));
      } else if (segs.length === 1 && maxSegments === 1 && segs[0]!.numDeleted > 0) {
        await this.mergeRange(0, 1); // expunge deletions
      }
      return this.state.generation;
    });
  }

  /** The automatic policy: while more than `mergeFactor` segments exist, merge the smallest `mergeFactor` contiguous ones. */
  maybeMerge(): Promise<number> {
    const f = this.opts.mergeFactor ?? DEFAULTS.live.mergeFactor;
    return this.serial(async () => {
      while (!this.closed && this.state.segments.length > f) await this.mergeRange(...this.smallestRun(f));
      return this.state.generation;
    });
  }

  private smallestRun(width: number): [number, number] {
    const segs = this.state.segments;
    let best = 0, bestSum = Infinity;
    for (let i = 0; i + width <= segs.length; i++) {
      let sum = 0;
      for (let j = i; j < i + width; j++) sum += segs[j]!.numLive;
      if (sum < bestSum) { bestSum = sum; best = i; }
    }
    return [best, best + width];
  }

  /**
   * Top-k hits for each query over all live segments of the last commit, best first; exactly what an index
   * rebuilt from `documents()` returns (ids, float32 scores, order).
   */
  searchMany(queries: LiveQuery[], k: number = DEFAULTS.search.k): Hit[][] {
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
    const segs = this.state.segments;
    // Per query and segment, the segment's live hits best first (score descending, then local order), merged
    // below by score and then segment order: the order of one index over `documents()`.
    const cands: Array<Array<{ scores: number[]; ids: string[] }>> = queries.map(() => segs.map(() => ({ scores: [], ids: [] })));
    if (this.config.kind === 'bm25') {
      this.analyzer ??= createEnglishAnalyzer(this.config.analyzer);
      let docCount = 0, sumTtf = 0;
      for (const s of segs) { docCount += s.liveDocCount; sumTtf += s.liveSumTtf; }
      const avgdl = bm25AvgLength(sumTtf, docCount);
      queries.forEach((q, qi) => {
        if (!('text' in q) || typeof q.text !== 'string') throw new UsageError('a BM25 live index is searched with text', { field: 'text' });
        const counts = new Map<string, number>();
        for (const t of this.analyzer!(q.text)) counts.set(t, (counts.get(t) ?? 0) + 1);
        const weighted: Array<[string, number]> = [];
        for (const [t, c] of counts) {
          let df = 0;
          for (const s of segs) df += s.liveDf(t);
          if (df > 0) weighted.push([t, Math.fround(c * bm25Idf(docCount, df))]);
        }
        segs.forEach((s, si) => {
          const terms: QueryTerm[] = [];
          for (const [t, w] of weighted) { const id = termIdOf(s.bm25!.index, t); if (id >= 0) terms.push({ term: id, weight: w }); }
          if (!terms.length) return;
          const { docs, scores } = bm25TopK(s.searcherFor(avgdl, this.params), terms, Math.min(s.meta.docs, k + s.numDeleted));
          const c = cands[qi]![si]!;
          for (let i = 0; i < docs.length && c.ids.length < k; i++) if (!s.isDeleted(docs[i]!)) { c.scores.push(scores[i]!); c.ids.push(s.ids[docs[i]!]!); }
        });
      });
    } else if (this.config.kind === 'sparse') {
      const vecs = queries.map((q) => { if (!('sparse' in q)) throw new UsageError('a sparse live index is searched with a sparse vector', { field: 'sparse' }); return q.sparse; });
      const qb = packQueries(vecs, this.config.vocab!);
      segs.forEach((s, si) => {
        const r = searchSparse(s.sparse!, qb, { k: Math.min(s.meta.docs, k + s.numDeleted), mode: 'exact' });
        collect(r, si, s);
      });
    } else {
      const dim = this.config.dim!;
      const qs = new Float32Array(queries.length * dim);
      queries.forEach((q, i) => {
        if (!('dense' in q) || q.dense.length !== dim) throw new ShapeError(`a dense live index is searched with vectors of ${dim} floats`, { field: 'dense' });
        qs.set(q.dense, i * dim);
      });
      segs.forEach((s, si) => collect(searchDense(s.dense!, qs, { k: Math.min(s.meta.docs, k + s.numDeleted) }), si, s));
    }
    function collect(r: { k: number; docs: Int32Array; scores: Float32Array; counts: Uint32Array }, si: number, s: Segment): void {
      for (let q = 0; q < queries.length; q++) {
        const c = cands[q]![si]!;
        for (let i = 0; i < r.counts[q]! && c.ids.length < k; i++) {
          const d = r.docs[q * r.k + i]!;
          if (!s.isDeleted(d)) { c.scores.push(r.scores[q * r.k + i]!); c.ids.push(s.ids[d]!); }
        }
      }
    }
    // k-way merge: the best head; equal scores go to the earlier segment.
    return cands.map((lists) => {
      const at = new Int32Array(lists.length);
      const out: Hit[] = [];
      while (out.length < k) {
        let best = -1;
        for (let j = 0; j < lists.length; j++) {
          if (at[j]! < lists[j]!.ids.length && (best < 0 || lists[j]!.scores[at[j]!]! > lists[best]!.scores[at[best]!]!)) best = j;
        }
        if (best < 0) break;
        out.push({ docid: lists[best]!.ids[at[best]!]!, score: lists[best]!.scores[at[best]!]! });
        at[best]!++;
      }
      return out;
    });
  }

  /** Top-k hits for one query (see `searchMany`). */
  search(query: LiveQuery, k: number = DEFAULTS.search.k): Hit[] {
    return this.searchMany([query], k)[0]!;
  }

  /** Waits for pending merges, drops uncommitted changes and releases the write lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.merging.catch(() => undefined);
    await this.queue.catch(() => undefined);
    if (!this.opts.readOnly) LiveIndex.unlock(this.dir);
  }

  private static unlock(dir: string): void {
    rmSync(join(dir, LOCK), { force: true });
    LiveIndex.held.delete(resolve(dir));
  }
}
