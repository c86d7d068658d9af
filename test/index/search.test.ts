import { DEFAULTS } from '../../src/defaults.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { clusterDefaults, resolvedSparseSettings } from '../../src/index/inverted/search.js';
import { buildInvertedIndexFromRecords, writeInvertedIndex } from '../../src/index/inverted/build.js';
import { searchIndex } from '../../src/index/search.js';
import { vectorIndexFromMatrix, writeVectorIndex } from '../../src/index/vector/flat.js';
import { writeDenseShard, writeSparseJsonl } from '../../src/io/vectors.js';
import { tempDir } from '../helpers.js';
import { randomDocs, rng } from './random.js';

// Integer weights make ties common, which is what the global tie order must get right.
const docs = randomDocs(21, 300, 40, 6, true);
const queries = randomDocs(22, 25, 40, 4, true).map((r, i) => ({ ...r, id: `q${i}` }));

test('sharded sparse search returns exactly the single-index top-k (ties included)', async () => {
  const d = tempDir();
  writeInvertedIndex(await buildInvertedIndexFromRecords(docs, { vocabSize: 40 }), join(d, 'all.lidx'));
  const cuts = [0, 70, 71, 200, 300];
  for (let i = 0; i + 1 < cuts.length; i++) writeInvertedIndex(await buildInvertedIndexFromRecords(docs.slice(cuts[i], cuts[i + 1]), { vocabSize: 40 }), join(d, `s${i}.lidx`));
  writeFileSync(join(d, 'shards.json'), JSON.stringify({ shards: ['s0.lidx', 's1.lidx', 's2.lidx', 's3.lidx'] }));
  await writeSparseJsonl(join(d, 'q.jsonl'), queries);
  for (const mode of ['exact', 'blockmax'] as const) {
    const one = await searchIndex([join(d, 'all.lidx')], join(d, 'q.jsonl'), { k: 20, mode, alpha: 1 });
    const many = await searchIndex([join(d, 'shards.json')], join(d, 'q.jsonl'), { k: 20, mode, alpha: 1 });
    assert.deepEqual(many.run, one.run);
    for (const hits of one.run.values()) for (let i = 1; i < hits.length; i++) assert.ok(hits[i]!.score < hits[i - 1]!.score);
  }
  // Shards built without --vocab infer their vocabulary (largest id + 1): a query term beyond a shard's largest id
  // matches nothing there, so the search still returns exactly the single-index top-k (docs/indexing.md).
  for (let i = 0; i + 1 < cuts.length; i++) writeInvertedIndex(await buildInvertedIndexFromRecords(docs.slice(cuts[i], cuts[i + 1])), join(d, `s${i}.lidx`));
  writeInvertedIndex(await buildInvertedIndexFromRecords(docs.slice(0, 70).map((r) => ({ ...r, vec: { terms: r.vec.terms.filter((t) => t < 20), weights: r.vec.weights.filter((_, i) => r.vec.terms[i]! < 20) } }))), join(d, 's0.lidx'));
  const inferred = await searchIndex([join(d, 'shards.json')], join(d, 'q.jsonl'), { k: 20 });
  const docs0 = docs.slice(0, 70).map((r) => ({ ...r, vec: { terms: r.vec.terms.filter((t) => t < 20), weights: r.vec.weights.filter((_, i) => r.vec.terms[i]! < 20) } }));
  writeInvertedIndex(await buildInvertedIndexFromRecords([...docs0, ...docs.slice(70)], { vocabSize: 40 }), join(d, 'all2.lidx'));
  assert.deepEqual(inferred.run, (await searchIndex([join(d, 'all2.lidx')], join(d, 'q.jsonl'), { k: 20 })).run);
  // A declared vocabulary (--vocab or the .lsv header) is the encoder's: a query term beyond it is E_SHAPE.
  writeInvertedIndex(await buildInvertedIndexFromRecords(docs0, { vocabSize: 20 }), join(d, 's0.lidx'));
  await assert.rejects(searchIndex([join(d, 'shards.json')], join(d, 'q.jsonl'), { k: 20 }), (e: Error & { code?: string }) => e.code === 'E_SHAPE' && /outside the index vocabulary of 20/.test(e.message));
});

