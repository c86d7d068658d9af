/**
 * Adapters from Lion's indexes to the server's `SearchSystem` contract, and `openSystems`, which opens the
 * index files named on the command line by their magic number.
 *
 * BM25 as a weighted-term system. Lucene's BM25 (k1, b, float32 steps; src/bm25/similarity.ts) scores a
 * term as `w − w / (1 + tf · normInv)` with `w = count × idf`, which is `w × tf / (tf + 1/normInv)`: a query
 * weight times a document weight in [0, 1). So a BM25 hit explains itself exactly like a learned sparse hit:
 * queryWeight = count × idf, docWeight = tf / (tf + k1·(1 − b + b·dl/avgdl)), contribution = the term's
 * float32 score as the search loop computes it; the contributions sum to the hit's score. A given sparse
 * vector `{term: weight}` names analysed index terms and its weight replaces the count, so `{"wing": 1}`
 * and the text "wing" are the same query.
 */
import type { DtypeRequest } from '../model/precision.js';
import { statSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UsageError, NotFoundError, ArtifactError } from '../errors.js';
import { readBm25Index } from '../bm25/format.js';
import { fileMagic, sniffFile } from '../io/sniff.js';
import { docIdOf, termIdOf, termOf, type Bm25Index } from '../bm25/build.js';
import { createBm25Searcher, queryTerms as bm25QueryTerms, topK, type Bm25Searcher, type QueryTerm } from '../bm25/search.js';
import { bm25Idf, bm25TermScore, type Bm25Params } from '../bm25/similarity.js';
import { collect, readCorpus } from '../io/corpus.js';
import { loadInvertedIndex } from '../index/inverted/format.js';
import { loadVectorIndex } from '../index/vector/flat.js';
import { encoderIdentityAt } from '../encoders/load.js';
import { checkIdentity, parseIdentity } from '../util/identity.js';
import { denseSystem, queryEncoder, sparseSystem } from './neural.js';
import type { Hit } from '../types.js';
import type { DocStore, Explanation, SearchSystem, SystemQuery, TermContribution, WeightedTerm } from './system.js';

const f = Math.fround;

function bm25Terms(s: Bm25Searcher, q: SystemQuery): QueryTerm[] {
  if ('text' in q) return bm25QueryTerms(s, q.text);
  if ('sparse' in q) {
    const out: QueryTerm[] = [];
    const ix = s.index;
    for (const [term, w] of q.sparse) {
      const id = termIdOf(ix, term);
      if (id < 0 || w === 0) continue;
      const df = ix.postingOffsets[id + 1]! - ix.postingOffsets[id]!;
      out.push({ term: id, weight: f(w * bm25Idf(ix.docCount, df)) });
    }
    return out;
  }
  throw new UsageError('a BM25 index cannot be searched with a dense vector', { field: 'dense' });
}

/** Position of document `d` in term `t`'s postings (ascending), or -1: binary search. */
function postingOf(ix: Bm25Index, t: number, d: number): number {
  let lo = ix.postingOffsets[t]!;
  let hi = ix.postingOffsets[t + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ix.postingDocs[mid]!;
    if (v === d) return mid;
    if (v < d) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Wrap a BM25 index as a search system.
 * @example const sys = bm25System('bm25', await readBm25Index('cran.lbm25'));
 */
export function bm25System(name: string, index: Bm25Index, params: Partial<Bm25Params> = {}, description = ''): SearchSystem {
  const s = createBm25Searcher(index, params);
  // One request asks for search, query terms and up to k explanations of the same query object: analyse once.
  const analysed = new WeakMap<SystemQuery, QueryTerm[]>();
  const termsOf = (q: SystemQuery): QueryTerm[] => {
    let t = analysed.get(q);
    if (!t) analysed.set(q, (t = bm25Terms(s, q)));
    return t;
  };
  let docNumbers: Map<string, number> | undefined; // built on the first explain
  const docNumber = (docid: string): number | undefined => {
    if (!docNumbers) {
      docNumbers = new Map();
      for (let d = 0; d < index.numDocs; d++) docNumbers.set(docIdOf(index, d), d);
    }
    return docNumbers.get(docid);
  };
  return {
    info: {
      name,
      kind: 'bm25',
      docs: index.numDocs,
      accepts: ['text', 'sparse'],
      description: description || `BM25 k1=${s.params.k1} b=${s.params.b}, ${index.numDocs} documents, ${index.numTerms} terms`,
    },
    async search(q, k): Promise<Hit[]> {
      const { docs, scores } = topK(s, termsOf(q), k);
      const hits: Hit[] = new Array(docs.length);
      for (let i = 0; i < docs.length; i++) hits[i] = { docid: docIdOf(index, docs[i]!), score: scores[i]! };
      return hits;
    },
    async queryTerms(q): Promise<WeightedTerm[]> {
      return termsOf(q).map((t) => ({ term: termOf(index, t.term), weight: t.weight })).sort((a, b) => b.weight - a.weight);
    },
    async explain(q, docid, limit = Infinity): Promise<Explanation | undefined> {
      const d = docNumber(docid);
      if (d === undefined) return undefined;
      const terms: TermContribution[] = [];
      let score = 0;
      for (const t of termsOf(q)) {
        const p = postingOf(index, t.term, d);
        if (p < 0) continue;
        const tf = index.postingTfs[p]!;
        const contribution = bm25TermScore(t.weight, tf, s.normInv[d]!);
        score += contribution;
        terms.push({ term: termOf(index, t.term), weight: t.weight, queryWeight: t.weight, docWeight: f(tf / (tf + 1 / s.normInv[d]!)), contribution });
      }
      terms.sort((a, b) => b.contribution - a.contribution || (a.term < b.term ? -1 : 1));
      if (terms.length <= limit) return { docid, score: f(score), terms };
      let rest = 0;
      for (let i = limit; i < terms.length; i++) rest += terms[i]!.contribution;
      return { docid, score: f(score), terms: terms.slice(0, limit), rest: { terms: terms.length - limit, contribution: rest } };
    },
  };
}

/** The index file inside `path`: the path itself, or the single index file in a folder. */
function indexFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new NotFoundError('no index file or folder here', { file: path, hint: 'build one with `lion bm25 index` (or `lion index`)' });
  }
  if (!st.isDirectory()) return path;
  const files = readdirSync(path).filter((n) => /\.(lbm25|lidx|lvec)$/.test(n));
  if (files.length !== 1) {
    throw new UsageError(`${path} is a folder with ${files.length} index files; name the file itself`, { field: 'index' });
  }
  return join(path, files[0]!);
}


