import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportIndex, readCiff } from '../../src/index/export.js';
import { buildInvertedIndexFromRecords } from '../../src/index/inverted/build.js';
import { vectorIndexFromMatrix } from '../../src/index/vector/flat.js';
import { readSparseJsonl, type SparseRecord } from '../../src/io/vectors.js';
import { tempDir } from '../helpers.js';
import { randomDocs } from './random.js';

const docs = randomDocs(5, 40, 30, 8);
const impact = (w: number) => Math.round(w * 100);

async function collect(it: AsyncIterable<SparseRecord>): Promise<SparseRecord[]> {
  const out: SparseRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

test('Anserini JsonVectorCollection: integer impacts, read back by our JSONL reader', async () => {
  const d = tempDir();
  const ix = await buildInvertedIndexFromRecords(docs);
  await exportIndex(ix, 'sparse', 'anserini', join(d, 'a.jsonl'));
  const back = await collect(readSparseJsonl(join(d, 'a.jsonl')));
  assert.deepEqual(back.map((r) => r.id), docs.map((r) => r.id));
  back.forEach((r, i) => {
    const want = Array.from(docs[i]!.vec.terms).map((t, j) => [t, impact(docs[i]!.vec.weights[j]!)]).filter(([, v]) => v! > 0);
    assert.deepEqual(Array.from(r.vec.terms, (t, j) => [t, r.vec.weights[j]]), want);
  });
  const first = JSON.parse(readFileSync(join(d, 'a.jsonl'), 'utf8').split('\n')[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(first), ['id', 'contents', 'vector']);
});

test('CIFF: header, d-gapped postings and doc records decode to the index', async () => {
  const d = tempDir();
  const ix = await buildInvertedIndexFromRecords(docs);
  await exportIndex(ix, 'sparse', 'ciff', join(d, 'x.ciff'), { scale: 100 });
  const c = readCiff(join(d, 'x.ciff'));
  assert.equal(c.header.version, 1);
  assert.equal(c.header.numDocRecords, docs.length);
  assert.equal(c.header.totalDocs, docs.length);
  const terms = c.postings.map((p) => p.term);
  assert.deepEqual(terms, terms.slice().sort());
  let total = 0;
  for (const pl of c.postings) {
    const t = Number(pl.term);
    const want: Array<[number, number]> = [];
    docs.forEach((r, pos) => { const j = Array.from(r.vec.terms).indexOf(t); if (j >= 0 && impact(r.vec.weights[j]!) > 0) want.push([pos, impact(r.vec.weights[j]!)]); });
    assert.deepEqual(pl.docids.map((x, i) => [x, pl.tfs[i]]), want, `term ${t}`);
    assert.equal(pl.df, want.length);
    assert.equal(pl.cf, want.reduce((a, b) => a + b[1], 0));
    total += pl.cf;
  }
  assert.equal(c.header.totalTerms, total);
  assert.deepEqual(c.docs.map((x) => x.collectionDocid), docs.map((r) => r.id));
  assert.equal(c.docs.reduce((a, b) => a + b.doclength, 0), total);
});

test('OpenSearch bulk and Qdrant points carry the same vectors, with mapping and collection settings', async () => {
  const d = tempDir();
  const ix = await buildInvertedIndexFromRecords(docs);
  await exportIndex(ix, 'sparse', 'opensearch', join(d, 'os.ndjson'), { name: 'msmarco' });
  const lines = readFileSync(join(d, 'os.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.equal(lines.length, 2 * docs.length);
  docs.forEach((r, i) => {
    assert.deepEqual(lines[2 * i], { index: { _index: 'msmarco', _id: r.id } });
    const v = lines[2 * i + 1]!.sparse as Record<string, number>;
    assert.deepEqual(Object.entries(v).map(([t, w]) => [Number(t), Math.fround(w)]), Array.from(r.vec.terms, (t, j) => [t, r.vec.weights[j]]));
  });
  assert.equal(JSON.parse(readFileSync(join(d, 'os.ndjson.mapping.json'), 'utf8')).mappings.properties.sparse.type, 'rank_features');
  await exportIndex(ix, 'sparse', 'qdrant', join(d, 'q.jsonl'));
  const pts = readFileSync(join(d, 'q.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  pts.forEach((p, i) => {
    assert.equal(p.id, i);
    assert.equal(p.payload.docid, docs[i]!.id);
    assert.deepEqual(p.vector.sparse.indices, Array.from(docs[i]!.vec.terms));
    assert.deepEqual(p.vector.sparse.values.map(Math.fround), Array.from(docs[i]!.vec.weights));
  });
  const m = { data: Float32Array.of(1, 2, 3, 4, 5, 6), rows: 2, dim: 3, ids: ['a', 'b'] };
  await exportIndex(vectorIndexFromMatrix(m), 'dense', 'qdrant', join(d, 'dq.jsonl'));
  const dq = readFileSync(join(d, 'dq.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.deepEqual(dq.map((p) => p.vector.dense), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(JSON.parse(readFileSync(join(d, 'dq.jsonl.collection.json'), 'utf8')), { vectors: { dense: { size: 3, distance: 'Dot' } } });
  await exportIndex(vectorIndexFromMatrix(m), 'dense', 'opensearch', join(d, 'dos.ndjson'));
  const dm = JSON.parse(readFileSync(join(d, 'dos.ndjson.mapping.json'), 'utf8'));
  assert.equal(dm.mappings.properties.dense.type, 'knn_vector');
  assert.equal(dm.mappings.properties.dense.dimension, 3);
  await assert.rejects(exportIndex(vectorIndexFromMatrix(m), 'dense', 'ciff', join(d, 'no.ciff')), /sparse/);
});
