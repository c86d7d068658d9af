import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateDocs, generateQueries, TOPICS_SPEC } from '../../../bench/gen-topics.js';
import { buildInvertedIndexFromRecords, invert } from '../../../src/index/inverted/build.js';
import { clusteredLists } from '../../../src/index/inverted/clusters.js';
import type { InvertedIndex } from '../../../src/index/inverted/format.js';
import { bisectionOrder, orderCost } from '../../../src/index/inverted/reorder.js';
import { type QueryBatch, searchSparse } from '../../../src/index/inverted/search.js';
import { searchAddon } from '../../../src/index/native.js';
import type { SearchResult } from '../../../src/index/topk.js';
import { randomDocs, randomSparse, rng } from '../random.js';

const V = 80;
const docs = randomDocs(31, 400, V, 14);
const r = rng(32);
const queries = Array.from({ length: 30 }, () => randomSparse(r, V, 8));
const backends = searchAddon() ? (['ref', 'native'] as const) : (['ref'] as const);

/** Tie-aware equality of top-k lists: same scores in order; the same documents above the k-th score. */
function sameTopK(a: SearchResult, b: SearchResult, ids: { a: string[]; b: string[] }, msg: string): void {
  const k = a.k;
  for (let q = 0; q < a.counts.length; q++) {
    assert.equal(a.counts[q], b.counts[q], `${msg} q${q} count`);
    const n = a.counts[q]!;
    assert.deepEqual(Array.from(a.scores.subarray(q * k, q * k + n)), Array.from(b.scores.subarray(q * k, q * k + n)), `${msg} q${q} scores`);
    if (n === 0) continue;
    const kth = a.scores[q * k + n - 1]!;
    const above = (res: SearchResult, names: string[]) => Array.from(res.docs.subarray(q * k, q * k + n)).filter((_, i) => res.scores[q * k + i]! > kth).map((d) => names[d]!).sort();
    assert.deepEqual(above(a, ids.a), above(b, ids.b), `${msg} q${q} documents`);
  }
}

test('cluster search: full summaries, untruncated lists and every term return the exact top-k', async () => {
  for (const reorder of ['none', 'bp'] as const) {
    const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, reorder, listMax: docs.length, clusterSize: 4, summaryMass: 1, summaryMax: 1 << 16, summaryHead: 0 });
    for (const backend of backends) {
      const exact = searchSparse(ix, queries, { k: 10, mode: 'exact', backend });
      // gamma slightly above 1 covers float rounding of the summary estimate (an upper bound in exact arithmetic).
      const cl = searchSparse(ix, queries, { k: 10, mode: 'cluster', cut: 1000, gamma: 1.001, backend });
      sameTopK(exact, cl, { a: ix.ids, b: ix.ids }, `${reorder} ${backend}`);
    }
  }
});

test('cluster search: native equals its TypeScript twin; pruned settings never beat exact', { skip: searchAddon() ? false : 'native addon not built' }, async () => {
  const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, reorder: 'bp', listMax: 40, clusterSize: 8, summaryMass: 0.5, summaryMax: 12 });
  const exact = searchSparse(ix, queries, { k: 10, mode: 'exact' });
  for (const [cut, gamma] of [[2, 1], [5, 1.5], [1000, 0.5]]) {
    const nat = searchSparse(ix, queries, { k: 10, mode: 'cluster', cut, gamma });
    const ref = searchSparse(ix, queries, { k: 10, mode: 'cluster', cut, gamma, backend: 'ref' });
    assert.deepEqual(nat, ref, `cut ${cut} gamma ${gamma}`);
    for (let q = 0; q < queries.length; q++) for (let i = 0; i < nat.counts[q]!; i++) assert.ok(nat.scores[q * 10 + i]! <= exact.scores[q * 10 + i]!);
  }
});

