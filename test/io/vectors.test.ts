import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DenseShardWriter, readDenseShard, readDenseShards, readSparseJsonl, readSparseShard, readSparseVectors, SparseShardWriter,
  writeDenseShard, writeSparseJsonl, type SparseRecord,
} from '../../src/io/vectors.js';
import { tempDir } from '../helpers.js';

const recs: SparseRecord[] = [
  { id: 'a', vec: { terms: Uint32Array.of(1, 5, 9), weights: Float32Array.of(0.5, 1.25, 3) } },
  { id: 'b', vec: { terms: new Uint32Array(0), weights: new Float32Array(0) } },
  { id: 'c 1', vec: { terms: Uint32Array.of(0), weights: Float32Array.of(2) } },
];

async function collect(it: AsyncIterable<SparseRecord> | Iterable<SparseRecord>): Promise<SparseRecord[]> {
  const out: SparseRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

test('sparse JSONL and binary shards round-trip, detected by magic', async () => {
  const d = tempDir();
  await writeSparseJsonl(join(d, 'v.jsonl'), recs);
  const w = new SparseShardWriter(join(d, 'v.lsv'), 10);
  for (const r of recs) w.add(r.id, r.vec);
  w.close();
  assert.deepEqual(await collect(readSparseJsonl(join(d, 'v.jsonl'))), recs);
  assert.deepEqual(await collect(readSparseShard(join(d, 'v.lsv'))), recs);
  assert.deepEqual(await collect(readSparseVectors(join(d, 'v.lsv'))), recs);
  assert.deepEqual(await collect(readSparseVectors(join(d, 'v.jsonl'))), recs);
  assert.deepEqual(readdirSync(d).sort(), ['v.jsonl', 'v.lsv']);
});

test('sparse JSONL: keys sorted, zeros dropped, bad records named with file and line', async () => {
  const d = tempDir();
  const p = join(d, 'x.jsonl');
  writeFileSync(p, '{"id":"d1","vector":{"7":1,"2":0.5,"3":0}}\n');
  const [r] = await collect(readSparseJsonl(p));
  assert.deepEqual(Array.from(r!.vec.terms), [2, 7]);
  const bad = async (line: string, re: RegExp, opts = {}) => {
    writeFileSync(p, `{"id":"ok","vector":{}}\n${line}\n`);
    await assert.rejects(collect(readSparseJsonl(p, opts)), (e: Error & { file?: string; line?: number }) => re.test(e.message) && e.file === p && e.line === 2);
  };
  await bad('{"id":"d2","vector":{"5":-1}}', /d2.*>= 0/);
  await bad('{"id":"d2","vector":{"5":"x"}}', /finite/);
  await bad('{"id":"d2","vector":{"x5":1}}', /not a vocabulary id/);
  await bad('{"id":"d2","vector":{"100":1}}', /outside the vocabulary of 50/, { vocabSize: 50 });
  await bad('{"id":"d2","vector":{"5":NaN}}', /not valid JSON/);
  await bad('{"vector":{}}', /'id'/);
});

test('shard writers validate and leave nothing behind on failure', () => {
  const d = tempDir();
  const w = new SparseShardWriter(join(d, 's.lsv'), 10);
  w.add('a', recs[0]!.vec);
  assert.throws(() => w.add('b', { terms: Uint32Array.of(3, 2), weights: Float32Array.of(1, 1) }), /ascending/);
  assert.deepEqual(readdirSync(d), []);
  const w2 = new SparseShardWriter(join(d, 's.lsv'), 8);
  assert.throws(() => w2.add('b', { terms: Uint32Array.of(9), weights: Float32Array.of(1) }), (e: Error & { code?: string }) => e.code === 'E_SHAPE' && /record 1.*term id 9/.test(e.message));
  const w3 = new SparseShardWriter(join(d, 's.lsv'));
  assert.throws(() => w3.add('b', { terms: Uint32Array.of(1), weights: Float32Array.of(NaN) }), /NaN/);
  const dw = new DenseShardWriter(join(d, 'x.f32'), 2);
  assert.throws(() => dw.add(['a'], Float32Array.of(1, 2, 3)), /dimension 2/);
  assert.deepEqual(readdirSync(d), []);
});

test('dense shards round-trip, concatenate in order, and reject foreign or truncated files', () => {
  const d = tempDir();
  const a = { data: Float32Array.of(1, 2, 3, 4), rows: 2, dim: 2, ids: ['x', 'y'] };
  const b = { data: Float32Array.of(5, 6), rows: 1, dim: 2, ids: ['z'] };
  writeDenseShard(join(d, 'a.f32'), a);
  writeDenseShard(join(d, 'b.f32'), b);
  assert.deepEqual(readDenseShard(join(d, 'a.f32')), a);
  assert.deepEqual(readDenseShards([join(d, 'a.f32'), join(d, 'b.f32')]), { data: Float32Array.of(1, 2, 3, 4, 5, 6), rows: 3, dim: 2, ids: ['x', 'y', 'z'] });
  writeDenseShard(join(d, 'c.f32'), { data: Float32Array.of(1, 2, 3), rows: 1, dim: 3, ids: ['w'] });
  assert.throws(() => readDenseShards([join(d, 'a.f32'), join(d, 'c.f32')]), (e: Error & { code?: string; file?: string }) => e.code === 'E_SHAPE' && e.file === join(d, 'c.f32'));
  writeFileSync(join(d, 'foreign.f32'), Buffer.alloc(100, 7));
  assert.throws(() => readDenseShard(join(d, 'foreign.f32')), (e: Error & { code?: string }) => e.code === 'E_ARTIFACT' && /not a Lion dense shard/.test(e.message));
  const full = readFileSync(join(d, 'a.f32'));
  writeFileSync(join(d, 'trunc.f32'), full.subarray(0, 70));
  assert.throws(() => readDenseShard(join(d, 'trunc.f32')), /truncated|inconsistent/);
  assert.equal(existsSync(join(d, 'a.f32')), true);
});
