import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readQrels, readRun, readRunFile, writeRun } from '../../src/io/trec.js';
import { FormatError, UsageError } from '../../src/errors.js';
import type { Run } from '../../src/types.js';
import { assertFormatError, fixtures, tempDir, writeTemp } from '../helpers.js';


/** The promise rejects with a FormatError naming this file and line, and the message says what was expected. */

test('TREC qrels (0 or Q0 in the iteration column, tabs or spaces)', async () => {
  const q = await readQrels(writeTemp('q1 0 d1 2\nq1 Q0 d2 0\r\nq2\t0\td3\t1\n'));
  assert.deepEqual([...q.keys()], ['q1', 'q2']);
  assert.deepEqual([...q.get('q1')!], [['d1', 2], ['d2', 0]]);
  assert.equal(q.get('q2')!.get('d3'), 1);
});

test('BEIR qrels TSV with its header line (CRLF), and without one', async () => {
  const q = await readQrels(join(fixtures, 'eval', 'beir-qrels.tsv'));
  assert.deepEqual([...q.get('q1')!], [['d1', 1], ['q1', 1]]);
  const noHeader = await readQrels(writeTemp('1\t31715818\t1\n3\t14717500\t1\n'));
  assert.equal(noHeader.get('3')!.get('14717500'), 1);
});

test('qrels JSON {qid: {docid: grade}}', async () => {
  const q = await readQrels(writeTemp('{"q1": {"d1": 1, "d2": 0}}', 'qrels.json'));
  assert.equal(q.get('q1')!.get('d1'), 1);
  const bad = writeTemp('{"q1": {"d1": "high"}}', 'bad.json');
  await assertFormatError(readQrels(bad), bad, undefined, /integer grade/);
  const broken = writeTemp('{"q1": ', 'broken.json');
  await assertFormatError(readQrels(broken), broken, undefined, /malformed JSON/);
});

test('qrels errors name the file, the line and what was expected', async () => {
  let p = writeTemp('q1 0 d1 1\nq1 0 d2 high\n');
  await assertFormatError(readQrels(p), p, 2, /integer relevance grade, got 'high'/);
  p = writeTemp('q1 0 d1 1\nq1 0 d2\n');
  await assertFormatError(readQrels(p), p, 2, /expected 4 columns/);
  p = writeTemp('\nq1 d1\n');
  await assertFormatError(readQrels(p), p, 2, /4 columns\) or BEIR/);
  p = writeTemp('q1 0 d1 1\nq1 0 d1 2\n');
  await assertFormatError(readQrels(p), p, 2, /judged twice with different grades/);
  p = writeTemp('q1 0 d1 1.5\n');
  await assertFormatError(readQrels(p), p, 1, /integer relevance grade/);
  assert.equal((await readQrels(writeTemp('q1 0 d1 1\nq1 0 d1 1\n'))).get('q1')!.size, 1); // an identical repeat is harmless
});

test('runs: 6 columns with the tag, 3 columns, JSON; the rank column is ignored', async () => {
  const six = await readRunFile(join(fixtures, 'eval', 'run.trec'));
  assert.equal(six.tag, 'tiny');
  assert.equal(six.format, 'trec');
  assert.deepEqual(six.run.get('q1')!.map((h) => h.docid), ['d3', 'd1', 'd9', 'd2']);
  const three = await readRunFile(join(fixtures, 'eval', 'run3.txt'));
  assert.equal(three.format, 'trec3');
  assert.deepEqual(three.run, six.run);
  const json = await readRun(writeTemp('{"q1": {"d1": 2.5, "d2": -1}}', 'run.json'));
  assert.deepEqual(json.get('q1'), [{ docid: 'd1', score: 2.5 }, { docid: 'd2', score: -1 }]);
});

test('run errors: duplicate docid, non-numeric score, wrong column counts', async () => {
  let p = writeTemp('q1 Q0 d1 1 2.0 t\nq1 Q0 d2 2 1.0 t\nq1 Q0 d1 3 0.5 t\n');
  await assertFormatError(readRun(p), p, 3, /duplicate docid d1 for query q1 \(first seen on line 1\)/);
  p = writeTemp('q1 Q0 d1 1 high t\n');
  await assertFormatError(readRun(p), p, 1, /numeric score, got 'high'/);
  p = writeTemp('q1 d1 0.5\nq1 Q0 d2 2 0.4 t\n');
  await assertFormatError(readRun(p), p, 2, /expected 3 columns 'qid docid score'/);
  p = writeTemp('q1 Q0 d1 1 0.5\n');
  await assertFormatError(readRun(p), p, 1, /6 columns\) or 'qid docid score' \(3 columns\), got 5/);
  p = writeTemp('{"q1": {"d1": "x"}}', 'r.json');
  await assertFormatError(readRun(p), p, undefined, /finite score/);
  assert.equal((await readRun(writeTemp('q1 Q0 d1 1 1 t\nq2 Q0 d1 1 1 t\n'))).size, 2); // same docid, other query: fine
});

test('writeRun sorts as trec_eval does, ranks 1..n, round-trips, and is atomic', async () => {
  const d = tempDir();
  const run: Run = new Map([
    ['q2', [{ docid: 'a', score: 1 }, { docid: 'c', score: 3 }, { docid: 'b', score: 3 }]],
    ['q1', [{ docid: 'x', score: 0.1 + 0.2 }]],
  ]);
  const p = join(d, 'out', 'run.trec');
  await writeRun(p, run, { tag: 'mine' });
  assert.equal(readFileSync(p, 'utf8'), 'q2 Q0 c 1 3 mine\nq2 Q0 b 2 3 mine\nq2 Q0 a 3 1 mine\nq1 Q0 x 1 0.30000000000000004 mine\n');
  const back = await readRunFile(p);
  assert.equal(back.tag, 'mine');
  assert.equal(back.run.get('q1')![0]!.score, 0.1 + 0.2);
  await writeRun(p, run, { k: 1 });
  assert.equal(readFileSync(p, 'utf8'), 'q2 Q0 c 1 3 lion\nq1 Q0 x 1 0.30000000000000004 lion\n');
  await assert.rejects(writeRun(p, run, { tag: 'two words' }), UsageError);
  await assert.rejects(writeRun(p, new Map([['q', [{ docid: 'd', score: NaN }]]])), UsageError);
  await assert.rejects(writeRun(p, new Map([['q', [{ docid: 'd', score: 1 }, { docid: 'e', score: 2 }, { docid: 'd', score: 3 }]]])), /appears twice/);
  assert.equal(readFileSync(p, 'utf8'), 'q2 Q0 c 1 3 lion\nq1 Q0 x 1 0.30000000000000004 lion\n'); // untouched
});
