import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../src/cli/main.js';
import { readTrainingFile } from '../../src/io/training.js';
import { mineNegatives } from '../../src/train/mine.js';
import type { Qrels, Run } from '../../src/types.js';
import { tempDir } from '../helpers.js';

const run: Run = new Map([
  ['q1', [{ docid: 'a', score: 1 }, { docid: 'p', score: 9 }, { docid: 'b', score: 5 }, { docid: 'c', score: 5 }, { docid: 'z', score: 7 }]],
  ['q2', [{ docid: 'x', score: 1 }]],
]);
const qrels: Qrels = new Map([
  ['q1', new Map([['p', 1], ['p2', 2], ['z', 0]])],
  ['q2', new Map([['y', 0]])],
  ['q3', new Map([['w', 1]])],
]);

test('negatives are the run in score order minus relevant documents; one example per positive', () => {
  const r = mineNegatives(run, qrels, new Map([['q1', 'first'], ['q2', 'second'], ['q3', 'third']]), { negatives: 3 });
  assert.deepEqual(r.examples.map((e) => [e.query, e.posId, e.negIds]), [
    ['first', 'p', ['z', 'c', 'b']], // z judged non-relevant stays a negative; tie 5/5 broken by docid descending
    ['first', 'p2', ['z', 'c', 'b']],
  ]);
  assert.equal(r.skipped, 2); // q2 has no positive, q3 no run
  assert.deepEqual(mineNegatives(run, qrels, new Map([['q1', 'first']]), { negatives: 9, skip: 2 }).examples[0]!.negIds, ['c', 'b', 'a']);
  assert.throws(() => mineNegatives(run, qrels, new Map(), { negatives: 0 }), /positive integer/);
});

test('a query whose hits are all relevant gives no example (the trainer needs a negative)', () => {
  const allRelevant: Run = new Map([['q1', [{ docid: 'p', score: 2 }, { docid: 'p2', score: 1 }]]]);
  const r = mineNegatives(allRelevant, qrels, new Map([['q1', 'first']]), { negatives: 3 });
  assert.deepEqual(r.examples, []);
  assert.equal(r.skipped, 3);
});

test('lion mine writes a CL training file the trainer reads', async () => {
  const d = tempDir();
  writeFileSync(join(d, 'run.trec'), 'q1 Q0 p 1 9 bm25\nq1 Q0 z 2 7 bm25\nq1 Q0 b 3 5 bm25\n');
  writeFileSync(join(d, 'qrels.txt'), 'q1 0 p 1\n');
  writeFileSync(join(d, 'queries.tsv'), 'q1\twhat is it\n');
  const code = await main(['mine', '--run', join(d, 'run.trec'), '--qrels', join(d, 'qrels.txt'), '--queries', join(d, 'queries.tsv'), '--out', join(d, 'train.jsonl')]);
  assert.equal(code, 0);
  const ex = [];
  for await (const e of readTrainingFile(join(d, 'train.jsonl'))) ex.push(e);
  assert.deepEqual(ex, [{ kind: 'cl', query: 'what is it', posId: 'p', negIds: ['z', 'b'] }]);
  assert.ok(readFileSync(join(d, 'train.jsonl'), 'utf8').endsWith('\n'));
});
