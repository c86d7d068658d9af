import { strict as assert } from 'node:assert';
import test from 'node:test';
import { Rng } from '../../src/util/rng.js';

test('the same seed gives the same stream; the state round-trips', () => {
  const a = new Rng(45), b = new Rng(45);
  const xs = Array.from({ length: 5 }, () => a.u32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.u32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => new Rng(46).u32()));
  const saved = a.state();
  const next = [a.u32(), a.u32()];
  const c = Rng.fromState(saved);
  assert.deepEqual([c.u32(), c.u32()], next);
});

test('int is uniform enough and in range; sample draws distinct indices', () => {
  const r = new Rng(1);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 20000; i++) counts[r.int(10)]++;
  for (const c of counts) assert.ok(c > 1800 && c < 2200, `bucket ${c}`);
  const s = r.sample(20, 16);
  assert.equal(new Set(s).size, 16);
  assert.ok(s.every((x) => x >= 0 && x < 20));
  assert.throws(() => r.sample(3, 4), /without replacement/);
  const f = Array.from({ length: 1000 }, () => r.float());
  assert.ok(f.every((x) => x >= 0 && x < 1));
});

test('derived streams depend on every key', () => {
  const x = Rng.derive(7, 1, 2).u32();
  assert.equal(x, Rng.derive(7, 1, 2).u32());
  assert.notEqual(x, Rng.derive(7, 2, 1).u32());
  assert.notEqual(x, Rng.derive(8, 1, 2).u32());
  const p = new Rng(3).permutation(50);
  assert.deepEqual(Array.from(p).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
});
