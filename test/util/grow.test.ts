import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrowF32, GrowU32, GrowU8 } from '../../src/util/grow.js';

test('growable buffers keep every pushed and appended element in order across growth', () => {
  const u = new GrowU32(1);
  const want: number[] = [];
  for (let i = 0; i < 5000; i++) {
    if (i % 7 === 0) { const x = [i, i + 1, i + 2]; u.append(Uint32Array.from(x)); want.push(...x); } else { u.push(i); want.push(i); }
  }
  assert.equal(u.length, want.length);
  assert.deepEqual([...u.view()], want);
  const copy = u.toArray();
  assert.notEqual(copy.buffer, u.data.buffer);
  assert.deepEqual([...copy], want);
});

test('each element type stores its own kind; a large append grows at once', () => {
  const f = new GrowF32(2);
  f.append(new Float32Array(1000).fill(0.5));
  f.push(-1.25);
  assert.equal(f.length, 1001);
  assert.ok(f.data.length >= 1001);
  assert.equal(f.view()[1000], -1.25);
  const b = new GrowU8();
  b.append(new TextEncoder().encode('héllo'));
  b.push(300); // wraps as a Uint8Array does
  assert.deepEqual([...b.toArray()], [...new TextEncoder().encode('héllo'), 44]);
  assert.ok(f.view() instanceof Float32Array && b.view() instanceof Uint8Array);
});
