import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rrf } from '../../src/server/fusion.js';

test('RRF sums 1/(c + rank) over the lists that contain a document', () => {
  const a = [{ docid: 'x', score: 9 }, { docid: 'y', score: 5 }, { docid: 'z', score: 1 }];
  const b = [{ docid: 'z', score: 0.9 }, { docid: 'x', score: 0.8 }];
  const f = rrf([a, b], 10, 60);
  assert.deepEqual(f.map((h) => h.docid), ['x', 'z', 'y']);
  assert.equal(f[0]!.score, 1 / 61 + 1 / 62);
  assert.deepEqual(f[0]!.ranks, [1, 2]);
  assert.deepEqual(f[2]!.ranks, [2, null]);
  assert.equal(rrf([a, b], 2).length, 2);
  assert.deepEqual(rrf([], 5), []);
});

test('ties are broken by docid so the fused list is deterministic', () => {
  const f = rrf([[{ docid: 'b', score: 1 }], [{ docid: 'a', score: 1 }]], 10);
  assert.deepEqual(f.map((h) => h.docid), ['a', 'b']);
});
