/**
 * Dropout as a kernel: the `ref` oracle draws the same masks as before it was a kernel (a pinned stream), the
 * native backend draws bit-identical masks from the same seed and applies them as ref does, and LoRA's mask is
 * a function of the generator state only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNative } from '../../src/kernels/native.js';
import { ref } from '../../src/kernels/ref/index.js';
import type { Kernels } from '../../src/kernels/types.js';
import { fillDropoutMask } from '../../src/model/lora.js';
import { Rng } from '../../src/util/rng.js';

let nat: Kernels | undefined;
let why: string | false = false;
try { nat = loadNative(); } catch (e) { why = `native backend unavailable: ${(e as Error).message}`; }

test('ref: the mask stream is pinned (the masks LoRA drew before dropout was a kernel) and seeded by the Rng', () => {
  const m = new Uint8Array(64);
  const r = new Rng(9);
  fillDropoutMask(ref, m, 0.3, r);
  assert.equal(Buffer.from(m).toString('hex'),
    '01010101010101000000000101010100010101010100010100010001000001010101010100010101010000010100000101010001010101010101010100010101');
  assert.equal(r.u32(), 3884128152, 'four words drawn from the generator');
  const all = new Uint8Array(1000);
  ref.dropoutMask(all, 0, Uint32Array.of(1, 2, 3, 4), all.length);
  assert.ok(all.every((x) => x === 1), 'p = 0 keeps everything');
});

test('native: the same masks from the same seeds, at every p and length', { skip: why }, () => {
  const k = nat!;
  const r = new Rng(123);
  for (const [p, n] of [[0.05, 1], [0.1, 7], [0.3, 1000], [0.5, 65_537], [0.999, 4096], [0, 33]] as const) {
    const seed = Uint32Array.of(r.u32(), r.u32(), r.u32(), r.u32());
    const a = new Uint8Array(n), b = new Uint8Array(n);
    ref.dropoutMask(a, p, seed, n);
    k.dropoutMask(b, p, seed, n);
    assert.deepEqual(b, a, `p=${p} n=${n}`);
  }
  const zero = new Uint8Array(10_000);
  k.dropoutMask(zero, 0.2, new Uint32Array(4), zero.length); // an all-zero seed still draws (seed[0] | 1)
  const dropped = zero.reduce((s, x) => s + (x ? 0 : 1), 0) / zero.length;
  assert.ok(Math.abs(dropped - 0.2) < 0.02, `dropped ${dropped}`);
});

test('native: dropoutForward equals ref exactly; dropoutBackward accumulates as ref does', { skip: why }, () => {
  const k = nat!;
  const r = new Rng(5);
  for (const n of [1, 15, 4099, 300_001]) {
    const x = Float32Array.from({ length: n }, () => r.normal());
    const dy = Float32Array.from({ length: n }, () => r.normal());
    const mask = new Uint8Array(n);
    ref.dropoutMask(mask, 0.1, Uint32Array.of(n, 2, 3, 4), n);
    const scale = 1 / (1 - 0.1);
    const a = new Float32Array(n), b = new Float32Array(n);
    ref.dropoutForward(a, x, mask, scale, n);
    k.dropoutForward(b, x, mask, scale, n);
    assert.deepEqual(b, a, `forward n=${n}`);
    const dxa = Float32Array.from(x), dxb = Float32Array.from(x);
    ref.dropoutBackward(dxa, dy, mask, scale, n);
    k.dropoutBackward(dxb, dy, mask, scale, n);
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(dxa[i]! - dxb[i]!) <= 1e-6 * Math.max(1, Math.abs(dxa[i]!)), `backward n=${n} [${i}]: ${dxb[i]} vs ${dxa[i]}`);
      if (!mask[i]) assert.equal(dxb[i], x[i], 'dropped elements get no gradient');
    }
  }
});

test('native: bad arguments are RangeErrors naming the kernel', { skip: why }, () => {
  const k = nat!;
  assert.throws(() => k.dropoutMask(new Uint8Array(4), 0.1, new Uint32Array(3), 4), /dropoutMask: argument 2 has 3 elements, needs 4/);
  assert.throws(() => k.dropoutMask(new Uint8Array(4), 1.5, new Uint32Array(4), 4), /dropoutMask: argument 1 \(p\) must be in \[0, 1\]/);
  assert.throws(() => k.dropoutForward(new Float32Array(4), new Float32Array(4), new Uint8Array(3), 2, 4), /dropoutForward: argument 2 has 3 elements/);
  assert.throws(() => k.dropoutBackward(new Float32Array(4), new Float32Array(2), new Uint8Array(4), 2, 4), /dropoutBackward: argument 1 has 2 elements/);
});
