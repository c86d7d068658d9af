/**
 * The CPU study's scoring pieces (src/study/suite.ts, teacher.ts): sparse and dense exact scores against a
 * brute-force dot product, re-ranking restricted to the candidates, deterministic tie order, and the lexical
 * teacher never doing worse than its BM25 starting point on the queries it is fitted on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scorer, topHits, type EncodedSet } from '../../src/study/suite.js';
import { candidateFeatures, fitTeacher, LexicalFeatures, rerankNdcg } from '../../src/study/teacher.js';
import { readQrels } from '../../src/io/trec.js';
import type { SparseVec } from '../../src/types.js';
import { Rng } from '../../src/util/rng.js';
import { fixtures } from '../helpers.js';

const sparseVec = (rng: Rng, V: number): SparseVec => {
  const terms = [...new Set(Array.from({ length: 6 }, () => rng.int(V)))].sort((a, b) => a - b);
  return { terms: Uint32Array.from(terms), weights: Float32Array.from(terms, () => rng.float()) };
};

test('sparse and dense scorers equal the brute-force dot product', () => {
  const rng = new Rng(5), V = 40, N = 25, D = 8;
  const docs: EncodedSet = { sparse: Array.from({ length: N }, () => sparseVec(rng, V)), dim: V };
  const qs: EncodedSet = { sparse: [sparseVec(rng, V)], dim: V };
  const dense = (v: SparseVec) => { const x = new Float64Array(V); v.terms.forEach((t, i) => { x[t] = v.weights[i]!; }); return x; };
  const got = new Scorer(docs, N).all(qs, 0);
  const q = dense(qs.sparse![0]!);
  docs.sparse!.forEach((d, i) => { const x = dense(d); assert.ok(Math.abs(got[i]! - x.reduce((s, v, k) => s + v * q[k]!, 0)) < 1e-5); });
  const M = Float32Array.from({ length: N * D }, () => rng.float() - 0.5), Q = Float32Array.from({ length: D }, () => rng.float());
  const g = new Scorer({ dense: M, dim: D }, N).all({ dense: Q, dim: D }, 0);
  for (let i = 0; i < N; i++) assert.ok(Math.abs(g[i]! - Q.reduce((s, v, k) => s + v * M[i * D + k]!, 0)) < 1e-5);
});

test('topHits ranks only the pool when given, breaks ties by position, and writes strictly decreasing scores', () => {
  const scores = Float32Array.from([0.5, 0.9, 0.9, 0.1, 0.7]);
  const ids = ['a', 'b', 'c', 'd', 'e'];
  assert.deepEqual(topHits(scores, ids, 3).map((h) => h.docid), ['b', 'c', 'e']);
  const pooled = topHits(scores, ids, 10, [3, 0, 2]);
  assert.deepEqual(pooled.map((h) => h.docid), ['c', 'a', 'd']);
  for (let i = 1; i < pooled.length; i++) assert.ok(pooled[i]!.score < pooled[i - 1]!.score);
});

test('the lexical teacher is fitted from BM25 upwards on its fitting queries', async () => {
  const cran = join(fixtures, 'cranfield');
  const docs = readFileSync(join(cran, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => { const d = JSON.parse(l) as { _id: string; title: string; text: string }; return { id: d._id, title: d.title, text: d.text }; }).slice(0, 400);
  const qrels = await readQrels(join(cran, 'qrels', 'test.tsv'));
  const queries = readFileSync(join(cran, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => { const q = JSON.parse(l) as { _id: string; text: string }; return { id: q._id, text: q.text }; }).slice(0, 40);
  const fx = await LexicalFeatures.build(docs);
  const c = candidateFeatures(fx, queries, 50);
  const t = fitTeacher(c, qrels, 1);
  assert.equal(t.weights[0], 1);
  assert.ok(t.fitNdcg10 >= rerankNdcg(c, qrels, [1, 0, 0, 0, 0, 0]));
  assert.ok(Math.abs(t.fitNdcg10 - rerankNdcg(c, qrels, t.weights)) < 1e-12);
});
