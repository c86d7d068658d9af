import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { searchAddon } from '../../../src/index/native.js';
import { denseRef, loadVectorIndex, rowOf, searchDense, toBf16, vectorIndexFromMatrix, writeVectorIndex } from '../../../src/index/vector/flat.js';
import { buildHnsw, loadHnsw, saveHnsw, searchHnsw } from '../../../src/index/vector/hnsw.js';
import { tempDir } from '../../helpers.js';
import { rng } from '../random.js';

const r = rng(17);
const N = 523, D = 37, Q = 9; // odd sizes exercise every tile edge
const m = { data: Float32Array.from({ length: N * D }, () => r() * 2 - 1), rows: N, dim: D, ids: Array.from({ length: N }, (_, i) => `d${i}`) };
const queries = Float32Array.from({ length: Q * D }, () => r() * 2 - 1);

for (const dtype of ['f32', 'bf16', 'i8'] as const) {
  test(`native dense search (${dtype}) matches its TypeScript twin`, { skip: searchAddon() ? false : 'native addon not built' }, () => {
    const ix = vectorIndexFromMatrix(m, dtype);
    for (const k of [1, 10, 600]) {
      const nat = searchDense(ix, queries, { k, threads: 3 });
      const ref = denseRef(ix, queries, k);
      assert.deepEqual(nat.counts, ref.counts);
      for (let i = 0; i < Q * k; i++) {
        if (i % k >= nat.counts[Math.floor(i / k)]!) continue;
        assert.ok(Math.abs(nat.scores[i]! - ref.scores[i]!) < 1e-4, `${dtype} k=${k} ${i}`);
        if (nat.docs[i] !== ref.docs[i]) assert.ok(Math.abs(nat.scores[i]! - ref.scores[i]!) < 1e-4, 'only near-ties may swap');
      }
    }
  });
}

test('bf16 and int8 storage stay close to float32', () => {
  assert.deepEqual(Array.from(toBf16(Float32Array.of(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8))), [0x3f80, 0xc020, 0x3f80, 0x3f82]);
  for (const dtype of ['bf16', 'i8'] as const) {
    const ix = vectorIndexFromMatrix(m, dtype);
    const row = rowOf(ix, 3);
    for (let c = 0; c < D; c++) assert.ok(Math.abs(row[c]! - m.data[3 * D + c]!) <= (dtype === 'bf16' ? 0.004 : 0.005), `${dtype} ${c}`);
  }
});

test('dense index files round-trip and reject truncation', () => {
  const d = tempDir();
  for (const dtype of ['f32', 'bf16', 'i8'] as const) {
    const ix = vectorIndexFromMatrix(m, dtype);
    writeVectorIndex(ix, join(d, `${dtype}.lvec`));
    const back = loadVectorIndex(join(d, `${dtype}.lvec`));
    assert.deepEqual([back.rows, back.dim, back.dtype, back.ids], [N, D, dtype, m.ids]);
    assert.deepEqual(back.data, ix.data);
    assert.deepEqual(back.rowScale, ix.rowScale);
  }
  const bytes = readFileSync(join(d, 'f32.lvec'));
  writeFileSync(join(d, 'cut.lvec'), bytes.subarray(0, bytes.length - 5000));
  assert.throws(() => loadVectorIndex(join(d, 'cut.lvec')), (e: Error & { code?: string; file?: string }) => e.code === 'E_ARTIFACT' && e.file === join(d, 'cut.lvec'));
  assert.throws(() => searchDense(vectorIndexFromMatrix(m), new Float32Array(D + 1)), (e: Error & { code?: string }) => e.code === 'E_SHAPE');
});

test('usearch HNSW finds the exact neighbours on a small collection and survives save/load', () => {
  const d = tempDir();
  const ix = vectorIndexFromMatrix(m);
  const h = buildHnsw(ix, { threads: 1 });
  writeVectorIndex(ix, join(d, 'g.lvec'));
  saveHnsw(h, join(d, 'g.usearch'), ix);
  const h2 = loadHnsw(join(d, 'g.usearch'), ix);
  const exact = denseRef(ix, queries, 10);
  for (const g of [h, h2]) {
    const a = searchHnsw(g, queries, 10, 1);
    let hit = 0;
    for (let q = 0; q < Q; q++) { const s = new Set(exact.docs.subarray(q * 10, q * 10 + 10)); for (let i = 0; i < 10; i++) if (s.has(a.docs[q * 10 + i]!)) hit++; }
    assert.ok(hit / (Q * 10) >= 0.9, `recall ${hit / (Q * 10)}`);
    assert.ok(Math.abs(a.scores[0]! - exact.scores[0]!) < 1e-4);
  }
});
