import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { BM25_MAGIC } from '../../src/bm25/format.js';
import { INDEX_MAGIC } from '../../src/index/inverted/format.js';
import { VEC_MAGIC } from '../../src/index/vector/flat.js';
import { DENSE_SHARD_MAGIC, SPARSE_SHARD_MAGIC, SparseShardWriter, writeSparseJsonl } from '../../src/io/vectors.js';
import { MAGIC, sniffBytes, sniffFile } from '../../src/io/sniff.js';
import { NotFoundError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

const bytes = (...xs: (number | string)[]) => Buffer.concat(xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from([x]))));

test('every format module takes its magic from the sniffer, and the magics differ', () => {
  assert.deepEqual([BM25_MAGIC, INDEX_MAGIC, VEC_MAGIC, SPARSE_SHARD_MAGIC, DENSE_SHARD_MAGIC],
    [MAGIC.bm25Index, MAGIC.sparseIndex, MAGIC.denseIndex, MAGIC.sparseShard, MAGIC.denseShard]);
  assert.equal(new Set(Object.values(MAGIC)).size, 5);
  for (const m of Object.values(MAGIC)) assert.equal(Buffer.byteLength(m, 'latin1'), 8);
});

test('sniffBytes tells Lion files, checkpoints and text apart', () => {
  assert.equal(sniffBytes(bytes(MAGIC.sparseIndex, 0, 0)), 'sparse-index');
  assert.equal(sniffBytes(bytes(MAGIC.bm25Index)), 'bm25-index');
  assert.equal(sniffBytes(bytes(0x50, 0x4b, 3, 4, 0, 0)), 'torch-zip');
  assert.equal(sniffBytes(bytes(0x80, 2, 0x8a, 0x0a)), 'torch-legacy');
  assert.equal(sniffBytes(bytes(0x1f, 0x8b, 8, 0)), 'gzip');
  const st = Buffer.alloc(12); st.writeBigUInt64LE(120n, 0); st.write('{"a', 8, 'latin1');
  assert.equal(sniffBytes(st), 'safetensors');
  assert.equal(sniffBytes(bytes('{"_id": "1"}')), 'text');
  assert.equal(sniffBytes(bytes('q1 Q0 d1 1 2.5 run')), 'text');
  assert.equal(sniffBytes(new Uint8Array(0)), 'empty');
  assert.equal(sniffBytes(bytes('LIONINV')), 'text'); // a truncated magic is not the file
});

test('sniffFile reads real shards and JSONL; a missing file is NotFoundError naming it', async () => {
  const d = tempDir();
  const shard = join(d, 'a.lsv');
  const w = new SparseShardWriter(shard);
  w.add('d1', { terms: new Uint32Array([3]), weights: new Float32Array([1]) });
  w.close();
  assert.equal(sniffFile(shard), 'sparse-shard');
  const jl = join(d, 'a.jsonl');
  await writeSparseJsonl(jl, [{ id: 'd1', vec: { terms: new Uint32Array([3]), weights: new Float32Array([1]) } }]);
  assert.equal(sniffFile(jl), 'text');
  writeFileSync(join(d, 'empty'), '');
  assert.equal(sniffFile(join(d, 'empty')), 'empty');
  assert.throws(() => sniffFile(join(d, 'nope.lidx')), (e: unknown) => e instanceof NotFoundError && e.message.includes('nope.lidx'));
});
