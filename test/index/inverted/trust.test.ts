// Issue-12 repros for the sparse index: each reproduced the wrong behaviour before the fix.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { buildInvertedIndexFromRecords, buildSparseIndex, invert, writeInvertedIndex } from '../../../src/index/inverted/build.js';
import { HEADER_BYTES, loadInvertedIndex } from '../../../src/index/inverted/format.js';
import { searchIndex } from '../../../src/index/search.js';
import { SparseShardWriter, writeSparseJsonl } from '../../../src/io/vectors.js';
import { tempDir } from '../../helpers.js';
import { randomDocs } from '../random.js';

const docs = randomDocs(41, 60, 40, 8);

async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const w = process.stderr.write;
  process.stderr.write = () => true;
  try { return await f(); } finally { process.stderr.write = w; }
}

test('the vocabulary comes from the .lsv header; query terms beyond it are E_SHAPE, not dropped', async () => {
  const d = tempDir();
  const w = new SparseShardWriter(join(d, 'docs.lsv'), 500);
  for (const r of docs) w.add(r.id, r.vec);
  w.close();
  const ix = await buildSparseIndex([join(d, 'docs.lsv')], join(d, 'x.lidx'));
  assert.equal(ix.vocab, 500);
  assert.equal(loadInvertedIndex(join(d, 'x.lidx')).vocab, 500);
  // A term inside the encoder's vocabulary but in no document: searched, no hits from it.
  await writeSparseJsonl(join(d, 'q-ok.jsonl'), [{ id: 'q1', vec: { terms: Uint32Array.of(3, 450), weights: Float32Array.of(1, 1) } }]);
  const ok = await searchIndex([join(d, 'x.lidx')], join(d, 'q-ok.jsonl'), { k: 5 });
  assert.ok(ok.run.get('q1')!.length > 0);
  await writeSparseJsonl(join(d, 'q-bad.jsonl'), [{ id: 'q2', vec: { terms: Uint32Array.of(3, 600), weights: Float32Array.of(1, 1) } }]);
  await assert.rejects(searchIndex([join(d, 'x.lidx')], join(d, 'q-bad.jsonl'), { k: 5 }), (e: Error & { code?: string }) => e.code === 'E_SHAPE' && /q2/.test(e.message) && /600/.test(e.message));
  // Shards recording different vocabularies cannot be merged silently.
  const w2 = new SparseShardWriter(join(d, 'other.lsv'), 800);
  w2.add('z', docs[0]!.vec);
  w2.close();
  await assert.rejects(buildSparseIndex([join(d, 'docs.lsv'), join(d, 'other.lsv')], join(d, 'y.lidx')), (e: Error & { code?: string }) => e.code === 'E_SHAPE');
});

test('lion index rejects --impact-max -1, --vocab 1e9 and an output that is one of its inputs, before reading anything', async () => {
  const d = tempDir();
  await writeSparseJsonl(join(d, 'docs.jsonl'), docs);
  const run = (...a: string[]) => quiet(() => main(['index', '--paradigm', 'sparse', '--out', join(d, 'x.lidx'), join(d, 'docs.jsonl'), ...a]));
  const t0 = performance.now();
  assert.equal(await run('--impact-max', '-1'), 2);
  assert.equal(await run('--vocab', '1000000000'), 2);
  assert.equal(await run('--list-max', '-5'), 2);
  assert.equal(await run('--summary-mass', '0'), 2);
  assert.equal(await run('--reorder', 'random'), 2);
  assert.ok(performance.now() - t0 < 5000, 'refused at once, nothing allocated');
  assert.equal(existsSync(join(d, 'x.lidx')), false);
  assert.equal(await quiet(() => main(['index', '--paradigm', 'sparse', '--out', join(d, 'docs.jsonl'), join(d, 'docs.jsonl')])), 2);
  assert.ok(readFileSync(join(d, 'docs.jsonl'), 'utf8').startsWith('{'), 'the input is intact');
});

