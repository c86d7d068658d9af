/** Issue 12: `.lsv` / `.f32` shards carry a checksum trailer and the encoder identity; lies in headers are errors. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DenseShardWriter, readDenseShard, readShardInfo, readSparseShard, SparseShardWriter, writeDenseShard } from '../../src/io/vectors.js';
import type { EncoderIdentity } from '../../src/util/identity.js';
import { tempDir } from '../helpers.js';

const enc: EncoderIdentity = { model: '0123456789abcdef', name: 'm', head: 'sparse', vocab: 10, dtype: 'f32' };
const drain = (p: string) => { for (const _ of readSparseShard(p)) { /* read all */ } };
const code = (c: string) => (e: any) => e.code === c;

function sparseShard(d: string): string {
  const p = join(d, 'v.lsv');
  const w = new SparseShardWriter(p, 10, enc);
  w.add('a', { terms: Uint32Array.of(1, 5), weights: Float32Array.of(0.5, 2) });
  w.add('b', { terms: Uint32Array.of(3), weights: Float32Array.of(1) });
  w.close();
  return p;
}

test('.lsv records its encoder and vocabulary; a flipped byte is E_CHECKSUM; a cut file E_ARTIFACT', () => {
  const d = tempDir();
  const p = sparseShard(d);
  const info = readShardInfo(p);
  assert.deepEqual(info.encoder, enc);
  assert.equal(info.vocabSize, 10);
  drain(p);
  const good = readFileSync(p);
  for (let i = 0; i < good.length; i += 3) {
    const bad = Buffer.from(good); bad[i] ^= 0x10;
    writeFileSync(p, bad);
    assert.throws(() => drain(p), (e: any) => ['E_CHECKSUM', 'E_ARTIFACT'].includes(e.code), `flip at ${i}`);
  }
  writeFileSync(p, good.subarray(0, good.length - 1));
  assert.throws(() => drain(p), code('E_ARTIFACT'));
});

test('.lsv/.f32 headers that lie (negative, NaN or huge offsets) are E_ARTIFACT even in the fast mode, before allocating', () => {
  const d = tempDir();
  const p = sparseShard(d);
  const good = readFileSync(p);
  process.env.LION_VERIFY = 'fast';
  try {
    for (const [off, v] of [[32, -64], [32, NaN], [40, 1e15], [24, -1], [48, 2 ** 40]] as const) {
      const bad = Buffer.from(good); bad.writeDoubleLE(v, off);
      writeFileSync(p, bad);
      assert.throws(() => drain(p), code('E_ARTIFACT'), `offset ${off} = ${v}`);
    }
    const bad = Buffer.from(good); bad.writeUInt32LE(0xffffffff, 16); // rows
    writeFileSync(p, bad);
    assert.throws(() => drain(p), code('E_ARTIFACT'));
    const f = join(d, 'x.f32');
    writeDenseShard(f, { data: Float32Array.of(1, 2, 3, 4), rows: 2, dim: 2, ids: ['x', 'y'] });
    const g = readFileSync(f);
    for (const [off, v] of [[12, 0xffffffff], [16, 0x7fffffff]] as const) {
      const b2 = Buffer.from(g); b2.writeUInt32LE(v, off);
      writeFileSync(f, b2);
      assert.throws(() => readDenseShard(f), code('E_ARTIFACT'));
    }
    const b3 = Buffer.from(g); b3.writeDoubleLE(-8, 24);
    writeFileSync(f, b3);
    assert.throws(() => readDenseShard(f), code('E_ARTIFACT'));
  } finally { delete process.env.LION_VERIFY; }
});

test('.f32: NaN/Inf rows are refused on write (E_NONFINITE); version 1 shards are refused with a clear message', () => {
  const d = tempDir();
  const w = new DenseShardWriter(join(d, 'n.f32'), 2);
  assert.throws(() => w.add(['a'], Float32Array.of(1, Infinity)), code('E_NONFINITE'));
  const p = sparseShard(d);
  const b = readFileSync(p); b.writeUInt32LE(1, 8);
  writeFileSync(p, b);
  assert.throws(() => drain(p), (e: any) => e.code === 'E_ARTIFACT' && /version 1/.test(e.message));
});

test('a JSON _id of 12345678901234567890 keeps its digits; an id list beyond 2^53 is a FormatError', async () => {
  const { readBeirCorpus } = await import('../../src/io/beir.js');
  const { readTrainingFile } = await import('../../src/io/training.js');
  const d = tempDir();
  writeFileSync(join(d, 'c.jsonl'), '{"_id": 12345678901234567890, "text": "x"}\n{"text": "a \\"_id\\": 1", "_id": 99999999999999999999}\n{"_id": 7, "text": "y"}\n');
  const ids: string[] = [];
  for await (const r of readBeirCorpus(join(d, 'c.jsonl'))) ids.push(r.id);
  assert.deepEqual(ids, ['12345678901234567890', '99999999999999999999', '7']);
  writeFileSync(join(d, 't.jsonl'), '{"question": "q", "pos_pid": "1", "neg_pids": [12345678901234567890]}\n');
  await assert.rejects(async () => { for await (const _ of readTrainingFile(join(d, 't.jsonl'))) { /* drain */ } }, (e: any) => e.code === 'E_FORMAT' && /2\^53/.test(e.message));
});
