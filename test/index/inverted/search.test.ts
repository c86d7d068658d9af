import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildInvertedIndexFromRecords } from '../../../src/index/inverted/build.js';
import { packQueries, searchSparse } from '../../../src/index/inverted/search.js';
import { searchAddon } from '../../../src/index/native.js';
import type { SearchResult } from '../../../src/index/topk.js';
import { bruteForce, randomDocs, randomSparse, rng } from '../random.js';
import type { SparseVec } from '../../../src/types.js';

const V = 240; // the top 20 ids never occur in documents: "terms no document has"
const docs = randomDocs(7, 700, V - 20, 24);
docs[3]!.vec = { terms: new Uint32Array(0), weights: new Float32Array(0) }; // an empty document
const r = rng(99);
const queries: SparseVec[] = [
  { terms: new Uint32Array(0), weights: new Float32Array(0) }, // empty query
  { terms: Uint32Array.of(5), weights: Float32Array.of(1.5) }, // single term
  { terms: Uint32Array.of(V - 3), weights: Float32Array.of(2) }, // a term no document has
  { terms: Uint32Array.of(0, 1, V - 1), weights: Float32Array.of(1, 1, 1) }, // frequent terms + an absent one
  ...Array.from({ length: 36 }, () => randomSparse(r, V, 12)),
];

function rows(res: SearchResult, q: number): Array<[number, number]> {
  return Array.from({ length: res.counts[q]! }, (_, i) => [res.docs[q * res.k + i]!, res.scores[q * res.k + i]!]);
}

for (const shift of [0, 3, 5]) {
  test(`exact and safe block-max search equal brute force (blockShift ${shift})`, async () => {
    const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, blockShift: shift });
    for (const k of [1, 10, 1000]) {
      const want = queries.map((q) => bruteForce(docs.map((d) => d.vec), q, k));
      const backends: Array<'ref' | 'native'> = searchAddon() ? ['ref', 'native'] : ['ref'];
      for (const backend of backends) {
        for (const mode of ['exact', 'blockmax'] as const) {
          const res = searchSparse(ix, queries, { k, mode, alpha: 1, backend, threads: 2 });
          queries.forEach((_, q) => assert.deepEqual(rows(res, q), want[q], `${backend} ${mode} k=${k} query ${q}`));
        }
      }
    }
  });
}

test('quantised impacts: exact scores equal brute force over the stored codes', async () => {
  for (const dtype of ['u8', 'u16'] as const) {
    const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, dtype });
    const top = dtype === 'u8' ? 255 : 65535;
    let max = 0;
    for (const d of docs) for (const w of d.vec.weights) max = Math.max(max, w);
    assert.equal(ix.scale, Math.fround(max / top));
    const codeOf = (w: number) => Math.min(top, Math.max(1, Math.round(w / ix.scale)));
    for (const backend of searchAddon() ? (['ref', 'native'] as const) : (['ref'] as const)) {
      const res = searchSparse(ix, queries, { k: 50, backend, mode: 'exact' });
      const bm = searchSparse(ix, queries, { k: 50, backend, mode: 'blockmax', alpha: 1 });
      queries.forEach((q, i) => {
        const want = bruteForce(docs.map((d) => d.vec), q, 50, codeOf, ix.scale);
        assert.deepEqual(rows(res, i), want, `${dtype} ${backend} query ${i}`);
        assert.deepEqual(rows(bm, i), want, `${dtype} ${backend} blockmax query ${i}`);
        // and close to the float32 dot products
        const exact = bruteForce(docs.map((d) => d.vec), q, 1);
        if (exact.length) assert.ok(Math.abs(res.scores[i * 50]! - exact[0]![1]) <= 0.02 * exact[0]![1] + 0.05);
      });
    }
  }
});

test('approximate block-max: native equals its TypeScript twin, never beats exact', { skip: searchAddon() ? false : 'native addon not built' }, async () => {
  const big = randomDocs(3, 4000, 400, 30);
  const ix = await buildInvertedIndexFromRecords(big, { blockShift: 4 });
  const qs = Array.from({ length: 30 }, () => randomSparse(r, 400, 8));
  const exact = searchSparse(ix, qs, { k: 10, mode: 'exact' });
  for (const alpha of [0.5, 0.8]) {
    const nat = searchSparse(ix, qs, { k: 10, mode: 'blockmax', alpha });
    const ref = searchSparse(ix, qs, { k: 10, mode: 'blockmax', alpha, backend: 'ref' });
    assert.deepEqual(nat.docs, ref.docs);
    assert.deepEqual(nat.scores, ref.scores);
    assert.deepEqual(nat.visited, ref.visited);
    for (let q = 0; q < qs.length; q++) {
      for (let i = 0; i < nat.counts[q]!; i++) assert.ok(nat.scores[q * 10 + i]! <= exact.scores[q * 10 + i]!);
    }
  }
});

test('queries are checked against the index vocabulary', async () => {
  const ix = await buildInvertedIndexFromRecords(docs.slice(0, 10), { vocabSize: V });
  assert.throws(() => packQueries([{ terms: Uint32Array.of(V), weights: Float32Array.of(1) }], V, ['q7']), (e: Error & { code?: string }) => e.code === 'E_SHAPE' && /q7/.test(e.message));
  assert.throws(() => searchSparse(ix, [{ terms: Uint32Array.of(2), weights: Float32Array.of(NaN) }]), /finite/);
  assert.throws(() => searchSparse(ix, [{ terms: Uint32Array.of(4, 2), weights: Float32Array.of(1, 1) }]), /ascending/);
});

test('impact search: untruncated lists with every query term equal exact search; native equals its twin', async () => {
  const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, impactMax: docs.length });
  for (const backend of searchAddon() ? (['ref', 'native'] as const) : (['ref'] as const)) {
    const exact = searchSparse(ix, queries, { k: 25, mode: 'exact', backend });
    const imp = searchSparse(ix, queries, { k: 25, mode: 'impact', cut: 1000, lambda: docs.length, backend });
    assert.deepEqual(imp.docs, exact.docs, backend);
    assert.deepEqual(imp.scores, exact.scores, backend);
    assert.deepEqual(imp.counts, exact.counts, backend);
  }
  const small = await buildInvertedIndexFromRecords(docs, { vocabSize: V, impactMax: 16 });
  for (let t = 0; t < V; t++) {
    const a = small.impOffsets[t]!, b = small.impOffsets[t + 1]!;
    const df = small.termOffsets[t + 1]! - small.termOffsets[t]!;
    assert.equal(b - a, Math.min(16, df));
    const w = new Map<number, number>();
    for (let p = small.termOffsets[t]!; p < small.termOffsets[t + 1]!; p++) w.set(small.docIds[p]!, small.weights[p]!);
    const all = [...w.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 16).map((x) => x[0]);
    assert.deepEqual(Array.from(small.impDocs.subarray(a, b)), all, `term ${t}`);
  }
  if (searchAddon()) {
    for (const [cut, lambda] of [[2, 3], [5, 8], [3, 16]]) {
      const nat = searchSparse(small, queries, { k: 10, mode: 'impact', cut, lambda });
      const ref = searchSparse(small, queries, { k: 10, mode: 'impact', cut, lambda, backend: 'ref' });
      assert.deepEqual(nat, ref, `cut ${cut} lambda ${lambda}`);
    }
  }
});