test('NaN and infinite weights are an error at build, never a dropped document', async () => {
  for (const bad of [NaN, Infinity, -1]) {
    const recs = docs.slice(0, 5).map((r) => ({ ...r, vec: { terms: r.vec.terms, weights: Float32Array.from(r.vec.weights) } }));
    const target = recs.find((r) => r.vec.weights.length > 0)!;
    target.vec.weights[0] = bad;
    await assert.rejects(buildInvertedIndexFromRecords(recs), (e: Error & { code?: string }) => e.code === 'E_FORMAT' && e.message.includes(target.id));
    const off = new Uint32Array(recs.length + 1);
    recs.forEach((r, i) => { off[i + 1] = off[i]! + r.vec.terms.length; });
    const terms = new Uint32Array(off[recs.length]!), w = new Float32Array(off[recs.length]!);
    recs.forEach((r, i) => { terms.set(r.vec.terms, off[i]!); w.set(r.vec.weights, off[i]!); });
    assert.throws(() => invert(off, terms, w, recs.map((r) => r.id)), (e: Error & { code?: string }) => e.code === 'E_FORMAT' && e.message.includes(target.id));
  }
});

test('lying .lidx headers (negative, NaN, huge sizes and offsets) are LionErrors before any allocation', async () => {
  const d = tempDir();
  writeInvertedIndex(await buildInvertedIndexFromRecords(docs), join(d, 'ok.lidx'));
  const bytes = readFileSync(join(d, 'ok.lidx'));
  const mutations: Array<[string, (b: Buffer) => void]> = [
    ['postings -1', (b) => b.writeDoubleLE(-1, 24)], ['postings NaN', (b) => b.writeDoubleLE(NaN, 24)], ['postings 1e15', (b) => b.writeDoubleLE(1e15, 24)],
    ['entries -8', (b) => b.writeDoubleLE(-8, 48)], ['vocab 2^32-1', (b) => b.writeUInt32LE(0xffffffff, 20)], ['docs 2^32-1', (b) => b.writeUInt32LE(0xffffffff, 16)],
    ['section offset -64', (b) => b.writeDoubleLE(-64, 64 + 16)], ['section offset NaN', (b) => b.writeDoubleLE(NaN, 64 + 16)], ['section length 1e300', (b) => b.writeDoubleLE(1e300, 72 + 16 * 12)],
    ['section length -4', (b) => b.writeDoubleLE(-4, 72 + 16 * 21)], ['dense rows huge', (b) => b.writeUInt32LE(0x7fffffff, 44)],
  ];
  for (const [name, mutate] of mutations) {
    const b = Buffer.from(bytes);
    mutate(b);
    const p = join(d, `${name.replace(/[^a-z0-9]/gi, '_')}.lidx`);
    writeFileSync(p, b);
    for (const verify of [true, false]) {
      assert.throws(() => loadInvertedIndex(p, { verify }), (e: Error & { code?: string; file?: string }) => (e.code === 'E_ARTIFACT' || e.code === 'E_CHECKSUM') && e.file === p, `${name} verify=${verify}`);
    }
  }
  assert.ok(HEADER_BYTES === 512);
});

test('the checksum covers every byte, and the encoder identity round-trips', async () => {
  const d = tempDir();
  const encoder = { model: '0123456789abcdef', head: 'sparse', vocab: 40, dtype: 'f32' };
  writeInvertedIndex(await buildInvertedIndexFromRecords(docs, { encoder }), join(d, 'ok.lidx'));
  const back = loadInvertedIndex(join(d, 'ok.lidx'));
  assert.deepEqual(back.meta.encoder, encoder);
  assert.equal(back.meta.checksumVerified, true);
  const bytes = readFileSync(join(d, 'ok.lidx'));
  // Flip one byte in the header, in a weight, in the ids and in the metadata: each is caught.
  const metaOff = bytes.readDoubleLE(64 + 16 * 22), idsOff = bytes.readDoubleLE(64 + 16 * 21), wOff = bytes.readDoubleLE(64 + 16 * 2);
  for (const [name, at] of [['scale', 32], ['weight', wOff + 1], ['ids', idsOff], ['metadata', metaOff + 3]] as const) {
    const b = Buffer.from(bytes);
    b[at] = b[at]! ^ 0x10;
    writeFileSync(join(d, 'bad.lidx'), b);
    assert.throws(() => loadInvertedIndex(join(d, 'bad.lidx')), (e: Error & { code?: string }) => e.code === 'E_CHECKSUM', name);
  }
});
