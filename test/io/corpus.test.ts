import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { collect, docText, readCorpus, readQueries } from '../../src/io/corpus.js';
import { detectTextFormat } from '../../src/io/sniff.js';
import { readTriples } from '../../src/io/msmarco.js';
import { NotFoundError } from '../../src/errors.js';
import { assertFormatError, fixtures, tempDir, writeTemp } from '../helpers.js';

const io = join(fixtures, 'io');



test('BEIR corpus.jsonl keeps titles (empty ones too); docText is title + " " + text', async () => {
  const docs = await collect(readCorpus(join(io, 'corpus.jsonl')));
  assert.deepEqual(docs, [
    { id: 'd1', title: 'Alpha', text: 'first doc' },
    { id: 'd2', title: '', text: 'no title' },
    { id: '3', text: 'numeric id, no title' },
  ]);
  assert.deepEqual(docs.map(docText), ['Alpha first doc', ' no title', 'numeric id, no title']);
});

test('MS MARCO collection TSV: split at the first tab, no title, text kept raw', async () => {
  const docs = await collect(readCorpus(join(io, 'collection.tsv')));
  assert.deepEqual(docs, [{ id: '7', text: 'passage seven' }, { id: '8', text: 'passage\twith a tab' }, { id: '9', text: '' }]);
  assert.equal(docText(docs[0]!), 'passage seven');
});

test('queries: BEIR JSONL, TREC/MS MARCO topics TSV (leading space kept), a BEIR folder', async () => {
  assert.deepEqual(await collect(readQueries(join(io, 'queries.jsonl'))), [{ id: 'q1', text: 'what is alpha' }, { id: 'q2', text: 'beta' }]);
  const topics = await collect(readQueries(join(io, 'topics.tsv')));
  assert.deepEqual(topics[1], { id: '2', text: ' Androgen receptor define' });
  const cran = await collect(readQueries(join(fixtures, 'cranfield')));
  assert.ok(cran.length > 100);
  let n = 0;
  for await (const d of readCorpus(join(fixtures, 'cranfield'))) { assert.equal(typeof d.title, 'string'); n++; }
  assert.equal(n, 1400);
});

test('format detection by extension, else by the first non-blank line', async () => {
  assert.equal(await detectTextFormat(writeTemp('{"_id": "1", "text": "x"}\n', 'docs')), 'jsonl');
  assert.equal(await detectTextFormat(writeTemp('\n1\tx\n', 'docs')), 'tsv');
  assert.equal(await detectTextFormat('whatever.jsonl.gz'), 'jsonl');
  assert.equal(await detectTextFormat('whatever.tsv'), 'tsv');
  assert.deepEqual(await collect(readCorpus(writeTemp('{"id": "p1", "contents": "pyserini form"}\n', 'docs'))), [{ id: 'p1', text: 'pyserini form' }]);
});

test('corpus and query errors name the file, the line and what was expected', async () => {
  let p = writeTemp('{"_id": "1", "text": "ok"}\n{"_id": "2", "text": \n', 'c.jsonl');
  await assertFormatError(collect(readCorpus(p)), p, 2, /malformed JSON/);
  p = writeTemp('{"_id": "1", "title": "t"}\n', 'c.jsonl');
  await assertFormatError(collect(readCorpus(p)), p, 1, /field "text": expected a string \(field is missing\)/);
  p = writeTemp('{"text": "no id"}\n', 'c.jsonl');
  await assertFormatError(collect(readCorpus(p)), p, 1, /field "_id"/);
  p = writeTemp('{"_id": "1", "text": "x", "title": 5}\n', 'c.jsonl');
  await assertFormatError(collect(readCorpus(p)), p, 1, /field "title": expected a string/);
  p = writeTemp('[1, 2]\n', 'c.jsonl');
  await assertFormatError(collect(readCorpus(p)), p, 1, /expected a JSON object/);
  p = writeTemp('1\tok\nno tab here\n', 'c.tsv');
  await assertFormatError(collect(readCorpus(p)), p, 2, /expected 'pid\\ttext' \(no tab/);
  p = writeTemp('\tno id\n', 'q.tsv');
  await assertFormatError(collect(readQueries(p)), p, 1, /non-empty id/);
  await assert.rejects(collect(readCorpus(join(tempDir(), 'missing.jsonl'))), NotFoundError);
  await assert.rejects(collect(readCorpus(tempDir())), NotFoundError); // a folder without corpus.jsonl
});

test('MS MARCO training triples', async () => {
  assert.deepEqual(await collect(readTriples(join(io, 'triples.tsv'))), [{ query: 'what is a', positive: 'A is a letter.', negative: 'B is a letter.' }]);
  const p = writeTemp('q\tpos only\n', 't.tsv');
  await assertFormatError(collect(readTriples(p)), p, 1, /expected 3 tab-separated fields/);
});
