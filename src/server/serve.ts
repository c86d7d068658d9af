/**
 * `serve`: the one library call behind `lion serve` — open the named indexes and corpora (or index a small
 * collection with BM25 in memory), then start the HTTP server (app.ts) on them. Everything it opens is released by the returned server's `close()`.
 */
import { UsageError } from '../errors.js';
import type { Bm25Params } from '../bm25/similarity.js';
import type { DtypeRequest } from '../model/precision.js';
import { createLionServer, type LionServer, type ServerOptions } from './app.js';
import { collectionSystems } from './collection.js';
import { loadDocStore, openSystems } from './systems.js';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { collect, readCorpus, readQueries } from '../io/corpus.js';
import { LiveIndex } from '../index/live/live.js';
import { liveSystem } from './live.js';
import { openReranker } from '../rerank/run.js';

export interface ServeOptions extends Omit<ServerOptions, 'systems' | 'docs'> {
  /** Index files or folders, each `path` or `name=path`. */
  indexes: string[];
  /**
   * A collection (BEIR folder, corpus.jsonl or TSV) to index with BM25 in memory at start-up, served as the
   * system `bm25` and used as a corpus: one flag to serve a small collection such as the shipped Cranfield.
   */
  collection?: string;
  /** With `collection`: encoders for learned sparse / dense indexes of it, built at start-up. */
  sparseModel?: string;
  denseModel?: string;
  /** Corpora (BEIR corpus.jsonl, its folder, or a TSV collection) whose text the page shows. */
  corpus?: string[];
  /** BM25 parameters for BM25 indexes (default Lucene/Anserini k1 = 0.9, b = 0.4). */
  bm25?: Partial<Bm25Params>;
  /** Query encoders by system name (model or PEFT adapter directory), for text queries to sparse/dense systems. */
  models?: Record<string, string>;
  /** Worker threads per query encoder. */
  encoderWorkers?: number;
  /** Storage and products of every encoder's base matrices (default fp32; 'auto' = `defaultDtype`). */
  dtype?: DtypeRequest;
  /** Serve indexes with query encoders other than the ones recorded in them. */
  allowForeignQueries?: boolean;
  /** Live indexes (src/index/live), each `name=dir` or `dir`: searched like the others, changed over /api/live/*. */
  live?: string[];
  /** A cross-encoder directory (`lion rerank train`) for POST /api/rerank, and its base model when it is an adapter. */
  rerankerDir?: string;
  rerankerBase?: string;
}

/**
 * A few example queries for the page's opening view: spread over the collection's own queries
 * (`queries.jsonl` beside the corpus) when it has them, else over its document titles. Short ones only.
 */
export async function exampleQueries(corpora: string[], n = 5): Promise<string[]> {
  const pick = (xs: string[]) => {
    const ok = [...new Set(xs.map((x) => x.trim().replace(/\s+/g, ' ').replace(/\s+[.?!]$/, '')).filter((x) => x.length >= 12 && x.length <= 90))];
    return Array.from({ length: Math.min(n, ok.length) }, (_, i) => ok[Math.floor((i * ok.length) / Math.min(n, ok.length))]!);
  };
  for (const c of corpora) {
    const dir = existsSync(c) && statSync(c).isDirectory() ? c : dirname(c);
    const qf = join(dir, 'queries.jsonl');
    if (existsSync(qf)) {
      const qs = await collect(readQueries(qf)).catch(() => []);
      if (qs.length) return pick(qs.map((q) => q.text));
    }
  }
  const titles: string[] = [];
  for (const c of corpora) {
    for await (const r of readCorpus(c)) { if (r.title) titles.push(r.title); if (titles.length >= 500) break; }
  }
  return pick(titles);
}

/**
 * Open the indexes and start serving.
 * @example
 * const s = await serve({ indexes: ['cran.lbm25'], corpus: ['test/fixtures/cranfield'], port: 8080 });
 * console.log(`open ${s.url}`); // … later: await s.close();
 */
export async function serve(opts: ServeOptions): Promise<LionServer> {
  if (opts.indexes.length === 0 && !opts.collection && !opts.live?.length) throw new UsageError('give at least one --index (or --collection)', { field: 'index' });
  const systems = await openSystems(opts.indexes, { bm25: opts.bm25, models: opts.models, encoderWorkers: opts.encoderWorkers, encodeTimeoutMs: opts.timeoutMs, allowForeignQueries: opts.allowForeignQueries, dtype: opts.dtype });
  try {
    const corpora = [...(opts.collection ? [opts.collection] : []), ...(opts.corpus ?? [])];
    if (opts.collection) {
      const taken = ['bm25', ...(opts.sparseModel ? ['sparse'] : []), ...(opts.denseModel ? ['dense'] : [])];
      const clash = systems.find((s) => taken.includes(s.info.name));
      if (clash) throw new UsageError(`--collection serves its indexes as ${taken.join(', ')}; name the index '${clash.info.name}' differently`, { field: 'index' });
      systems.unshift(...(await collectionSystems({
        collection: opts.collection, bm25: opts.bm25, sparseModel: opts.sparseModel, denseModel: opts.denseModel,
        encoderWorkers: opts.encoderWorkers, encodeTimeoutMs: opts.timeoutMs, dtype: opts.dtype,
      })));
    } else if (opts.sparseModel || opts.denseModel) {
      throw new UsageError('--sparse-model and --dense-model encode a --collection; for index files use --model NAME=DIR', { field: 'sparse-model' });
    }
    for (const spec of opts.live ?? []) {
      const eq = spec.indexOf('=');
      const [name, dir] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec).replace(/\.live$/, '') || 'live', spec];
      if (systems.some((s) => s.info.name === name)) throw new UsageError(`two systems are named '${name}'; name the live index with --live NAME=DIR`, { field: 'live' });
      systems.push(liveSystem(name, await LiveIndex.open(dir, { bm25: opts.bm25 })));
    }
    const docs = corpora.length ? await loadDocStore(corpora) : undefined;
    const examples = opts.examples ?? (corpora.length ? await exampleQueries(corpora) : []);
    const collectionName = opts.collectionName ?? (corpora.length ? basename(corpora[0]!.replace(/\/(corpus\.jsonl)?$/, '')) : undefined);
    const reranker = opts.rerankerDir ? openReranker(opts.rerankerDir, opts.rerankerBase) : undefined;
    const { examples: _x, collectionName: _n, rerankerDir: _r, rerankerBase: _rb, live: _v, indexes: _i, corpus: _c, collection: _l, sparseModel: _s, denseModel: _d, bm25: _b, models: _m, encoderWorkers: _e, allowForeignQueries: _f, dtype: _t, ...rest } = opts;
    return await createLionServer({ ...rest, systems, docs, examples, ...(collectionName ? { collectionName } : {}), ...(reranker ? { reranker } : {}) });
  } catch (e) {
    for (const s of systems) await s.close?.(); // encoder workers would keep the process alive
    throw e;
  }
}
