/**
 * Search: exact hand-computed scores, agreement with the brute-force reference scorer on Cranfield,
 * deterministic tie-breaking, and argument checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createEnglishAnalyzer } from '../../src/bm25/analyzer.js';
import { buildBm25Index } from '../../src/bm25/build.js';
import { createBm25Searcher, searchBm25, searchBm25All } from '../../src/bm25/search.js';
import { bm25Reference } from '../../src/bm25/similarity.js';
import { collect, docText, readCorpus, readQueries } from '../../src/io/corpus.js';
import { LionError } from '../../src/errors.js';
import { fixtures } from '../helpers.js';
import { HAND_D3_EXACT, HAND_DOCS, HAND_QUERY, HAND_SCORES } from './hand.js';

test('scores equal the hand-computed Lucene values, best first', async () => {
  const s = createBm25Searcher(await buildBm25Index(HAND_DOCS));
  assert.deepEqual(searchBm25(s, HAND_QUERY, 10), [
    { docid: 'd0', score: HAND_SCORES.d0 }, { docid: 'd1', score: HAND_SCORES.d1 }, { docid: 'd3', score: HAND_SCORES.d3 },
  ]);
  assert.deepEqual(searchBm25(s, HAND_QUERY, 1), [{ docid: 'd0', score: HAND_SCORES.d0 }]);
  assert.deepEqual(searchBm25(s, 'the zebra', 10), []);
  const exact = createBm25Searcher(await buildBm25Index(HAND_DOCS), { exactLengths: true });
  assert.equal(searchBm25(exact, HAND_QUERY, 10)[2]!.score, HAND_D3_EXACT);
});

test('ties are broken by input order, the same way every time', async () => {
  const docs = [{ id: 'z', text: 'alpha beta' }, { id: 'a', text: 'beta alpha' }, { id: 'm', text: 'alpha' }, { id: 'b', text: 'alpha beta' }];
  const s = createBm25Searcher(await buildBm25Index(docs));
  const first = searchBm25(s, 'alpha beta', 10);
  assert.deepEqual(first.map((h) => h.docid), ['z', 'a', 'b', 'm']);
  assert.equal(first[0]!.score, first[2]!.score);
  for (let i = 0; i < 3; i++) assert.deepEqual(searchBm25(s, 'alpha beta', 10), first);
  assert.deepEqual(searchBm25(s, 'alpha beta', 2).map((h) => h.docid), ['z', 'a']);
});

test('top-k equals ranking every Cranfield document with the reference scorer', async () => {
  const corpus = await collect(readCorpus(join(fixtures, 'cranfield', 'corpus.jsonl')));
  const queries = (await collect(readQueries(join(fixtures, 'cranfield', 'queries.jsonl')))).slice(0, 60);
  const index = await buildBm25Index(corpus);
  const analyze = createEnglishAnalyzer();
  const docTf = corpus.map((d) => {
    const m = new Map<string, number>();
    for (const t of analyze(docText(d))) m.set(t, (m.get(t) ?? 0) + 1);
    return m;
  });
  const df = new Map<string, number>();
  for (const m of docTf) for (const t of m.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const stats = { docCount: index.docCount, sumTotalTermFreq: index.sumTotalTermFreq, docFreq: (t: string) => df.get(t) ?? 0 };
  for (const exactLengths of [false, true]) {
    const s = createBm25Searcher(index, { exactLengths });
    for (const q of queries) {
      const qc = new Map<string, number>();
      for (const t of analyze(q.text)) qc.set(t, (qc.get(t) ?? 0) + 1);
      const ref = corpus
        .map((d, i) => ({ i, docid: d.id, score: bm25Reference(qc, docTf[i]!, index.docLen[i]!, stats, { k1: 0.9, b: 0.4, exactLengths }) }))
        .filter((h) => h.score > 0)
        .sort((x, y) => y.score - x.score || x.i - y.i)
        .slice(0, 50);
      const got = searchBm25(s, q.text, 50);
      assert.equal(got.length, ref.length, `query ${q.id}`);
      for (let r = 0; r < got.length; r++) {
        assert.ok(Math.abs(got[r]!.score - ref[r]!.score) <= 2e-6 * ref[r]!.score, `query ${q.id} rank ${r}: ${got[r]!.score} vs ${ref[r]!.score}`);
      }
      // The two roundings differ by < 2^-22 relative; on Cranfield they never reorder documents.
      assert.deepEqual(got.map((h) => h.docid), ref.map((h) => h.docid), `query ${q.id}`);
    }
  }
});

test('searching many queries keeps their order and rejects bad arguments', async () => {
  const s = createBm25Searcher(await buildBm25Index(HAND_DOCS));
  const run = await searchBm25All(s, [{ id: 'q2', text: 'dog' }, { id: 'q1', text: 'nothing' }], { k: 5 });
  assert.deepEqual([...run.keys()], ['q2', 'q1']);
  assert.deepEqual(run.get('q2')!.map((h) => h.docid), ['d1', 'd0']);
  assert.deepEqual(run.get('q1'), []);
  const usage = (e: unknown) => e instanceof LionError && e.code === 'E_USAGE';
  assert.throws(() => searchBm25(s, 'dog', 0), usage);
  assert.throws(() => createBm25Searcher(s.index, { b: 1.5 }), usage);
  await assert.rejects(searchBm25All(s, [{ id: 'q', text: 'a' }, { id: 'q', text: 'b' }]), usage);
});
