/**
 * safetensors: round trips in F32, F16 and BF16 (including rounding, subnormals and specials), reading
 * straight into a destination view, sharded checkpoints through model.safetensors.index.json, and the
 * errors for a bad header, an unknown dtype, a wrong destination size and a missing shard tensor.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import {
  floatToBf16, floatToHalf, openCheckpoint, readSafetensorsHeader, readTensor, readTensorBf16Into, readTensorChunks, readTensorInto, writeSafetensors,
} from '../../src/io/safetensors.js';
import { fixtures, tempDir } from '../helpers.js';

const values = Float32Array.from([0, -0, 1, -2.5, 3.140625, 65504, 1e-5, -6.1e-5, 1 / 3, 1e30, -Infinity, 123.456]);

test('F32 round trip is exact; F16 and BF16 round to nearest even', async () => {
  const dir = tempDir();
  const file = join(dir, 'x.safetensors');
  await writeSafetensors(file, [
    { name: 'a', shape: [3, 4], data: values },
    { name: 'h', shape: [12], data: values, dtype: 'F16' },
    { name: 'b', shape: [2, 6], data: values, dtype: 'BF16' },
    { name: 'empty', shape: [0, 3], data: new Float32Array(0) },
  ], { format: 'pt', note: 'test' });
  const h = readSafetensorsHeader(file);
  assert.deepEqual([...h.tensors.keys()], ['a', 'h', 'b', 'empty']);
  assert.equal(h.metadata['note'], 'test');
  assert.deepEqual(h.tensors.get('b')!.shape, [2, 6]);
  assert.deepEqual(readTensor(h.tensors.get('a')!), values);
  const half = readTensor(h.tensors.get('h')!);
  const bf = readTensor(h.tensors.get('b')!);
  assert.equal(half[2], 1); assert.equal(half[3], -2.5); assert.equal(half[5], 65504);
  assert.equal(half[9], Infinity, '1e30 overflows half');
  assert.equal(half[10], -Infinity);
  assert.ok(Math.abs(half[6]! - 1e-5) < 1e-7, 'half subnormal');
  assert.ok(Math.abs(half[8]! - 1 / 3) < 1e-3);
  assert.equal(bf[4], 3.140625, 'bf16 holds 3.140625 exactly');
  assert.ok(Math.abs(bf[9]! - 1e30) / 1e30 < 4e-3);
  assert.ok(Math.abs(bf[11]! - 123.456) < 0.5);
  // nearest-even: 1 + 2^-8 is halfway between two bf16 values and rounds to 1
  assert.equal(floatToBf16(1 + 2 ** -8), 0x3f80);
  assert.equal(floatToBf16(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00);
  assert.equal(floatToHalf(NaN) & 0x7c00, 0x7c00);
  assert.equal(readTensor(h.tensors.get('empty')!).length, 0);
  // the header is 8-byte aligned, as the reference writer pads it
  const n = Number(readFileSync(file).readBigUInt64LE(0));
  assert.equal(n % 8, 0);
});

test('readTensorInto fills a view of a larger buffer and checks its size', async () => {
  const dir = tempDir();
  const file = join(dir, 'x.safetensors');
  await writeSafetensors(file, [{ name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]), dtype: 'BF16' }]);
  const info = readSafetensorsHeader(file).tensors.get('w')!;
  const big = new Float32Array(10).fill(9);
  readTensorInto(info, big.subarray(2, 8));
  assert.deepEqual([...big], [9, 9, 1, 2, 3, 4, 5, 6, 9, 9]);
  assert.throws(() => readTensorInto(info, new Float32Array(5)),
    (e) => isLionError(e) && e.code === 'E_MODEL' && /tensor w/.test(e.message) && e.file === file);
});

test('sharded checkpoint: the index joins both shards (golden Qwen2)', () => {
  const ck = openCheckpoint(join(fixtures, 'golden', 'qwen2'));
  assert.equal(ck.files.length, 2);
  assert.ok(ck.tensors.has('model.embed_tokens.weight'));
  assert.ok(ck.tensors.has('lm_head.weight'));
  assert.ok(ck.files[0]!.endsWith('model-00001-of-00002.safetensors'));
  const q = ck.tensors.get('model.layers.0.self_attn.q_proj.bias')!;
  assert.equal(q.dtype, 'BF16');
  assert.deepEqual(q.shape, [64]);
});

test('errors name the tensor and the file: unknown dtype, bad offsets, bad header, missing shard tensor', async () => {
  const dir = tempDir();
  const mk = (hdr: object, data: number) => {
    const h = Buffer.from(JSON.stringify(hdr));
    const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, Buffer.alloc(data)]);
  };
  const f1 = join(dir, 'int.safetensors');
  writeFileSync(f1, mk({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, 16));
  const info = readSafetensorsHeader(f1).tensors.get('ids')!;
  assert.throws(() => readTensor(info), (e) => isLionError(e) && e.code === 'E_MODEL' && /ids/.test(e.message) && /I64/.test(e.message) && e.file === f1);
  const f2 = join(dir, 'off.safetensors');
  writeFileSync(f2, mk({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8));
  assert.throws(() => readSafetensorsHeader(f2), (e) => isLionError(e) && e.code === 'E_ARTIFACT' && /tensor w/.test(e.message) && e.file === f2);
  const f3 = join(dir, 'size.safetensors');
  writeFileSync(f3, mk({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, 16));
  assert.throws(() => readTensor(readSafetensorsHeader(f3).tensors.get('w')!), (e) => isLionError(e) && /tensor w/.test(e.message));
  const f4 = join(dir, 'junk.safetensors');
  writeFileSync(f4, 'not a safetensors file at all');
  assert.throws(() => readSafetensorsHeader(f4), (e) => isLionError(e) && e.code === 'E_ARTIFACT' && e.file === f4);
  assert.throws(() => openCheckpoint(join(dir, 'nothing-here')), (e) => isLionError(e) && e.code === 'E_NOT_FOUND');
  // an index that lists a tensor its shard lacks
  const sh = join(dir, 'sharded');
  await writeSafetensors(join(sh, 'a.safetensors'), [{ name: 'x', shape: [1], data: new Float32Array(1) }]);
  writeFileSync(join(sh, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }));
  assert.throws(() => openCheckpoint(sh), (e) => isLionError(e) && e.code === 'E_MODEL' && /tensor y/.test(e.message) && /a\.safetensors/.test(e.file ?? ''));
});

test('bfloat16 destinations: BF16 bytes land unchanged, F16/F32/F64 round to nearest even, raw bits write back as BF16', async () => {
  const dir = tempDir();
  const file = join(dir, 'x.safetensors');
  const bits = Uint16Array.from(values, floatToBf16);
  await writeSafetensors(file, [
    { name: 'b', shape: [12], data: bits }, // raw bf16 bits
    { name: 'h', shape: [12], data: values, dtype: 'F16' },
    { name: 'f', shape: [12], data: values },
  ]);
  const h = readSafetensorsHeader(file);
  assert.equal(h.tensors.get('b')!.dtype, 'BF16');
  const got = new Uint16Array(12);
  readTensorBf16Into(h.tensors.get('b')!, got);
  assert.deepEqual(got, bits);
  readTensorBf16Into(h.tensors.get('f')!, got);
  assert.deepEqual(got, bits, 'F32 → bf16 as floatToBf16');
  const halves = readTensor(h.tensors.get('h')!); // the F16 values, widened exactly
  readTensorBf16Into(h.tensors.get('h')!, got);
  assert.deepEqual(got, Uint16Array.from(halves, floatToBf16), 'F16 → bf16 rounds the half value once');
  assert.equal(got[9], 0x7f80, '1e30 overflowed the half to +Inf, which stays +Inf');
  const wide = readTensor(h.tensors.get('b')!);
  assert.deepEqual(Uint16Array.from(wide, floatToBf16), bits, 'widening bf16 to f32 is exact');
  assert.throws(() => readTensorBf16Into(h.tensors.get('b')!, new Uint16Array(11)), (e: unknown) => isLionError(e) && /destination holds 11/.test(e.message));
  await assert.rejects(writeSafetensors(join(dir, 'y.safetensors'), [{ name: 'b', shape: [12], data: bits, dtype: 'F16' }]), /only be written as BF16/);
});

test('readTensorChunks hands over whole rows across the scratch buffer, BF16 as bits and the rest as float32', async () => {
  const dir = tempDir();
  const file = join(dir, 'big.safetensors');
  const rows = 2200, K = 1000; // more than one chunk of rows (2 M values for BF16, 0.5 M otherwise)
  const data = Float32Array.from({ length: rows * K }, (_, i) => Math.sin(i) * (1 + (i % 7)));
  await writeSafetensors(file, [{ name: 'f', shape: [rows, K], data }, { name: 'b', shape: [rows, K], data, dtype: 'BF16' }]);
  const h = readSafetensorsHeader(file);
  for (const name of ['f', 'b']) {
    const seen = new Float32Array(rows * K);
    let calls = 0;
    readTensorChunks(h.tensors.get(name)!, K, (chunk, start) => {
      calls++;
      assert.equal(start % K, 0);
      assert.equal(chunk.length % K, 0);
      assert.equal(chunk instanceof Uint16Array, name === 'b');
      if (chunk instanceof Uint16Array) chunk.forEach((x, i) => { seen[start + i] = new Float32Array(new Uint32Array([x << 16]).buffer)[0]!; });
      else seen.set(chunk, start);
    });
    assert.ok(calls > 1, `${name}: ${calls} chunk(s)`);
    assert.deepEqual(seen, readTensor(h.tensors.get(name)!));
  }
  assert.throws(() => readTensorChunks(h.tensors.get('f')!, 3, () => undefined), /not whole rows of 3/);
});
