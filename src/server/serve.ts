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
}

/**
 * Open the indexes and start serving.
 * @example
 * const s = await serve({ indexes: ['cran.lbm25'], corpus: ['test/fixtures/cranfield'], port: 8080 });
 * console.log(`open ${s.url}`); // … later: await s.close();
 */
export async function serve(opts: ServeOptions): Promise<LionServer> {
  if (opts.indexes.length === 0 && !opts.collection) throw new UsageError('give at least one --index (or --collection)', { field: 'index' });
  const systems = await openSystems(opts.indexes, { bm25: opts.bm25, models: opts.models, encoderWorkers: opts.encoderWorkers, encodeTimeoutMs: opts.timeoutMs, dtype: opts.dtype });
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
    const docs = corpora.length ? await loadDocStore(corpora) : undefined;
    const { indexes: _i, corpus: _c, collection: _l, sparseModel: _s, denseModel: _d, bm25: _b, models: _m, encoderWorkers: _e, dtype: _t, ...rest } = opts;
    return await createLionServer({ ...rest, systems, docs });
  } catch (e) {
    for (const s of systems) await s.close?.(); // encoder workers would keep the process alive
    throw e;
  }
}