test('cluster build: native equals the TypeScript twin; blocks hold pruned lists, summaries bound kept terms', { skip: searchAddon() ? false : 'native addon not built' }, async () => {
  const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, listMax: 0 });
  for (const o of [{ listMax: 25, clusterSize: 4, summaryMass: 0.6, summaryMax: 10, summaryHead: 0 }, { listMax: 25, clusterSize: 4, summaryMass: 0.6, summaryMax: 10, summaryHead: 3 }, { listMax: 1000, clusterSize: 7, summaryMass: 1, summaryMax: 1000, summaryHead: 0 }]) {
    const nat = clusteredLists(ix, o, 'native');
    const ref = clusteredLists(ix, o, 'ref');
    assert.deepEqual(nat, ref, JSON.stringify(o));
    for (let t = 0; t < V; t++) {
      const df = ix.termOffsets[t + 1]! - ix.termOffsets[t]!;
      assert.equal(nat.clDocOffsets[nat.clOffsets[t + 1]!]! - nat.clDocOffsets[nat.clOffsets[t]!]!, Math.min(df, o.listMax), `term ${t} list length`);
    }
    for (let c = 0; c < nat.clSumScale.length; c++) {
      const kept = new Map<number, number>();
      for (let e = nat.clSumOffsets[c]!; e < nat.clSumOffsets[c + 1]!; e++) kept.set(nat.clSumTerms[e]!, Math.fround(nat.clSumCodes[e]! * nat.clSumScale[c]!));
      assert.ok(kept.size <= o.summaryMax);
      for (let i = nat.clDocOffsets[c]!; i < nat.clDocOffsets[c + 1]!; i++) {
        const d = nat.clDocs[i]!;
        // With a summary head, only a document's summaryHead heaviest weights are bounded by its blocks' summaries.
        const ws = Array.from(ix.fwdWeights.subarray(ix.fwdOffsets[d]!, ix.fwdOffsets[d + 1]!)).sort((a, b) => b - a);
        const thr = o.summaryHead > 0 && ws.length > o.summaryHead ? ws[o.summaryHead - 1]! : 0;
        for (let p = ix.fwdOffsets[d]!; p < ix.fwdOffsets[d + 1]!; p++) {
          const b = kept.get(ix.fwdTerms[p]!);
          if (b !== undefined && ix.fwdWeights[p]! >= thr) assert.ok(b >= ix.fwdWeights[p]!, `block ${c} term ${ix.fwdTerms[p]}`);
        }
      }
    }
  }
});

function structured(n: number): { ix: (reorder: 'bp' | 'none', extra?: object) => InvertedIndex; qb: QueryBatch } {
  const spec = { ...TOPICS_SPEC, docs: n, vocab: 3000, topics: 40, topicTerms: 60 };
  const d = generateDocs(spec);
  const q = generateQueries(spec, 40, 1);
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  return { ix: (reorder, extra = {}) => invert(d.off, d.terms, d.weights, ids, { vocabSize: spec.vocab, reorder, ...extra }), qb: { off: q.off, terms: q.terms, weights: q.weights } };
}

test('graph bisection: a permutation, fewer distinct terms per block, and the same search results', async () => {
  const { ix: build, qb } = structured(2000);
  const plain = build('none');
  for (const backend of backends) {
    const order = bisectionOrder(plain.fwdOffsets, plain.fwdTerms, plain.vocab, { iters: 6, minSize: 32, backend });
    assert.deepEqual(Array.from(order).sort((a, b) => a - b), Array.from({ length: plain.numDocs }, (_, i) => i), backend);
  }
  const bp = build('bp');
  assert.ok(orderCost(bp.fwdOffsets, bp.fwdTerms, bp.vocab, 32) < 0.85 * orderCost(plain.fwdOffsets, plain.fwdTerms, plain.vocab, 32), 'reordering groups similar documents');
  for (const k of [10, 100]) {
    sameTopK(searchSparse(plain, qb, { k, mode: 'exact' }), searchSparse(bp, qb, { k, mode: 'exact' }), { a: plain.ids, b: bp.ids }, `exact k=${k}`);
    // Block-max at alpha = 1 stays safe on the reordered index.
    sameTopK(searchSparse(bp, qb, { k, mode: 'exact' }), searchSparse(bp, qb, { k, mode: 'blockmax', alpha: 1 }), { a: bp.ids, b: bp.ids }, `blockmax k=${k}`);
  }
});

test('cluster search on structured data: the default settings keep accuracy@10 above 0.95', async () => {
  const { ix: build, qb } = structured(4000);
  const ix = build('bp', { listMax: 256, clusterSize: 16 });
  const k = 10, nq = qb.off.length - 1;
  const exact = searchSparse(ix, qb, { k, mode: 'exact' });
  const cl = searchSparse(ix, qb, { k, mode: 'cluster' });
  let acc = 0;
  for (let q = 0; q < nq; q++) {
    const set = new Set(Array.from(exact.docs.subarray(q * k, q * k + exact.counts[q]!)));
    let hit = 0;
    for (let i = 0; i < cl.counts[q]!; i++) if (set.has(cl.docs[q * k + i]!)) hit++;
    acc += exact.counts[q]! ? hit / exact.counts[q]! : 1;
  }
  assert.ok(acc / nq >= 0.95, `accuracy@10 ${acc / nq}`);
  // A stricter setting (one query term, no slack) must lose accuracy: the bound above is not vacuous.
  const loose = searchSparse(ix, qb, { k, mode: 'cluster', cut: 1, gamma: 0.5 });
  let accLoose = 0;
  for (let q = 0; q < nq; q++) {
    const set = new Set(Array.from(exact.docs.subarray(q * k, q * k + exact.counts[q]!)));
    let hit = 0;
    for (let i = 0; i < loose.counts[q]!; i++) if (set.has(loose.docs[q * k + i]!)) hit++;
    accLoose += exact.counts[q]! ? hit / exact.counts[q]! : 1;
  }
  assert.ok(accLoose < acc, `cut 1 gamma 0.5 (${accLoose / nq}) is less accurate than the defaults (${acc / nq})`);
});

