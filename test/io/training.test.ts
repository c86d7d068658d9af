import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readTrainingFile } from '../../src/io/training.js';
import { collect } from '../../src/io/corpus.js';
import { assertFormatError, fixtures, writeTemp } from '../helpers.js';

const io = join(fixtures, 'io');



test('CL: question, pos_pid, neg_pids (integer ids become strings)', async () => {
  assert.deepEqual(await collect(readTrainingFile(join(io, 'train-cl.jsonl'))), [
    { kind: 'cl', query: 'what is a', posId: '7', negIds: ['8', '9', '10'] },
    { kind: 'cl', query: 'what is b', posId: '8', negIds: ['7'] },
  ]);
});

test('CL+KD: aligned teacher scores; a CL reader may take a CL+KD file', async () => {
  const ex = await collect(readTrainingFile(join(io, 'train-clkd.jsonl')));
  assert.deepEqual(ex, [{ kind: 'clkd', query: 'what is a', posId: '7', negIds: ['8', '9'], posScore: 9.5, negScores: [1.25, -3] }]);
  const asCl = await collect(readTrainingFile(join(io, 'train-clkd.jsonl'), { kind: 'cl' }));
  assert.deepEqual(asCl, [{ kind: 'cl', query: 'what is a', posId: '7', negIds: ['8', '9'] }]);
});

test('KD: query, docids with the positive first, aligned scores', async () => {
  assert.deepEqual(await collect(readTrainingFile(join(io, 'train-kd.jsonl'))), [
    { kind: 'kd', query: 'what is a', docIds: ['7', '8', '9'], scores: [12, 3.5, -1] },
  ]);
});

test('validation errors name the file, the line and the field', async () => {
  const cl = '{"question": "q", "pos_pid": "1", "neg_pids": ["2"]}\n';
  const cases: Array<[string, number, RegExp]> = [
    [`${cl}{"question": "q", "pos_pid": "1", "neg_pids": []}\n`, 2, /"neg_pids": expected at least 1 negative/],
    ['{"question": "q", "neg_pids": ["2"]}\n', 1, /"pos_pid": expected an id \(field is missing\)/],
    ['{"question": 3, "pos_pid": "1", "neg_pids": ["2"]}\n', 1, /"question": expected a string/],
    ['{"question": "q", "pos_pid": "1", "neg_pids": "2"}\n', 1, /"neg_pids": expected a list of ids/],
    ['{"question": "q", "pos_pid": "1", "neg_pids": ["2", null]}\n', 1, /"neg_pids\[1\]"/],
    ['{"question": "q", "pos_pid": "1", "neg_pids": ["2", "3"], "pos_score": 1, "neg_scores": [0.5]}\n', 1, /"neg_scores": expected 2 scores aligned with neg_pids, got 1/],
    ['{"question": "q", "pos_pid": "1", "neg_pids": ["2"], "pos_score": "high", "neg_scores": [0.5]}\n', 1, /"pos_score": expected a finite number/],
    ['{"question": "q", "pos_pid": "1", "neg_pids": ["2"], "pos_score": 1, "neg_scores": ["x"]}\n', 1, /"neg_scores\[0\]": expected a finite number/],
    ['{"query": "q", "docids": ["1"], "scores": [1]}\n', 1, /"docids": expected at least 2 docids/],
    ['{"query": "q", "docids": ["1", "2"], "scores": [1]}\n', 1, /"scores": expected 2 scores aligned with docids, got 1/],
    ['{"query": "q", "docids": ["1", "2"]}\n', 1, /"scores": expected a list of numbers \(field is missing\)/],
    [`${cl}{"query": "q", "docids": ["1", "2"], "scores": [1, 0]}\n`, 2, /expected a CL \(question, pos_pid, neg_pids\) example like the rest of the file/],
    [`${cl}not json\n`, 2, /malformed JSON/],
  ];
  for (const [body, line, re] of cases) {
    const p = writeTemp(body, 'train.jsonl');
    await assertFormatError(collect(readTrainingFile(p)), p, line, re);
  }
  const p = writeTemp(cl, 'train.jsonl');
  await assertFormatError(collect(readTrainingFile(p, { kind: 'kd' })), p, 1, /expected a KD/);
});