export interface OpenOptions {
  /** BM25 parameters for BM25 indexes (default Lucene/Anserini k1 = 0.9, b = 0.4). */
  bm25?: Partial<Bm25Params>;
  /** Query encoders by system name: a model directory or a PEFT adapter directory. */
  models?: Record<string, string>;
  /** Worker threads per query encoder. */
  encoderWorkers?: number;
  /** Longest time one query encoding may take. */
  encodeTimeoutMs?: number;
  /** Storage and products of the encoders' base matrices (default fp32; 'auto' = `defaultDtype`). */
  dtype?: DtypeRequest;
  /** Serve an index with a query encoder other than the one recorded in it (refused by default, E_FOREIGN). */
  allowForeignQueries?: boolean;
}

/** Split `name=path` (a name has no '/'); the default name is the file name without its extension. */
function splitSpec(spec: string): { explicit?: string; path: string } {
  const eq = spec.indexOf('=');
  return eq > 0 && !spec.slice(0, eq).includes('/') ? { explicit: spec.slice(0, eq), path: spec.slice(eq + 1) } : { path: spec };
}

async function encoderFor(name: string, kind: 'sparse' | 'dense', o: OpenOptions, opened: SearchSystem[], indexEncoder?: unknown, file?: string) {
  const dir = o.models?.[name];
  if (dir === undefined) return {};
  try {
    // The index records the encoder that built it; a query encoder from another model would search garbage.
    if (indexEncoder !== undefined && !o.allowForeignQueries) {
      checkIdentity(parseIdentity(indexEncoder, file), encoderIdentityAt(dir, kind), { indexFile: file, queryFile: dir });
    }
    return await queryEncoder(dir, kind, o);
  } catch (e) {
    for (const s of opened) await s.close?.();
    throw e;
  }
}

/**
 * Open the systems named by `specs`, each `path` or `name=path`. The kind is read from the file's magic
 * number (BM25, learned sparse inverted index, dense vector index).
 */
export async function openSystems(specs: string[], o: OpenOptions = {}): Promise<SearchSystem[]> {
  const out: SearchSystem[] = [];
  const named = specs.map((spec) => splitSpec(spec).explicit);
  for (const name of Object.keys(o.models ?? {})) {
    if (!named.includes(name)) throw new UsageError(`--model ${name}=…: no index is named '${name}' (name it with --index ${name}=PATH)`, { field: 'model' });
  }
  for (const spec of specs) {
    const { explicit, path } = splitSpec(spec);
    const file = indexFile(path);
    const name = explicit ?? basename(file, extname(file));
    if (!/^[\w.-]{1,64}$/.test(name)) throw new UsageError(`system name '${name}' must be 1–64 letters, digits, '.', '_' or '-'`, { field: 'index' });
    const kind = sniffFile(file);
    if (kind === 'bm25-index') out.push(bm25System(name, await readBm25Index(file), o.bm25, `BM25 index ${file}`));
    else if (kind === 'sparse-index') {
      const ix = loadInvertedIndex(file);
      out.push(sparseSystem(name, ix, await encoderFor(name, 'sparse', o, out, (ix.meta as unknown as Record<string, unknown>).encoder, file)));
    } else if (kind === 'dense-index') {
      const ix = loadVectorIndex(file);
      out.push(denseSystem(name, ix, await encoderFor(name, 'dense', o, out, ix.meta.encoder, file)));
    }
    else throw new ArtifactError(`unknown index format (magic ${JSON.stringify(fileMagic(file))})`, { file, hint: 'serve indexes built by `lion bm25 index` or `lion index`' });
  }
  return out;
}

/** Load a corpus (BEIR JSONL or TSV) into memory for display. */
export async function loadDocStore(paths: string[]): Promise<DocStore> {
  const m = new Map<string, { id: string; title?: string; text: string }>();
  for (const p of paths) for (const r of await collect(readCorpus(p))) m.set(r.id, r.title === undefined ? { id: r.id, text: r.text } : { id: r.id, title: r.title, text: r.text });
  return { get: (id) => m.get(id), size: m.size };
}