test('cluster mode refuses an index built without clustered lists', async () => {
  const ix = await buildInvertedIndexFromRecords(docs, { vocabSize: V, listMax: 0 });
  assert.throws(() => searchSparse(ix, queries, { mode: 'cluster' }), (e: Error & { code?: string }) => e.code === 'E_USAGE' && /clustered lists/.test(e.message));
  assert.throws(() => searchSparse(ix, queries, { mode: 'exact', gamma: 0 }), /gamma/);
});

test('streamed build from a shard equals the in-memory build, reordered and quantised, and searches the same', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { SparseShardWriter } = await import('../../../src/io/vectors.js');
  const { buildSparseIndex, sparseSourcesSize } = await import('../../../src/index/inverted/build.js');
  const { loadInvertedIndex } = await import('../../../src/index/inverted/format.js');
  const dir = mkdtempSync(join(tmpdir(), 'lion-stream-'));
  try {
    const spec = { ...TOPICS_SPEC, docs: 1500, vocab: 3000, topics: 40, topicTerms: 60 };
    const d = generateDocs(spec);
    const ids = Array.from({ length: spec.docs }, (_, i) => `d${i}`);
    // Two shards, so positions continue across files and the header sizes add up.
    const paths = [join(dir, 'a.lsv'), join(dir, 'b.lsv')];
    for (const [s, lo, hi] of [[0, 0, 700], [1, 700, spec.docs]] as const) {
      const w = new SparseShardWriter(paths[s]!, spec.vocab);
      for (let i = lo; i < hi; i++) w.add(ids[i]!, { terms: d.terms.subarray(d.off[i]!, d.off[i + 1]!), weights: d.weights.subarray(d.off[i]!, d.off[i + 1]!) });
      w.close();
    }
    assert.deepEqual(sparseSourcesSize(paths), { rows: spec.docs, nnz: d.terms.length });
    for (const dtype of ['f32', 'u8'] as const) {
      const opts = { vocabSize: spec.vocab, reorder: 'bp' as const, dtype, listMax: 64, clusterSize: 8 };
      const streamed = await buildSparseIndex(paths, join(dir, `s-${dtype}.lidx`), opts);
      const mem = invert(d.off.slice(), d.terms.slice(), d.weights.slice(), ids, opts);
      const loaded = loadInvertedIndex(join(dir, `s-${dtype}.lidx`));
      for (const key of ['termOffsets', 'docIds', 'weights', 'fwdOffsets', 'fwdTerms', 'fwdWeights', 'bmBlocks', 'denseMax', 'impDocs', 'clDocs', 'clSumTerms', 'clSumCodes'] as const) {
        assert.deepEqual(streamed[key], mem[key], `${dtype} ${key}`);
        assert.deepEqual(loaded[key], mem[key], `${dtype} ${key} (loaded)`);
      }
      assert.deepEqual(streamed.ids, mem.ids);
      // Forward rows are the reordered documents: each row holds the document's own terms.
      const pos = new Map(mem.ids.map((id, i) => [id, i]));
      for (const i of [0, 17, 1499]) {
        const p = pos.get(ids[i]!)!;
        assert.deepEqual(Array.from(mem.fwdTerms.subarray(mem.fwdOffsets[p]!, mem.fwdOffsets[p + 1]!)), Array.from(d.terms.subarray(d.off[i]!, d.off[i + 1]!)));
      }
      const qs = generateQueries(spec, 20, 1);
      const qb = { off: qs.off, terms: qs.terms, weights: qs.weights };
      assert.deepEqual(searchSparse(loaded, qb, { k: 10, mode: 'exact' }), searchSparse(mem, qb, { k: 10, mode: 'exact' }));
      assert.deepEqual(searchSparse(loaded, qb, { k: 10, mode: 'blockmax', alpha: 1 }).scores, searchSparse(mem, qb, { k: 10, mode: 'exact' }).scores);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('block-max: alpha 1 returns the exact top-k over thousands of blocks; native equals its twin', async () => {
  const { ix: build, qb } = structured(3000);
  const ix = build('bp', { blockShift: 1, listMax: 0 });
  assert.ok(ix.numBlocks >= 1000, `${ix.numBlocks} blocks`);
  for (const backend of backends) {
    for (const k of [1, 10, 100]) {
      const exact = searchSparse(ix, qb, { k, mode: 'exact', backend });
      const bm = searchSparse(ix, qb, { k, mode: 'blockmax', alpha: 1, backend });
      assert.deepEqual(bm.docs, exact.docs, `${backend} k=${k}`);
      assert.deepEqual(bm.scores, exact.scores, `${backend} k=${k}`);
    }
  }
  if (searchAddon()) {
    for (const alpha of [0.6, 0.9]) {
      const nat = searchSparse(ix, qb, { k: 10, mode: 'blockmax', alpha });
      const ref = searchSparse(ix, qb, { k: 10, mode: 'blockmax', alpha, backend: 'ref' });
      assert.deepEqual(nat, ref, `alpha ${alpha}`);
    }
  }
});
