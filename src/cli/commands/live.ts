/**
 * `lion live create|add|delete|merge|search|info`: a live index (src/index/live) kept current from the
 * command line. Each writing command opens the index, applies its change, commits once (or every
 * `--commit-every` documents) and releases the lock; `lion serve --live NAME=DIR` serves one and takes
 * additions and deletions over HTTP.
 */
import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { LiveIndex, type LiveDoc, type LiveKind, type LiveQuery } from '../../index/live/live.js';
import type { DenseDtype } from '../../index/vector/flat.js';
import { collect, readCorpus, readQueries } from '../../io/corpus.js';
import { writeRun } from '../../io/trec.js';
import { readDenseShards, readSparseVectors } from '../../io/vectors.js';
import type { Run } from '../../types.js';
import { Progress } from '../../util/progress.js';
import { oneOf, parseArgs, type OptTable, type Warn } from '../args.js';
import type { Command } from '../command.js';

const dirOpt = { kind: 'string', required: true, help: 'live index folder' } as const;

const createOptions = {
  dir: dirOpt,
  paradigm: { kind: 'choice', choices: oneOf<LiveKind>('bm25', 'sparse', 'dense'), required: true, was: ['kind'], help: 'bm25, sparse or dense' },
  vocab: { kind: 'int', help: 'sparse: vocabulary size (term ids below it)' },
  dim: { kind: 'int', help: 'dense: vector dimension' },
  dtype: { kind: 'choice', choices: oneOf<DenseDtype>('f32', 'bf16', 'i8'), default: DEFAULTS.denseIndex.dtype as DenseDtype, help: 'dense: weight type' },
  'no-stem': { kind: 'boolean', help: 'bm25: skip Porter stemming' },
  'keep-stopwords': { kind: 'boolean', help: 'bm25: keep the 33 English stop words' },
} satisfies OptTable;

export const liveCreateCommand: Command = {
  name: 'live create',
  summary: 'create an empty live index (BM25, sparse or dense) that takes additions, updates and deletions',
  usage: 'lion live create --dir app.live --paradigm bm25   |   --paradigm sparse --vocab 4096   |   --paradigm dense --dim 256',
  options: createOptions,
  async run(argv) {
    const o = parseArgs(argv, createOptions, 'live create');
    const live = await LiveIndex.create(o.dir, {
      kind: o.paradigm, vocab: o.vocab as number | undefined, dim: o.dim as number | undefined, dtype: o.dtype,
      ...(o.paradigm === 'bm25' ? { analyzer: { stem: !o['no-stem'], stopWords: !o['keep-stopwords'] } } : {}),
    });
    await live.close();
    process.stderr.write(`live create: empty ${o.paradigm} live index in ${o.dir}\n`);
    return 0;
  },
};

const addOptions = {
  dir: dirOpt,
  corpus: { kind: 'string', multiple: true, help: 'bm25: BEIR corpus.jsonl (or folder) or `id\\ttext` TSV' },
  vectors: { kind: 'string', multiple: true, help: 'sparse: JSONL / .lsv vectors; dense: .f32 shards (from `lion encode`)' },
  'commit-every': { kind: 'int', default: 0, help: 'commit after every N documents (0: once at the end)' },
  merge: { kind: 'boolean', help: 'merge down to one segment after adding' },
  progress: { kind: 'boolean', help: 'show progress even when stderr is not a terminal' },
} satisfies OptTable;

async function* docsOf(kind: LiveKind, corpus: string[], vectors: string[]): AsyncGenerator<LiveDoc> {
  if (kind === 'bm25') {
    if (vectors.length) throw new UsageError('a bm25 live index takes --corpus, not --vectors', { field: 'vectors' });
    for (const c of corpus) for await (const r of readCorpus(c)) yield r.title !== undefined ? { id: r.id, title: r.title, text: r.text } : { id: r.id, text: r.text };
  } else if (kind === 'sparse') {
    if (corpus.length) throw new UsageError('a sparse live index takes --vectors (encode the corpus with `lion encode` first)', { field: 'corpus' });
    for (const v of vectors) for await (const r of readSparseVectors(v)) yield { id: r.id, sparse: r.vec };
  } else {
    if (corpus.length) throw new UsageError('a dense live index takes --vectors (.f32 shards from `lion encode`)', { field: 'corpus' });
    if (!vectors.length) return;
    const m = readDenseShards(vectors);
    for (let r = 0; r < m.rows; r++) yield { id: m.ids[r]!, dense: m.data.slice(r * m.dim, (r + 1) * m.dim) };
  }
}

