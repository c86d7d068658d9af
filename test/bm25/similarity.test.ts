/**
 * Lucene BM25 arithmetic: SmallFloat's one-byte lengths, and term scores against values computed by hand
 * (numpy float32, Lucene's operation order) for a four-document collection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LENGTH_TABLE, bm25AvgLength, bm25Idf, bm25NormInverse, bm25Reference, bm25TermScore, byte4ToInt, intToByte4,
} from '../../src/bm25/similarity.js';

test('SmallFloat.intToByte4 / byte4ToInt: exact below 24, 4 significant bits above, monotone', () => {
  for (let i = 0; i < 24; i++) assert.equal(byte4ToInt(intToByte4(i)), i);
  assert.equal(intToByte4(41), 40);
  assert.equal(byte4ToInt(40), 40);
  assert.equal(byte4ToInt(intToByte4(41)), 40);
  assert.equal(byte4ToInt(intToByte4(100)), 96);
  assert.equal(intToByte4(0x7fffffff), 255);
  let prev = -1;
  for (let i = 0; i < 200_000; i += 7) {
    const b = intToByte4(i);
    const back = byte4ToInt(b);
    assert.ok(b >= prev && back <= i, `i=${i}`);
    assert.equal(intToByte4(back), b); // decoded values are fixed points
    prev = b;
  }
  assert.equal(LENGTH_TABLE.length, 256);
  assert.equal(LENGTH_TABLE[255], Math.fround(byte4ToInt(255))); // a float table, as in Lucene
  assert.throws(() => intToByte4(-1), RangeError);
});

// Collection: d0 "cat dog cat" (3), d1 "dog dog dog fish" (4), d2 "bird" (1), d3 "cat" + 40×"pig" (41,
// stored as 40), d4 stop words only (0, not counted). N = 4, sumTotalTermFreq = 49, avgdl = 12.25.
// Query "cat cat fish": weight(cat) = 2·ln 2, weight(fish) = ln(1 + 3.5/1.5).
const N = 4;
const avgdl = bm25AvgLength(49, N);
const k1 = 0.9;
const b = 0.4;

test('idf, avgdl and term scores equal the hand-computed Lucene values', () => {
  assert.equal(avgdl, 12.25);
  assert.equal(bm25Idf(N, 2), Math.fround(Math.LN2));
  assert.equal(bm25Idf(N, 1), Math.fround(Math.log(1 + 3.5 / 1.5)));
  const wCat = Math.fround(2 * bm25Idf(N, 2));
  const wFish = bm25Idf(N, 1);
  const ni = (dl: number) => bm25NormInverse(dl, avgdl, k1, b);
  assert.equal(bm25TermScore(wCat, 2, ni(3)), 1.0549529790878296); // d0
  assert.equal(bm25TermScore(wFish, 1, ni(4)), 0.7263563871383667); // d1
  assert.equal(bm25TermScore(wCat, 1, ni(byte4ToInt(intToByte4(41)))), 0.510509729385376); // d3, Lucene length
  assert.equal(bm25TermScore(wCat, 1, ni(41)), 0.5050440430641174); // d3, exact length
});

test('the reference formula agrees with the float32 Lucene path', () => {
  const df = new Map([['cat', 2], ['dog', 2], ['fish', 1], ['bird', 1], ['pig', 1]]);
  const stats = { docCount: N, sumTotalTermFreq: 49, docFreq: (t: string) => df.get(t) ?? 0 };
  const q = new Map([['cat', 2], ['fish', 1]]);
  const p = { k1, b };
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) <= 1e-6 * Math.abs(y), `${x} vs ${y}`);
  close(bm25Reference(q, new Map([['cat', 2], ['dog', 1]]), 3, stats, p), 1.0549529790878296);
  close(bm25Reference(q, new Map([['dog', 3], ['fish', 1]]), 4, stats, p), 0.7263563871383667);
  close(bm25Reference(q, new Map([['cat', 1], ['pig', 40]]), 41, stats, p), 0.510509729385376);
  close(bm25Reference(q, new Map([['cat', 1], ['pig', 40]]), 41, stats, { ...p, exactLengths: true }), 0.5050440430641174);
  assert.equal(bm25Reference(q, new Map([['bird', 1]]), 1, stats, p), 0);
});
