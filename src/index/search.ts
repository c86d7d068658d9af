/**
 * The library entry points behind `lion index` and `lion search`: build a sparse or dense index from vector
 * files, and search one index or several shards together with a correct global top-k.
 *
 * Shards: an index may be a list of index files (or a `.json` manifest `{"shards": ["a.lidx", ...]}`, paths
 * relative to the manifest). Shards are searched one after another (only one in memory at a time), each to
 * depth k, and merged: the global top-k of the union is the top-k of the per-shard top-ks. Global ties are
 * broken by shard order, then position, i.e. the load order of the concatenated collection, so a sharded
 * search returns exactly what one index over all documents returns.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { ArtifactError, NotFoundError, ShapeError, UsageError } from '../errors.js';
import { readDenseShards, readShardInfo, readSparseVectors } from '../io/vectors.js';
import { fileMagic, sniffFile } from '../io/sniff.js';
import { checkIdentity, parseIdentity, type EncoderIdentity } from '../util/identity.js';
import { countLines, Progress } from '../util/progress.js';
import { writeRun } from '../io/trec.js';
import type { Run, SparseVec } from '../types.js';
import { buildInvertedIndexFromRecords, type BuildSparseOptions, sparseSourcesSize, writeInvertedIndex } from './inverted/build.js';
import { loadInvertedIndex } from './inverted/format.js';
import { packQueries, searchSparse } from './inverted/search.js';
import { better, emptyResult, type SearchResult, toRun } from './topk.js';
import { buildDenseIndex, type DenseDtype, loadVectorIndex, searchDense } from './vector/flat.js';
import { buildHnsw, loadHnsw, removeHnsw, saveHnsw, searchHnsw } from './vector/hnsw.js';

export type IndexKind = 'sparse' | 'dense';

/** Options of `buildIndex`. */
export interface BuildIndexOptions extends BuildSparseOptions {
  kind: IndexKind;
  /** Dense storage: f32, bf16 or i8. */
  denseDtype?: DenseDtype;
  /** Dense: also build an HNSW graph (`<out>.usearch`). */
  hnsw?: boolean;
  /** Merge vector files from different encoders (refused by default, E_FOREIGN). */
  allowForeign?: boolean;
  /** Show progress (documents read, total, ETA) even when stderr is not a terminal. */
  progress?: boolean;
}

/** Documents in vector files: a shard's row count from its header, a JSONL file's lines. */
function countVectors(sources: string[]): number | undefined {
  let n = 0;
  for (const p of sources) {
    const kind = sniffFile(p);
    if (kind === 'sparse-shard' || kind === 'dense-shard') {
      const fd = openSync(p, 'r');
      const h = Buffer.alloc(20);
      try { readSync(fd, h, 0, 20, 0); } finally { closeSync(fd); }
      n += h.readUInt32LE(16);
    } else {
      const c = countLines(p);
      if (c === undefined) return undefined;
      n += c;
    }
  }
  return n;
}

/** Builds an index of either kind from vector files and writes it to `out`. Returns a summary. */
export async function buildIndex(sources: string[], out: string, opts: BuildIndexOptions): Promise<Record<string, number | string>> {
  const t0 = performance.now();
  if (opts.kind === 'sparse') {
    if (sources.length === 0) throw new UsageError('no input vector files given');
    // buildSparseIndex's steps, with the records counted on their way in for the progress bar.
    const bar = new Progress('index', countVectors(sources), 'docs', opts.progress);
    async function* ticking() { for (const s of sources) for await (const r of readSparseVectors(s, { vocabSize: opts.vocabSize })) { bar.tick(); yield r; } }
    const ix = await buildInvertedIndexFromRecords(ticking(), opts, sources.join(','), sparseSourcesSize(sources));
    bar.finish();
    ix.meta.sources = sources;
    writeInvertedIndex(ix, out);
    ix.path = out;
    return { kind: 'sparse', documents: ix.numDocs, vocabulary: ix.vocab, postings: ix.numPostings, dtype: ix.dtype, seconds: (performance.now() - t0) / 1000 };
  }
  if (opts.kind !== 'dense') throw new UsageError(`index kind must be sparse or dense, got '${String(opts.kind)}'`, { field: 'kind' });
  const ix = buildDenseIndex(sources, out, { dtype: opts.denseDtype, allowForeign: opts.allowForeign });
  // A graph left from an earlier build of `out` would answer with row numbers of the old index.
  if (opts.hnsw) saveHnsw(buildHnsw(ix), `${out}.usearch`, ix);
  else removeHnsw(`${out}.usearch`);
  return { kind: 'dense', documents: ix.rows, dim: ix.dim, dtype: ix.dtype, seconds: (performance.now() - t0) / 1000 };
}

/** The kind of an index file, by magic number. */
export function indexKind(path: string): IndexKind {
  const kind = sniffFile(path);
  if (kind === 'sparse-index') return 'sparse';
  if (kind === 'dense-index') return 'dense';
  const m = fileMagic(path);
  throw new ArtifactError(`not a Lion index (magic ${JSON.stringify(m)})`, { file: path });
}