export const liveAddCommand: Command = {
  name: 'live add',
  summary: 'add or update documents of a live index (an existing id is replaced) and commit',
  usage: 'lion live add --dir app.live --corpus new-docs.jsonl   |   lion live add --dir sp.live --vectors new-docs.lsv',
  options: addOptions,
  async run(argv) {
    const o = parseArgs(argv, addOptions, 'live add');
    if (!o.corpus.length && !o.vectors.length) throw new UsageError('live add: give --corpus (bm25) or --vectors (sparse, dense)');
    const live = await LiveIndex.open(o.dir);
    try {
      const bar = new Progress('live add', undefined, 'docs', o.progress);
      let n = 0, batch: LiveDoc[] = [];
      for await (const d of docsOf(live.config.kind, o.corpus, o.vectors)) {
        batch.push(d);
        n++;
        bar.tick();
        if (batch.length >= 1000) { live.add(batch); batch = []; }
        if (o['commit-every'] > 0 && n % o['commit-every'] === 0) { live.add(batch); batch = []; await live.commit(); }
      }
      live.add(batch);
      await live.commit();
      if (o.merge) await live.merge(1);
      await live.idle();
      bar.finish();
      const s = live.stats();
      process.stderr.write(`live add: ${n} documents; ${s.documents} live in ${s.segments.length} segment(s), generation ${s.generation}\n`);
    } finally {
      await live.close();
    }
    return 0;
  },
};

const deleteOptions = {
  dir: dirOpt,
  id: { kind: 'string', multiple: true, help: 'document id to delete (repeat; also positional)' },
  'ids-file': { kind: 'string', help: 'file with one document id per line' },
} satisfies OptTable;

export const liveDeleteCommand: Command = {
  name: 'live delete',
  summary: 'delete documents of a live index by id and commit',
  usage: 'lion live delete --dir app.live doc-17 doc-42   |   --ids-file gone.txt',
  options: deleteOptions,
  async run(argv) {
    const o = parseArgs(argv, deleteOptions, 'live delete');
    const ids = [...o.id, ...o._];
    if (o['ids-file']) for (const l of readFileSync(o['ids-file'], 'utf8').split('\n')) if (l.trim()) ids.push(l.trim());
    if (!ids.length) throw new UsageError('live delete: give ids (--id, positional or --ids-file)');
    const live = await LiveIndex.open(o.dir);
    try {
      const n = live.delete(ids);
      await live.commit();
      await live.idle();
      process.stderr.write(`live delete: ${n} of ${ids.length} ids were present; ${live.size} documents remain\n`);
    } finally {
      await live.close();
    }
    return 0;
  },
};

const mergeOptions = {
  dir: dirOpt,
  'max-segments': { kind: 'int', default: 1, help: 'merge until at most this many segments remain (deleted documents are dropped)' },
} satisfies OptTable;

export const liveMergeCommand: Command = {
  name: 'live merge',
  summary: 'merge the segments of a live index (dropping deleted documents)',
  usage: 'lion live merge --dir app.live [--max-segments 1]',
  options: mergeOptions,
  async run(argv) {
    const o = parseArgs(argv, mergeOptions, 'live merge');
    const live = await LiveIndex.open(o.dir, { autoMerge: false });
    try {
      await live.merge(o['max-segments']);
      const s = live.stats();
      process.stderr.write(`live merge: ${s.segments.length} segment(s), ${s.documents} documents, ${s.deleted} deleted kept\n`);
    } finally {
      await live.close();
    }
    return 0;
  },
};

/**
 * The queries of a live search: texts (`--queries`) for BM25, vectors (`--query-vectors`) otherwise. Vectors given
 * as `--queries` (the spelling before 0.2) are accepted with a deprecation warning.
 */
