import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBm25Index } from '../../src/bm25/build.js';
import { vectorIndexFromMatrix } from '../../src/index/vector/flat.js';
import { HttpError } from '../../src/server/http.js';
import { denseSystem } from '../../src/server/neural.js';
import type { SearchSystem } from '../../src/server/system.js';
import { bm25System } from '../../src/server/systems.js';
import { parseK, parseSearch, type Limits } from '../../src/server/validate.js';

const limits: Limits = { maxK: 100, maxQueryChars: 50, maxSparseTerms: 3 };
let all: SearchSystem[];

before(async () => {
  // Two small real systems: BM25 over two documents, and a dense index of two 3-dimensional vectors.
  const docs = [{ id: 'a', text: 'wing in a slipstream' }, { id: 'b', text: 'boundary layer' }];
  all = [
    bm25System('b', await buildBm25Index(docs)),
    denseSystem('d', vectorIndexFromMatrix({ data: Float32Array.of(1, 0, 0, 0, 1, 0), rows: 2, dim: 3, ids: ['a', 'b'] })),
  ];
});

function fails(f: () => unknown, field: string | undefined, msg: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof HttpError && e.status === 400 && e.field === field && msg.test(e.message));
}

test('k: integers in range, from JSON numbers or query-string digits', () => {
  assert.equal(parseK(undefined, 10, limits), 10);
  assert.equal(parseK('', 10, limits), 10);
  assert.equal(parseK('7', 10, limits), 7);
  assert.equal(parseK(100, 10, limits), 100);
  for (const bad of [0, -1, 101, 1.5, '1e2', ' ', 'x', null, true, [5], '99999999999999999999']) fails(() => parseK(bad, 10, limits), 'k', /integer from 1 to 100/);
});

test('the query form picks the systems that take it; named systems are checked', () => {
  assert.deepEqual(parseSearch({ q: 'wing' }, all, limits, 10).systems.map((s) => s.info.name), ['b']);
  assert.deepEqual(parseSearch({ dense: [1, 2, 3] }, all, limits, 10).systems.map((s) => s.info.name), ['d']);
  const r = parseSearch({ sparse: { a: 1, b: 0 }, systems: 'b', explain: 'true', k: '3' }, all, limits, 10);
  assert.deepEqual([...(r.query as { sparse: Map<string, number> }).sparse], [['a', 1], ['b', 0]]);
  assert.equal(r.k, 3);
  assert.equal(r.explain, true);
  fails(() => parseSearch({ dense: [1, 2] }, all, limits, 10), 'dense', /2 dimensions; system 'd' expects 3/);
  fails(() => parseSearch({ q: 'x', systems: ['d'] }, all, limits, 10), 'systems', /does not accept a text query/);
  fails(() => parseSearch({ q: 'x', systems: 5 }, all, limits, 10), 'systems', /list of system names/);
  fails(() => parseSearch({ sparse: { a: 1, b: 1, c: 1, d: 1 } }, all, limits, 10), 'sparse', /4 terms; the limit is 3/);
  fails(() => parseSearch({ sparse: { a: Infinity } }, all, limits, 10), 'sparse', /finite number/);
  fails(() => parseSearch({ sparse: {} }, all, limits, 10), 'sparse', /no terms/);
  fails(() => parseSearch({ q: 'x'.repeat(51) }, all, limits, 10), 'q', /51 characters long; the limit is 50/);
  fails(() => parseSearch({ q: 3 }, all, limits, 10), 'q', /must be a string/);
  fails(() => parseSearch({ dense: [] }, all, limits, 10), 'dense', /non-empty array/);
  fails(() => parseSearch({ dense: [1, 2, 3] }, [all[0]!], limits, 10), 'dense', /no served system accepts a dense query/);
});