test('sharded dense search equals one index; dimension mismatch is a ShapeError', async () => {
  const d = tempDir();
  const r = rng(3);
  const m = { data: Float32Array.from({ length: 200 * 8 }, () => Math.round(r() * 4)), rows: 200, dim: 8, ids: Array.from({ length: 200 }, (_, i) => `d${i}`) };
  writeVectorIndex(vectorIndexFromMatrix(m), join(d, 'all.lvec'));
  const part = (a: number, b: number) => ({ data: m.data.slice(a * 8, b * 8), rows: b - a, dim: 8, ids: m.ids.slice(a, b) });
  writeVectorIndex(vectorIndexFromMatrix(part(0, 90)), join(d, 'a.lvec'));
  writeVectorIndex(vectorIndexFromMatrix(part(90, 200)), join(d, 'b.lvec'));
  writeDenseShard(join(d, 'q.f32'), { data: Float32Array.from({ length: 10 * 8 }, () => Math.round(r() * 3)), rows: 10, dim: 8, ids: Array.from({ length: 10 }, (_, i) => `q${i}`) });
  const one = await searchIndex([join(d, 'all.lvec')], join(d, 'q.f32'), { k: 15 });
  const two = await searchIndex([join(d, 'a.lvec'), join(d, 'b.lvec')], join(d, 'q.f32'), { k: 15 });
  assert.deepEqual(two.run, one.run);
  writeDenseShard(join(d, 'q4.f32'), { data: new Float32Array(4), rows: 1, dim: 4, ids: ['x'] });
  await assert.rejects(searchIndex([join(d, 'all.lvec')], join(d, 'q4.f32')), (e: Error & { code?: string }) => e.code === 'E_SHAPE' && /dimension 4/.test(e.message));
});

test('lion index / search / fuse write TREC runs with strictly decreasing scores', async () => {
  const d = tempDir();
  await writeSparseJsonl(join(d, 'docs.jsonl'), docs);
  await writeSparseJsonl(join(d, 'q.jsonl'), queries);
  const quiet = process.stderr.write;
  process.stderr.write = () => true;
  try {
    assert.equal(await main(['index', '--paradigm', 'sparse', '--out', join(d, 'x.lidx'), join(d, 'docs.jsonl')]), 0);
    assert.equal(await main(['search', '--index', join(d, 'x.lidx'), '--query-vectors', join(d, 'q.jsonl'), '--k', '30', '--out', join(d, 'run.trec')]), 0);
    assert.equal(await main(['search', '--index', join(d, 'x.lidx'), '--query-vectors', join(d, 'q.jsonl'), '--k', '30', '--mode', 'cluster', '--out', join(d, 'cl.trec')]), 0);
    assert.equal(await main(['fuse', join(d, 'run.trec'), join(d, 'run.trec'), '--out', join(d, 'f.trec'), '--k', '30']), 0);
    assert.equal(await main(['search', '--index', join(d, 'x.lidx'), '--query-vectors', join(d, 'nope.jsonl'), '--out', join(d, 'r2.trec')]), 2);
  } finally { process.stderr.write = quiet; }
  for (const f of ['run.trec', 'f.trec']) {
    const rows = readFileSync(join(d, f), 'utf8').trim().split('\n').map((l) => l.split(' '));
    assert.ok(rows.length > 0);
    for (let i = 1; i < rows.length; i++) if (rows[i]![0] === rows[i - 1]![0]) assert.ok(Number(rows[i]![4]) < Number(rows[i - 1]![4]), `${f} line ${i + 1}`);
  }
  assert.ok(JSON.parse(readFileSync(join(d, 'run.trec.json'), 'utf8')).stats.queries === queries.length);
  // Without --cut or --gamma, cluster search runs (and records) the cluster defaults, not impact's cut.
  assert.deepEqual(JSON.parse(readFileSync(join(d, 'cl.trec.json'), 'utf8')).settings,
    { mode: 'cluster', k: 30, cut: DEFAULTS.sparseSearch.clusterCut, gamma: DEFAULTS.sparseSearch.gamma });
});

test('cluster defaults follow the index size: more terms and a larger gamma from clusterLarge.fromDocs on', () => {
  const large = DEFAULTS.sparseSearch.clusterLarge;
  assert.deepEqual(clusterDefaults(1000), { cut: DEFAULTS.sparseSearch.clusterCut, gamma: DEFAULTS.sparseSearch.gamma });
  assert.deepEqual(clusterDefaults(large.fromDocs - 1), { cut: DEFAULTS.sparseSearch.clusterCut, gamma: DEFAULTS.sparseSearch.gamma });
  assert.deepEqual(clusterDefaults(large.fromDocs), { cut: large.cut, gamma: large.gamma });
  assert.deepEqual(resolvedSparseSettings({ mode: 'cluster', k: 10 }, 4_000_000), { mode: 'cluster', k: 10, cut: large.cut, gamma: large.gamma });
  assert.deepEqual(resolvedSparseSettings({ mode: 'cluster', k: 10, cut: 3 }, 4_000_000), { mode: 'cluster', k: 10, cut: 3, gamma: large.gamma });
  assert.ok(large.cut > DEFAULTS.sparseSearch.clusterCut && large.gamma > DEFAULTS.sparseSearch.gamma);
});
