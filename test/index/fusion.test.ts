import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuseRuns } from '../../src/index/fusion.js';
import type { Run } from '../../src/types.js';

const a: Run = new Map([['q1', [{ docid: 'x', score: 10 }, { docid: 'y', score: 8 }, { docid: 'z', score: 2 }]]]);
const b: Run = new Map([['q1', [{ docid: 'y', score: 0.9 }, { docid: 'w', score: 0.5 }]], ['q2', [{ docid: 'v', score: 1 }]]]);

test('reciprocal rank fusion sums w / (c + rank)', () => {
  const f = fuseRuns([a, b], { method: 'rrf', rrfK: 60 });
  const q1 = f.get('q1')!;
  assert.deepEqual(q1.map((h) => h.docid), ['y', 'x', 'w', 'z']);
  assert.equal(q1[0]!.score, 1 / 62 + 1 / 61);
  assert.equal(q1[1]!.score, 1 / 61);
  assert.equal(q1[2]!.score, 1 / 62);
  assert.equal(q1[3]!.score, 1 / 63);
  const tie = fuseRuns([new Map([['q', [{ docid: 'q', score: 1 }]]]), new Map([['q', [{ docid: 'p', score: 5 }]]])]).get('q')!;
  assert.deepEqual(tie.map((h) => h.docid), ['p', 'q'], 'tie broken by docid');
  assert.ok(tie[1]!.score < tie[0]!.score && tie[1]!.score > 1 / 61 - 1e-15, 'made strictly decreasing by the smallest step');
  assert.deepEqual(f.get('q2')!.map((h) => h.docid), ['v']);
});

test('weighted sums after min-max and z-score normalisation', () => {
  const mm = fuseRuns([a, b], { method: 'sum', norm: 'minmax', weights: [1, 2] }).get('q1')!;
  // a: x 1, y 0.75, z 0; b: y 1, w 0 (missing docs take the run minimum, 0)
  assert.deepEqual(mm.map((h) => [h.docid, h.score]), [['y', 2.75], ['x', 1], ['w', 0], ['z', nextBelow(0)]]);
  const z = fuseRuns([a], { method: 'sum', norm: 'zscore' }).get('q1')!;
  const mean = 20 / 3, sd = Math.sqrt(((10 - mean) ** 2 + (8 - mean) ** 2 + (2 - mean) ** 2) / 3);
  assert.equal(z[0]!.score, (10 - mean) / sd);
  for (let i = 1; i < mm.length; i++) assert.ok(mm[i]!.score < mm[i - 1]!.score);
});

function nextBelow(x: number): number {
  return x === 0 ? -Number.MIN_VALUE : x;
}

test('bad options are usage errors', () => {
  assert.throws(() => fuseRuns([a, b], { weights: [1] }), /2 runs/);
  assert.throws(() => fuseRuns([a], { method: 'max' as 'rrf' }), /rrf or sum/);
});
