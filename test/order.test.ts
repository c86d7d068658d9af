import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints, sortHits } from '../src/order.js';

test('hits sort by score descending, then docno descending', () => {
  const hits = [
    { docid: 'a', score: 1 }, { docid: 'c', score: 2 }, { docid: 'b', score: 2 }, { docid: 'd', score: 0.5 }, { docid: 'B', score: 2 },
  ];
  assert.deepEqual(sortHits(hits).map((h) => h.docid), ['c', 'b', 'B', 'a', 'd']);
});

test('docnos compare by code point like strcmp on UTF-8, not by UTF-16 unit', () => {
  assert.ok(compareCodePoints('a\uffff', 'a\u{10000}') < 0); // U+FFFF < U+10000 although 0xFFFF > 0xD800
  assert.ok(compareCodePoints('abc', 'abd') < 0);
  assert.ok(compareCodePoints('ab', 'abc') < 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
  assert.ok(compareCodePoints('10', '9') < 0); // lexicographic, not numeric
});
