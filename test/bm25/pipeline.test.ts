/** File-to-file stages and the `lion bm25 index` / `lion bm25 search` commands on Cranfield. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { indexCorpusFile, searchIndexFile } from '../../src/bm25/pipeline.js';
import { readBm25Index } from '../../src/bm25/format.js';
import { readRun } from '../../src/io/trec.js';
import { main } from '../../src/cli/main.js';
import { fixtures, tempDir } from '../helpers.js';

const cran = join(fixtures, 'cranfield');

test('index a corpus file, search a queries file, get a TREC run and its configuration', async () => {
  const dir = tempDir();
  const ix = join(dir, 'cran.lbm25');
  const built = await indexCorpusFile(join(cran, 'corpus.jsonl'), ix, { progress: false });
  assert.equal(built.numDocs, 1400);
  assert.equal((await readBm25Index(ix)).meta.source, join(cran, 'corpus.jsonl'));
  const out = join(dir, 'run.trec');
  const r = await searchIndexFile(ix, join(cran, 'queries.jsonl'), out, { k: 20, progress: false });
  assert.equal(r.queries, 225);
  const run = await readRun(out);
  assert.equal(run.size, 225);
  for (const hits of run.values()) assert.ok(hits.length <= 20);
  assert.equal(run.get('1')!.length, 20);
  const cfg = JSON.parse(await fsp.readFile(`${out}.json`, 'utf8'));
  assert.deepEqual([cfg.k, cfg.k1, cfg.b, cfg.exactLengths, cfg.numQueries], [20, 0.9, 0.4, false, 225]);
});

test('the CLI runs both commands, and reports bad input as a coded error', async () => {
  const dir = tempDir();
  const ix = join(dir, 'cran.lbm25');
  const out = join(dir, 'run.trec');
  const write = process.stderr.write;
  const err: string[] = [];
  process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  try {
    assert.equal(await main(['bm25', 'index', '--corpus', cran, '--out', ix]), 0);
    assert.equal(await main(['bm25', 'search', '--index', ix, '--queries', join(cran, 'queries.jsonl'), '--k', '5', '--out', out, '--k1', '1.2', '--b', '0.75']), 0);
    assert.equal(await main(['bm25', 'search', '--index', join(cran, 'queries.jsonl'), '--queries', join(cran, 'queries.jsonl'), '--out', join(dir, 'x')]), 2);
    assert.equal(await main(['bm25', 'search', '--index', ix, '--queries', cran, '--out', out, '--b', '2']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.ok(err.some((l) => l.includes('E_ARTIFACT') && l.includes('not a Lion BM25 index')), err.join(''));
  assert.ok(err.some((l) => l.includes('E_USAGE')), err.join(''));
  const run = await readRun(out);
  assert.equal(run.get('1')!.length, 5);
  assert.equal(JSON.parse(await fsp.readFile(`${out}.json`, 'utf8')).k1, 1.2);
});

test('MS MARCO-style TSV corpus and topics work the same way', async () => {
  const dir = tempDir();
  const corpus = join(dir, 'collection.tsv');
  const topics = join(dir, 'topics.tsv');
  await fsp.writeFile(corpus, '0\tThe cat sat on the mat.\r\n1\tDogs chase cats.\n2\tNothing here\n');
  await fsp.writeFile(topics, '101\tcats\n102\tmats and dogs\n');
  const ix = join(dir, 'c.lbm25');
  assert.equal((await indexCorpusFile(corpus, ix, { progress: false })).numDocs, 3);
  const out = join(dir, 'run.trec');
  await searchIndexFile(ix, topics, out, { k: 10, progress: false });
  const run = await readRun(out);
  assert.deepEqual(run.get('101')!.map((h) => h.docid).sort(), ['0', '1']);
  assert.deepEqual(run.get('102')!.map((h) => h.docid).sort(), ['0', '1']);
});
