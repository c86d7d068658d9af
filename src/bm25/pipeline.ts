/**
 * File-to-file BM25 stages, the library functions behind `lion bm25 index` and `lion bm25 search`:
 * corpus file → index file, and index file + queries file → TREC run file (plus a small JSON record of the
 * resolved configuration beside the run, `<run>.json`). Progress goes to stderr through util/progress.
 */
import { readCorpus, readQueries, collect } from '../io/corpus.js';
import { writeRun } from '../io/trec.js';
import { writeFileAtomic } from '../util/atomic.js';
import { countLines, Progress } from '../util/progress.js';
import { DEFAULTS } from '../defaults.js';
import { buildBm25Index, type Bm25Index } from './build.js';
import { readBm25Index, writeBm25Index } from './format.js';
import { createBm25Searcher, searchBm25All } from './search.js';
import type { AnalyzerOptions } from './analyzer.js';

export interface IndexFileOptions {
  analyzer?: AnalyzerOptions;
  /** Show a progress bar on stderr (when it is a terminal). Default true. */
  progress?: boolean;
  /** Show it even when stderr is not a terminal (`--progress`). */
  forceProgress?: boolean;
}

export interface IndexFileResult {
  numDocs: number;
  numTerms: number;
  numPostings: number;
  seconds: number;
}

/**
 * Index a corpus (BEIR corpus.jsonl or folder, or `id\ttext` TSV) into a BM25 index file.
 *
 * @example await indexCorpusFile('scifact/corpus.jsonl', 'scifact.lbm25');
 */
export async function indexCorpusFile(corpus: string, out: string, opts: IndexFileOptions = {}): Promise<IndexFileResult> {
  const t0 = performance.now();
  const bar = opts.progress === false ? undefined : new Progress('bm25 index', countLines(corpus, 'corpus.jsonl'), 'docs', opts.forceProgress);
  const index = await buildBm25Index(readCorpus(corpus), {
    analyzer: opts.analyzer,
    source: corpus,
    progressEvery: 1000,
    onProgress: () => bar?.tick(1000),
  });
  if (bar) { bar.tick(index.numDocs - bar.count); bar.finish(); }
  await writeBm25Index(out, index);
  return { ...statsOf(index), seconds: (performance.now() - t0) / 1000 };
}

function statsOf(index: Bm25Index): Omit<IndexFileResult, 'seconds'> {
  return { numDocs: index.numDocs, numTerms: index.numTerms, numPostings: index.postingDocs.length };
}

export interface SearchFileOptions {
  k?: number;
  k1?: number;
  b?: number;
  exactLengths?: boolean;
  /** Run tag (6th column). Default 'lion-bm25'. */
  tag?: string;
  progress?: boolean;
}

export interface SearchFileResult {
  queries: number;
  seconds: number;
  queriesPerSecond: number;
}

/**
 * Search every query of a queries file (BEIR queries.jsonl or `qid\ttext` TSV) and write a TREC run.
 *
 * @example await searchIndexFile('scifact.lbm25', 'scifact/queries.jsonl', 'run.trec', { k: 1000 });
 */
export async function searchIndexFile(indexPath: string, queriesPath: string, out: string, opts: SearchFileOptions = {}): Promise<SearchFileResult> {
  const index = await readBm25Index(indexPath);
  const params = { k1: opts.k1 ?? DEFAULTS.bm25.k1, b: opts.b ?? DEFAULTS.bm25.b, exactLengths: opts.exactLengths ?? DEFAULTS.bm25.exactLengths };
  const k = opts.k ?? DEFAULTS.search.k;
  const searcher = createBm25Searcher(index, params);
  const queries = await collect(readQueries(queriesPath));
  const bar = opts.progress === false ? undefined : new Progress('bm25 search', queries.length, 'queries');
  const t0 = performance.now();
  const run = await searchBm25All(searcher, queries, { k, onProgress: () => bar?.tick() });
  const seconds = (performance.now() - t0) / 1000;
  bar?.finish();
  const tag = opts.tag ?? 'lion-bm25';
  await writeRun(out, run, { tag });
  const config = { index: indexPath, queries: queriesPath, k, ...params, analyzer: index.meta.analyzer, tag, numQueries: queries.length };
  await writeFileAtomic(`${out}.json`, `${JSON.stringify(config, null, 2)}\n`);
  return { queries: queries.length, seconds, queriesPerSecond: queries.length / Math.max(seconds, 1e-9) };
}
