/**
 * Server fuzz: generated requests over every API route — methods, query strings, JSON bodies of any shape and
 * depth, raw bytes, oversized and lying headers — against a real BM25 system over Cranfield. Every reply must
 * be a 2xx/4xx/503 JSON reply (never a 500 or a dropped connection), and the server must stay healthy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readBm25Index } from '../../src/bm25/format.js';
import { createLionServer } from '../../src/server/app.js';
import { bm25System, loadDocStore } from '../../src/server/systems.js';
import { cranfield, cranfieldIndex } from '../server/fixture.js';
import { RUNS, SEED, withCause } from './harness.js';

const ROUTES = ['/api/search', '/api/explain', '/api/evaluate', '/api/doc/1', '/api/doc/%E0%A4%A', '/api/health', '/api/systems', '/api/metrics', '/api/nope', '/', '/../etc/passwd'];
const KEYS = ['q', 'sparse', 'dense', 'k', 'systems', 'explain', 'system', 'docid', 'qrels', 'runs', 'measure', 'trials', 'seed', 'x'];

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 50 }),
  fc.constantFrom(-1, 0, 1e9, 2 ** 53, 1e308, '1e9', 'NaN', '∞', '', ' ', 'bm25', 'wing', '{"wing":1}', [1, 2], { wing: -1 }, { wing: 1e308 }),
);

const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 }).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 1, max: 3000 }).map((n) => `{"q":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

test('server fuzz: every generated request gets a well-formed reply, never a 500', async () => {
  const ix = await readBm25Index((await cranfieldIndex()).index);
  const docs = await loadDocStore([cranfield]);
  const logs: string[] = [];
  const s = await createLionServer({ systems: [bm25System('bm25', ix), bm25System('b75', ix, { b: 0.75 })], docs, port: 0, timeoutMs: 5000, maxBodyBytes: 1 << 16, maxEvalBodyBytes: 1 << 18, log: (l) => logs.push(l) });
  try {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'), fc.constantFrom(...ROUTES),
      fc.dictionary(fc.constantFrom(...KEYS), value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')), { maxKeys: 4 }),
      body,
      async (method, route, query, text) => {
        const qs = new URLSearchParams(query as Record<string, string>).toString();
        const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
        if (method === 'POST' || method === 'PUT') init.body = text;
        const r = await fetch(`${s.url}${route}${qs ? `?${qs}` : ''}`, init);
        const payload = method === 'HEAD' ? '' : await r.text();
        assert.ok([200, 400, 404, 405, 413, 503].includes(r.status), `${method} ${route}?${qs} ${text.slice(0, 80)} -> ${r.status} ${payload.slice(0, 200)}`);
        if (r.status >= 400 && method !== 'HEAD') {
          const e = JSON.parse(payload) as { error?: { code?: string } };
          assert.match(e.error?.code ?? '', /^E_[A-Z_]+$/);
        }
      },
    ), { numRuns: RUNS * 5, seed: SEED, endOnFailure: true }).catch((e: unknown) => { throw withCause(e); });
    const h = await fetch(`${s.url}/api/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(logs.filter((l) => /E_INTERNAL|\n\s+at /.test(l)), []);
  } finally { await s.close(); }
});