/** Expands `.json` manifests into their shard paths. */
export function shardPaths(index: string[]): string[] {
  const out: string[] = [];
  for (const p of index) {
    if (p.endsWith('.json')) {
      if (!existsSync(p)) throw new NotFoundError(`no such manifest: ${p}`, { file: p });
      let m: unknown;
      try { m = JSON.parse(readFileSync(p, 'utf8')); } catch { throw new ArtifactError('manifest is not JSON', { file: p }); }
      const shards = (m as { shards?: unknown }).shards;
      if (!Array.isArray(shards) || !shards.every((s) => typeof s === 'string')) throw new ArtifactError("manifest needs {\"shards\": [paths]}", { file: p, field: 'shards' });
      for (const s of shards as string[]) out.push(resolve(dirname(p), s));
    } else out.push(p);
  }
  if (out.length === 0) throw new UsageError('no index given');
  return out;
}

/**
 * Merges per-shard results (positions local to each shard) into global positions; keeps the best k, where k is
 * at most `kMax` (default: the larger stride) and at most the hits the two sides can hold together.
 */
export function mergeResults(acc: SearchResult | undefined, next: SearchResult, offset: number, kMax?: number): SearchResult {
  const nq = next.counts.length;
  const ka = acc?.k ?? 0, kb = next.k;
  const k = Math.min(kMax ?? Math.max(ka, kb), ka + kb);
  const out = emptyResult(nq, k);
  for (let q = 0; q < nq; q++) {
    let a = 0, b = 0, n = 0;
    const ca = acc ? acc.counts[q]! : 0, cb = next.counts[q]!;
    while (n < k && (a < ca || b < cb)) {
      const sa = ca ? acc!.scores[q * ka + a]! : 0, da = ca ? acc!.docs[q * ka + a]! : 0;
      const sb = next.scores[q * kb + b]!, db = next.docs[q * kb + b]! + offset;
      if (b >= cb || (a < ca && better(sa, da, sb, db))) { out.scores[q * k + n] = sa; out.docs[q * k + n] = da; a++; } else { out.scores[q * k + n] = sb; out.docs[q * k + n] = db; b++; }
      n++;
    }
    out.counts[q] = n;
    out.visited[q] = (acc ? acc.visited[q]! : 0) + next.visited[q]!;
  }
  return out;
}

/**
 * The encoder recorded for a query file: in a `.lsv` / `.f32` shard's meta block, or for sparse JSONL in the
 * `<queries>.json` that `lion encode` writes beside it. Undefined when none is recorded.
 */
export function queryIdentity(path: string): EncoderIdentity | undefined {
  const kind = sniffFile(path);
  if (kind === 'dense-shard' || kind === 'sparse-shard') return readShardInfo(path).encoder;
  const side = `${path}.json`;
  if (!existsSync(side)) return undefined;
  try {
    const o = JSON.parse(readFileSync(side, 'utf8')) as { encoder?: unknown };
    return parseIdentity(o?.encoder, side);
  } catch { return undefined; }
}

/** Refuses a query file with repeated ids: a run holds one ranking per query id. */
function checkUniqueQids(qids: string[], file: string): void {
  const seen = new Set<string>();
  for (const q of qids) {
    if (seen.has(q)) throw new UsageError(`duplicate query id '${q}'`, { file, field: 'qid', hint: 'query ids must be unique' });
    seen.add(q);
  }
}

/** Options of `searchIndex`. */
export interface SearchIndexOptions {
  k?: number;
  /** Sparse: exact | blockmax | impact | cluster. Dense: exact | hnsw. */
  mode?: 'exact' | 'blockmax' | 'impact' | 'cluster' | 'hnsw';
  alpha?: number;
  cut?: number;
  gamma?: number;
  lambda?: number;
  threads?: number;
  /** Search with query vectors from another encoder than the index's (refused by default, E_FOREIGN). */
  allowForeign?: boolean;
}

function clipVocab(v: SparseVec, vocab: number): SparseVec {
  let n = v.terms.length;
  while (n > 0 && v.terms[n - 1]! >= vocab) n--;
  return n === v.terms.length ? v : { terms: v.terms.subarray(0, n), weights: v.weights.subarray(0, n) };
}

async function readSparseQueries(path: string): Promise<{ qids: string[]; vecs: SparseVec[] }> {
  const qids: string[] = [], vecs: SparseVec[] = [];
  for await (const r of readSparseVectors(path)) { qids.push(r.id); vecs.push(r.vec); }
  return { qids, vecs };
}

/**
 * Searches one index or several shards with query vectors from a file; returns the run and the statistics.
 * @example
 * ```ts
 * const { run } = await searchIndex(['docs.lidx'], 'queries.jsonl', { k: 1000 });
 * ```
 */
