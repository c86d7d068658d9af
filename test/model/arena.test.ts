/** The arena: layout order, 64-byte alignment, views that share one buffer, zeroing, and misuse. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Arena, numel } from '../../src/model/arena.js';

test('tensors are aligned views of one zeroed buffer, in declaration order', () => {
  const a = new Arena([{ name: 'w', shape: [3, 5] }, { name: 'b', shape: [7] }, { name: 's', shape: [] }]);
  assert.equal(a.get('w').length, 15);
  assert.equal(a.get('s').length, 1);
  assert.deepEqual(a.names(), ['w', 'b', 's']);
  for (const n of a.names()) {
    assert.equal(a.get(n).buffer, a.data.buffer);
    assert.equal(a.get(n).byteOffset % 64, 0, `${n} aligned`);
  }
  assert.ok(a.data.every((x) => x === 0));
  a.get('w').fill(1); a.get('b').fill(2);
  assert.equal(a.get('b')[0], 2);
  assert.equal(a.get('w').reduce((x, y) => x + y, 0), 15, 'no overlap');
  a.zero((n) => n === 'w');
  assert.equal(a.get('w')[14], 0);
  assert.equal(a.get('b')[6], 2);
  assert.equal(a.prefix('b', 3).length, 3);
  assert.deepEqual(a.shape('w'), [3, 5]);
  assert.equal(a.bytes, (16 + 16 + 16) * 4);
  assert.equal(numel([2, 3, 4]), 24);
  assert.throws(() => a.get('nope'), /no tensor named nope/);
  assert.throws(() => a.prefix('b', 8), /holds 7/);
  assert.throws(() => new Arena([{ name: 'x', shape: [1] }, { name: 'x', shape: [2] }]), /twice/);
  assert.throws(() => new Arena([{ name: 'x', shape: [-1] }]), /bad shape/);
});
