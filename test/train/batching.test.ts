import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import type { TrainingExample } from '../../src/io/training.js';
import {
  loadPassages, loadPassageTokens, loadTrainingSet, microBatch, microBatchesPerEpoch, referencedIds, sampleExample, validateTrainingSet,
} from '../../src/train/batching.js';
import { tempDir } from '../helpers.js';

const clkd = (q: number, negs: number): TrainingExample => ({
  kind: 'clkd', query: `q${q}`, posId: `p${q}`, negIds: Array.from({ length: negs }, (_, k) => `n${q}-${k}`),
  posScore: 10 + q, negScores: Array.from({ length: negs }, (_, k) => k),
});

test('invalid combinations are rejected before any work', () => {
  const cl: TrainingExample = { kind: 'cl', query: 'q', posId: 'p', negIds: ['a', 'b'] };
  assert.throws(() => validateTrainingSet([cl], 'kd', 1, 'train.jsonl'), /KD needs teacher scores/);
  assert.throws(() => validateTrainingSet([cl], 'cl+kd', 1, 'train.jsonl'), /CL\+KD needs teacher scores/);
  assert.throws(() => validateTrainingSet([cl], 'cl', 3, 'train.jsonl'), /has 2 negatives, fewer than the 3/);
  assert.throws(() => validateTrainingSet([], 'cl', 1), /no training examples/);
  validateTrainingSet([cl], 'cl', 2);
  validateTrainingSet([clkd(0, 4)], 'cl', 4); // CL may read a CL+KD file
  const kd: TrainingExample = { kind: 'kd', query: 'q', docIds: ['p', 'x'], scores: [3, 1] };
  validateTrainingSet([kd], 'kd', 16); // KD always uses one negative
  assert.throws(() => validateTrainingSet([kd], 'cl', 1), /KD file/);
});

test('negatives are sampled without replacement, aligned with their teacher scores, and reproducibly', () => {
  const ex = clkd(3, 20);
  const s = sampleExample(ex, 16, 45, 0, 3);
  assert.equal(s.docIds[0], 'p3');
  assert.equal(new Set(s.docIds).size, 17);
  assert.equal(s.teacher![0], 13);
  s.docIds.slice(1).forEach((d, k) => assert.equal(s.teacher![k + 1], Number(d.split('-')[1])));
  assert.deepEqual(sampleExample(ex, 16, 45, 0, 3), s);
  assert.notDeepEqual(sampleExample(ex, 16, 45, 1, 3).docIds, s.docIds); // a new draw every epoch
  const kd = sampleExample({ kind: 'kd', query: 'q', docIds: ['p', 'a', 'b', 'c'], scores: [9, 1, 2, 3] }, 1, 1, 0, 0);
  assert.equal(kd.docIds[0], 'p');
  assert.equal(kd.teacher![1], { a: 1, b: 2, c: 3 }[kd.docIds[1]!]);
});

test('micro-batches follow the loss layout and cover each epoch once', () => {
  const examples = Array.from({ length: 7 }, (_, q) => clkd(q, 5));
  const plan = { examples: 7, batchSize: 3, n: 2, seed: 45 };
  assert.equal(microBatchesPerEpoch(plan), 2);
  const b0 = microBatch(examples, plan, 0), b1 = microBatch(examples, plan, 1), b2 = microBatch(examples, plan, 2);
  assert.equal(b0.contextIds.length, 9);
  b0.queries.forEach((q, i) => {
    assert.equal(b0.contextIds[i], `p${q.slice(1)}`);
    for (const j of [0, 1]) assert.ok(b0.contextIds[3 + 2 * i + j]!.startsWith(`n${q.slice(1)}-`));
  });
  assert.equal(new Set([...b0.queries, ...b1.queries]).size, 6);
  assert.equal(b2.epoch, 1);
  assert.equal(b0.teacher!.length, 9);
  assert.deepEqual(microBatch(examples, plan, 1), b1);
  assert.throws(() => microBatchesPerEpoch({ ...plan, batchSize: 8 }), /larger than/);
});

test('training files and passages load from disk; missing passages are named', async () => {
  const d = tempDir();
  const train = join(d, 'train.jsonl');
  writeFileSync(train, `${JSON.stringify({ question: 'what', pos_pid: 1, neg_pids: ['2', '3'] })}\n`);
  const corpus = join(d, 'corpus.tsv');
  writeFileSync(corpus, '1\tone\n2\ttwo\n3\tthree\n4\tfour\n');
  const ex = await loadTrainingSet(train, 'cl', 2);
  const texts = await loadPassages(corpus, referencedIds(ex));
  assert.deepEqual([...texts.entries()].sort(), [['1', 'one'], ['2', 'two'], ['3', 'three']]);
  await assert.rejects(loadTrainingSet(train, 'kd', 1), /KD needs teacher scores/);
  await assert.rejects(loadPassages(corpus, new Set(['1', '9'])), /not in the corpus \(first: 9\)/);
  const toks = await loadPassageTokens(corpus, referencedIds(ex), (t) => [0, ...Array.from(t, (c) => c.charCodeAt(0))], 3);
  assert.deepEqual(Array.from(toks.get('3')!), [0, 116, 104]);
  assert.equal(toks.size, 3);
  await assert.rejects(loadPassageTokens(corpus, new Set(['7']), () => [1], 4), /not in the corpus \(first: 7\)/);
});