export async function searchIndex(index: string[], queriesPath: string, opts: SearchIndexOptions = {}): Promise<{ run: Run; stats: Record<string, number> }> {
  const paths = shardPaths(index);
  const kinds = paths.map(indexKind);
  if (kinds.some((k) => k !== kinds[0])) throw new UsageError('all shards must be of one kind (sparse or dense)');
  const k = opts.k ?? DEFAULTS.search.k;
  if (!Number.isSafeInteger(k) || k < 1) throw new UsageError(`k must be a positive integer, got ${k}`, { field: 'k' });
  const t0 = performance.now();
  let merged: SearchResult | undefined;
  let offset = 0;
  let unordered = 0; // sparse shards built without reordering
  let largest = 0; // documents in the largest sparse shard (cluster search defaults depend on it)
  const ids: string[] = [];
  let qids: string[];
  const denseQueries = sniffFile(queriesPath) === 'dense-shard';
  if (denseQueries !== (kinds[0] === 'dense')) {
    throw new ShapeError(`the queries are ${denseQueries ? 'dense' : 'sparse'} vectors but the index is ${kinds[0]}`, { file: queriesPath, hint: 'encode the queries with the model that encoded the index' });
  }
  const qIdentity = queryIdentity(queriesPath);
  const checkEncoder = (indexEncoder: unknown, p: string) =>
    checkIdentity(parseIdentity(indexEncoder, p), qIdentity, { allowForeign: opts.allowForeign, indexFile: p, queryFile: queriesPath });
  if (kinds[0] === 'sparse') {
    const q = await readSparseQueries(queriesPath);
    qids = q.qids;
    checkUniqueQids(qids, queriesPath);
    const mode = opts.mode ?? DEFAULTS.sparseSearch.mode;
    if (mode === 'hnsw') throw new UsageError('hnsw is a dense search mode; sparse modes are exact, blockmax, impact and cluster', { field: 'mode' });
    for (const p of paths) {
      const ix = loadInvertedIndex(p);
      if (ix.meta.reorder !== 'bp') unordered++;
      checkEncoder((ix.meta as unknown as Record<string, unknown>).encoder, p);
      if (ix.numDocs === 0) continue;
      const ks = Math.min(k, ix.numDocs); // k is capped at the documents there are
      // A shard whose vocabulary was inferred (largest id seen + 1) simply has no postings for larger ids.
      const vecs = ix.meta.vocabDeclared === false ? q.vecs.map((v) => clipVocab(v, ix.vocab)) : q.vecs;
      const qb = packQueries(vecs, ix.vocab, q.qids, queriesPath);
      const r = searchSparse(ix, qb, { k: ks, mode, alpha: opts.alpha, cut: opts.cut, lambda: opts.lambda, gamma: opts.gamma, threads: opts.threads });
      merged = mergeResults(merged, r, offset, k);
      offset += ix.numDocs;
      largest = Math.max(largest, ix.numDocs);
      for (const id of ix.ids) ids.push(id);
    }
  } else {
    const q = readDenseShards([queriesPath]);
    qids = q.ids;
    checkUniqueQids(qids, queriesPath);
    const mode = opts.mode ?? 'exact';
    if (mode === 'blockmax' || mode === 'impact' || mode === 'cluster') throw new UsageError(`${mode} is a sparse search mode; dense modes are exact and hnsw`, { field: 'mode' });
    for (const p of paths) {
      const ix = loadVectorIndex(p);
      if (ix.dim !== q.dim) throw new ShapeError(`queries have dimension ${q.dim} but the index ${p} has ${ix.dim}`, { file: queriesPath, field: 'dim' });
      checkEncoder(ix.meta.encoder, p);
      if (ix.rows === 0) continue;
      const ks = Math.min(k, ix.rows); // k is capped at the documents there are
      const r = mode === 'hnsw' ? searchHnsw(loadHnsw(`${p}.usearch`, ix), q.data, ks, opts.threads) : searchDense(ix, q.data, { k: ks, threads: opts.threads });
      merged = mergeResults(merged, r, offset, k);
      offset += ix.rows;
      for (const id of ix.ids) ids.push(id);
    }
  }
  const res = merged ?? emptyResult(qids.length, 0);
  const run = toRun(res, qids, (pos) => ids[pos]!);
  const seconds = (performance.now() - t0) / 1000;
  const visited = res.visited.reduce((a, b) => a + b, 0);
  return { run, stats: { queries: qids.length, shards: paths.length, documents: offset, seconds, meanVisited: qids.length ? visited / qids.length : 0, sparse: kinds[0] === 'sparse' ? 1 : 0, shardsNotReordered: unordered, largestShard: largest } };
}

/** `searchIndex` followed by writing the run (TREC, strictly decreasing scores) to `out`. */
export async function searchToRunFile(index: string[], queriesPath: string, out: string, opts: SearchIndexOptions & { tag?: string } = {}): Promise<Record<string, number>> {
  const { run, stats } = await searchIndex(index, queriesPath, opts);
  await writeRun(out, run, { tag: opts.tag ?? 'lion' });
  return stats;
}
