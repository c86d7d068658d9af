/** Index construction: statistics, sorted dictionary, postings layout, duplicate ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBm25Index, docIdOf, termIdOf, termOf } from '../../src/bm25/build.js';
import { LionError } from '../../src/errors.js';
import { HAND_DOCS } from './hand.js';


test('statistics and layout of a hand-made collection', async () => {
  const ix = await buildBm25Index(HAND_DOCS);
  assert.equal(ix.numDocs, 5);
  assert.equal(ix.docCount, 4); // d4 has no terms
  assert.equal(ix.sumTotalTermFreq, 49);
  assert.deepEqual([...ix.docLen], [3, 4, 1, 41, 0]);
  assert.deepEqual(Array.from({ length: ix.numTerms }, (_, t) => termOf(ix, t)), ['bird', 'cat', 'dog', 'fish', 'pig']);
  assert.deepEqual(Array.from({ length: 5 }, (_, d) => docIdOf(ix, d)), ['d0', 'd1', 'd2', 'd3', 'd4']);
  const post = (term: string) => {
    const t = termIdOf(ix, term);
    const s = ix.postingOffsets[t]!;
    const e = ix.postingOffsets[t + 1]!;
    return [...ix.postingDocs.subarray(s, e)].map((d, i) => [d, ix.postingTfs[s + i]]);
  };
  assert.deepEqual(post('cat'), [[0, 2], [3, 1]]);
  assert.deepEqual(post('dog'), [[0, 1], [1, 3]]);
  assert.deepEqual(post('pig'), [[3, 40]]);
  assert.equal(termIdOf(ix, 'zebra'), -1);
  assert.equal(termIdOf(ix, 'ca'), -1);
  assert.ok(ix.postingTfs instanceof Uint16Array);
});

test('the dictionary is in UTF-8 byte order and finds every term', async () => {
  const ix = await buildBm25Index([{ id: 'a', text: 'zeta éclair alpha 中 Ωmega beta 10 9' }]);
  const terms = Array.from({ length: ix.numTerms }, (_, t) => termOf(ix, t));
  const sorted = [...terms].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(terms, sorted);
  for (let t = 0; t < terms.length; t++) assert.equal(termIdOf(ix, terms[t]!), t);
});

test('large term frequencies switch the tf array to 32 bits', async () => {
  const ix = await buildBm25Index([{ id: 'x', text: 'ha '.repeat(70_000) }]);
  assert.ok(ix.postingTfs instanceof Uint32Array);
  assert.equal(ix.postingTfs[0], 70_000);
});

test('a duplicate document id is an error', async () => {
  await assert.rejects(buildBm25Index([{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }]), (e: unknown) => e instanceof LionError && e.code === 'E_FORMAT');
});
