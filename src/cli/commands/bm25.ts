/**
 * `lion bm25 index` and `lion bm25 search`: the lexical baseline's two stages (src/bm25/pipeline.ts).
 * Each parses its options, calls one library function and writes one artefact (an index file; a run file
 * with its configuration beside it as `<run>.json`).
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { indexCorpusFile, searchIndexFile } from '../../bm25/pipeline.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const indexOptions = {
  corpus: { kind: 'string', required: true, help: 'BEIR corpus.jsonl (or its folder) or an `id\\ttext` TSV' },
  out: { kind: 'string', required: true, help: 'index file to write (e.g. scifact.lbm25)' },
  'no-stem': { kind: 'boolean', help: 'skip Porter stemming' },
  'keep-stopwords': { kind: 'boolean', help: 'keep the 33 English stop words' },
  progress: { kind: 'boolean', help: 'show documents indexed, total and ETA even when stderr is not a terminal' },
} satisfies OptTable;

export const bm25IndexCommand: Command = {
  name: 'bm25 index',
  summary: 'build a BM25 index (Lucene English analyzer) from a corpus',
  usage: 'lion bm25 index --corpus corpus.jsonl --out corpus.lbm25',
  options: indexOptions,
  async run(argv) {
    const o = parseArgs(argv, indexOptions, 'bm25 index');
    if (o._.length) throw new UsageError(`bm25 index: unexpected argument '${o._[0]}'`);
    const r = await indexCorpusFile(o.corpus, o.out, { analyzer: { stem: !o['no-stem'], stopWords: !o['keep-stopwords'] }, forceProgress: o.progress });
    process.stderr.write(`bm25 index: ${r.numDocs} documents, ${r.numTerms} terms, ${r.numPostings} postings in ${r.seconds.toFixed(2)} s -> ${o.out}\n`);
    return 0;
  },
};

const searchOptions = {
  index: { kind: 'string', required: true, help: 'index file written by `lion bm25 index`' },
  queries: { kind: 'string', required: true, help: 'BEIR queries.jsonl or a `qid\\ttext` TSV' },
  out: { kind: 'string', required: true, help: 'TREC run file to write' },
  k: { kind: 'int', min: 1, default: DEFAULTS.search.k, help: 'hits per query' },
  k1: { kind: 'number', min: 0, default: DEFAULTS.bm25.k1, help: 'BM25 term-frequency saturation' },
  b: { kind: 'number', min: 0, max: 1, default: DEFAULTS.bm25.b, help: 'BM25 length normalisation, 0..1' },
  'exact-lengths': { kind: 'boolean', help: "use exact document lengths instead of Lucene's one-byte lengths" },
  tag: { kind: 'string', default: DEFAULTS.tags.bm25, help: 'run tag (6th column)' },
} satisfies OptTable;

export const bm25SearchCommand: Command = {
  name: 'bm25 search',
  summary: 'search a BM25 index with a queries file and write a TREC run',
  usage: 'lion bm25 search --index corpus.lbm25 --queries queries.jsonl --k 1000 --out run.trec [--k1 0.9 --b 0.4]',
  options: searchOptions,
  async run(argv) {
    const o = parseArgs(argv, searchOptions, 'bm25 search');
    if (o._.length) throw new UsageError(`bm25 search: unexpected argument '${o._[0]}'`);
    const r = await searchIndexFile(o.index, o.queries, o.out, { k: o.k, k1: o.k1, b: o.b, exactLengths: o['exact-lengths'], tag: o.tag });
    process.stderr.write(`bm25 search: ${r.queries} queries in ${r.seconds.toFixed(2)} s (${r.queriesPerSecond.toFixed(0)} q/s) -> ${o.out}\n`);
    return 0;
  },
};