export function liveQueryInput(kind: LiveKind, queries: string | undefined, vectors: string | undefined, warn: Warn = (m) => process.stderr.write(`${m}\n`)): string {
  if (kind === 'bm25') {
    if (vectors !== undefined) throw new UsageError('live search: a bm25 live index takes query texts (--queries), not --query-vectors', { field: 'query-vectors' });
    if (queries === undefined) throw new UsageError('live search: --queries is required for a bm25 live index', { field: 'queries' });
    return queries;
  }
  if (vectors !== undefined) {
    if (queries !== undefined) throw new UsageError('live search: give --query-vectors only', { field: 'queries' });
    return vectors;
  }
  if (queries === undefined) throw new UsageError(`live search: --query-vectors is required for a ${kind} live index`, { field: 'query-vectors' });
  warn(`live search: query vectors as --queries are deprecated, use --query-vectors (the old spelling goes in the next release)`);
  return queries;
}

const searchOptions = {
  dir: dirOpt,
  queries: { kind: 'string', help: 'bm25: query texts (BEIR queries.jsonl or qid\\ttext TSV)' },
  'query-vectors': { kind: 'string', help: 'sparse: query vectors (JSONL / .lsv); dense: .f32 shard (`lion encode --queries`)' },
  out: { kind: 'string', required: true, help: 'TREC run to write' },
  k: { kind: 'int', min: 1, default: DEFAULTS.search.k, help: 'hits per query' },
  k1: { kind: 'number', min: 0, default: DEFAULTS.bm25.k1, help: 'bm25: k1' },
  b: { kind: 'number', min: 0, max: 1, default: DEFAULTS.bm25.b, help: 'bm25: b' },
  tag: { kind: 'string', default: DEFAULTS.tags.live, help: 'run tag' },
} satisfies OptTable;

export const liveSearchCommand: Command = {
  name: 'live search',
  summary: 'search the last commit of a live index (read-only; a writer may be running)',
  usage: 'lion live search --dir app.live --queries queries.jsonl --k 100 --out run.trec   |   --query-vectors queries.lsv (sparse or dense)',
  options: searchOptions,
  async run(argv) {
    const o = parseArgs(argv, searchOptions, 'live search');
    const live = await LiveIndex.open(o.dir, { readOnly: true, bm25: { k1: o.k1, b: o.b } });
    const input = liveQueryInput(live.config.kind, o.queries as string | undefined, o['query-vectors'] as string | undefined);
    const qids: string[] = [];
    const qs: LiveQuery[] = [];
    if (live.config.kind === 'bm25') for (const q of await collect(readQueries(input))) { qids.push(q.id); qs.push({ text: q.text }); }
    else if (live.config.kind === 'sparse') for await (const q of readSparseVectors(input)) { qids.push(q.id); qs.push({ sparse: q.vec }); }
    else { const m = readDenseShards([input]); m.ids.forEach((id, r) => { qids.push(id); qs.push({ dense: m.data.slice(r * m.dim, (r + 1) * m.dim) }); }); }
    const t0 = performance.now();
    const hits = live.searchMany(qs, o.k);
    // Raw float32 scores, as `lion bm25 search` / `lion search` write them (the run file orders ties as they do).
    const run: Run = new Map(qids.map((q, i) => [q, hits[i]!]));
    await writeRun(o.out, run, { tag: o.tag });
    process.stderr.write(`live search: ${qids.length} queries over ${live.size} documents (${live.stats().segments.length} segments) in ${((performance.now() - t0) / 1000).toFixed(2)} s -> ${o.out}\n`);
    await live.close();
    return 0;
  },
};

const infoOptions = { dir: dirOpt } satisfies OptTable;

export const liveInfoCommand: Command = {
  name: 'live info',
  summary: 'print the segments, deletions and generation of a live index as JSON',
  usage: 'lion live info --dir app.live',
  options: infoOptions,
  async run(argv) {
    const o = parseArgs(argv, infoOptions, 'live info');
    const live = await LiveIndex.open(o.dir, { readOnly: true });
    process.stdout.write(`${JSON.stringify({ ...live.stats(), config: live.config }, null, 2)}\n`);
    await live.close();
    return 0;
  },
};
