// API tests over real loopback HTTP: a real server on 127.0.0.1 with two real BM25 systems over Cranfield.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readBm25Index } from '../../src/bm25/format.js';
import { createBm25Searcher, searchBm25 } from '../../src/bm25/search.js';
import { createLionServer, type LionServer } from '../../src/server/app.js';
import { bm25System, loadDocStore } from '../../src/server/systems.js';
import { readFile } from 'node:fs/promises';
import { cranfield, cranfieldIndex, cranfieldRun, cranQrels } from './fixture.js';

let srv: LionServer;
let base: string;

async function getJson(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const r = await fetch(base + path, init);
  return { status: r.status, body: await r.json() };
}
const post = (path: string, body: unknown) =>
  getJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Send raw bytes with node:http (for bodies fetch will not send, and for chunked timing). */
function raw(method: string, path: string, chunks: Array<string | Buffer>, gapMs = 0, url = base): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    // host/port/path given separately so the path goes on the wire verbatim ('..' and all).
    const req = request({ host: u.hostname, port: u.port, path, method, headers: { 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    (async () => {
      for (const c of chunks) {
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      req.end();
    })().catch(reject);
  });
}

before(async () => {
  const ix = await readBm25Index((await cranfieldIndex()).index);
  srv = await createLionServer({
    systems: [bm25System('bm25', ix), bm25System('bm25-b75', ix, { b: 0.75 })],
    docs: await loadDocStore([cranfield]),
    port: 0,
    log: () => {},
  });
  base = srv.url;
});
after(async () => srv.close());

describe('read-only endpoints', () => {
  test('health lists the systems and the documents, on loopback', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await getJson('/api/health');
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.systems.map((s: any) => s.name), ['bm25', 'bm25-b75']);
    assert.equal(body.systems[0].docs, 1400);
    assert.equal(body.documents, 1400);
  });

  test('a document by id, and 404 for an unknown id', async () => {
    const { status, body } = await getJson('/api/doc/1');
    assert.equal(status, 200);
    assert.match(body.title, /slipstream/);
    const miss = await getJson('/api/doc/no-such-doc');
    assert.equal(miss.status, 404);
    assert.equal(miss.body.error.code, 'E_NOT_FOUND');
  });
});

describe('search', () => {
  test('text search returns what the library returns, per system, plus an RRF fusion', async () => {
    const q = 'what similarity laws must be obeyed when constructing aeroelastic models of heated high speed aircraft';
    const { status, body } = await getJson(`/api/search?q=${encodeURIComponent(q)}&k=10`);
    assert.equal(status, 200);
    assert.equal(body.results.length, 2);
    const ix = await readBm25Index((await cranfieldIndex()).index);
    for (const [i, b] of [0.4, 0.75].entries()) {
      const expected = searchBm25(createBm25Searcher(ix, { b }), q, 10);
      assert.deepEqual(body.results[i].hits.map((h: any) => [h.docid, h.score]), expected.map((h) => [h.docid, h.score]));
    }
    assert.ok(body.results[0].hits[0].title.length > 0, 'hits carry titles from the corpus');
    assert.ok(body.results[0].terms.some((t: any) => t.term === 'aeroelast'), 'query terms are the analysed terms');
    assert.equal(body.fused.method, 'rrf');
    assert.equal(body.fused.hits.length, 10);
    const top = body.fused.hits[0];
    const expectScore = top.ranks.reduce((a: number, r: number | null) => a + (r === null ? 0 : 1 / (60 + r)), 0);
    assert.ok(Math.abs(top.score - expectScore) < 1e-12);
  });

  test('explain=true gives per-term contributions that sum to each score', async () => {
    const { body } = await post('/api/search', { q: 'boundary layer transition at supersonic speeds', k: 5, systems: ['bm25'], explain: true });
    assert.equal(body.results.length, 1);
    assert.equal(body.fused, null);
    for (const h of body.results[0].hits) {
      assert.ok(h.contributions.length > 0);
      const sum = h.contributions.reduce((a: number, c: any) => a + c.contribution, 0);
      assert.ok(Math.abs(sum - h.score) < 1e-4 * Math.max(1, h.score), `${sum} vs ${h.score}`);
      for (const c of h.contributions) {
        assert.ok(c.docWeight > 0 && c.docWeight < 1);
        assert.ok(Math.abs(c.queryWeight * c.docWeight - c.contribution) < 1e-4);
      }
      const cs = h.contributions.map((c: any) => c.contribution);
      assert.deepEqual(cs, [...cs].sort((a: number, b: number) => b - a));
    }
  });

  test('a hit matching more than 32 terms lists the largest 32 and sums the rest', async () => {
    const doc1: any = await getJson('/api/doc/1');
    const { body } = await post('/api/search', { q: doc1.body.text.slice(0, 2000), k: 1, systems: ['bm25'], explain: true });
    const h = body.results[0].hits[0];
    assert.equal(h.contributions.length, 32);
    assert.ok(h.otherContributions.terms > 0);
    const sum = h.contributions.reduce((a: number, c: any) => a + c.contribution, 0) + h.otherContributions.contribution;
    assert.ok(Math.abs(sum - h.score) < 1e-4 * h.score, `${sum} vs ${h.score}`);
    const full = await getJson(`/api/explain?system=bm25&docid=${h.docid}&q=${encodeURIComponent(doc1.body.text.slice(0, 2000))}`);
    assert.equal(full.body.terms.length, 32 + h.otherContributions.terms);
    assert.deepEqual(full.body.terms.slice(0, 32), h.contributions);
  });

  test('a sparse vector of analysed terms is the same query as the text', async () => {
    const a = await post('/api/search', { q: 'wing slipstream', k: 10, systems: ['bm25'] });
    const b = await post('/api/search', { sparse: { wing: 1, slipstream: 1 }, k: 10, systems: ['bm25'] });
    assert.equal(b.status, 200);
    assert.deepEqual(b.body.results[0].hits.map((h: any) => h.docid), a.body.results[0].hits.map((h: any) => h.docid));
    const doubled = await post('/api/search', { sparse: { wing: 2 }, k: 3, systems: ['bm25'] });
    const once = await post('/api/search', { q: 'wing wing', k: 3, systems: ['bm25'] });
    assert.deepEqual(doubled.body.results[0].hits, once.body.results[0].hits);
  });

  test('a query with no known term gives empty lists, not an error', async () => {
    const { status, body } = await getJson('/api/search?q=zzzqqqxxy');
    assert.equal(status, 200);
    assert.deepEqual(body.results.map((r: any) => r.hits.length), [0, 0]);
    assert.deepEqual(body.fused.hits, []);
  });

  test('/api/explain for one document; 404 for a document not in the index', async () => {
    const { status, body } = await getJson('/api/explain?system=bm25&q=wing+slipstream&docid=1');
    assert.equal(status, 200);
    assert.deepEqual(body.terms.map((t: any) => t.term).sort(), ['slipstream', 'wing']);
    assert.equal(body.queryTerms.length, 2);
    const miss = await getJson('/api/explain?system=bm25&q=wing&docid=nope');
    assert.equal(miss.status, 404);
  });
});

describe('bad requests get a 4xx that says what is wrong', () => {
  const cases: Array<[string, unknown, string, string?]> = [
    ['k = 0', { q: 'wing', k: 0 }, 'k must be an integer from 1 to 1000', 'k'],
    ['negative k', { q: 'wing', k: -5 }, 'got -5', 'k'],
    ['enormous k', { q: 'wing', k: 1e12 }, 'from 1 to 1000', 'k'],
    ['fractional k', { q: 'wing', k: 2.5 }, 'got 2.5', 'k'],
    ['k as text', { q: 'wing', k: 'ten' }, 'got "ten"', 'k'],
    ['empty query', { q: '   ' }, 'q is empty', 'q'],
    ['no query', { k: 3 }, 'give a query', undefined],
    ['two query forms', { q: 'a', sparse: { a: 1 } }, 'exactly one of', undefined],
    ['query too long', { q: 'x'.repeat(2001) }, 'limit is 2000', 'q'],
    ['unknown system', { q: 'wing', systems: ['nope'] }, "unknown system 'nope'", 'systems'],
    ['unknown parameter', { q: 'wing', kk: 3 }, "unknown parameter 'kk'", 'kk'],
    ['negative sparse weight', { sparse: { wing: -1 } }, 'finite number ≥ 0', 'sparse'],
    ['sparse as array', { sparse: [1, 2] }, 'object of term', 'sparse'],
    ['dense to a BM25 system', { dense: [0.1, 0.2], systems: ['bm25'] }, 'does not accept a dense query', 'systems'],
    ['dense with NaN-like values', { dense: [0.1, 'x'] }, 'dense[1] must be a finite number', 'dense'],
    ['explain not boolean', { q: 'wing', explain: 'yes' }, 'explain must be true or false', 'explain'],
  ];
  for (const [name, body, msg, field] of cases) {
    test(name, async () => {
      const r = await post('/api/search', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.ok(r.body.error.message.includes(msg), r.body.error.message);
      assert.equal(r.body.error.field, field);
    });
  }

  test('bad JSON, a JSON array, an empty body', async () => {
    for (const b of ['{"q": "wing"', '[1,2]', '']) {
      const r = await post('/api/search', b);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'E_BAD_REQUEST');
    }
  });

  test('a body over the limit is refused with 413 and the server stays healthy', async () => {
    const big = Buffer.alloc(2 << 20, 0x20);
    const r = await raw('POST', '/api/search', [big]);
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).error.code, 'E_TOO_LARGE');
    assert.equal((await getJson('/api/health')).status, 200);
  });

  test('oversized headers get a JSON 431, not a reset', async () => {
    const u = new URL(base);
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/api/health', headers: { 'x-big': 'a'.repeat(64 << 10) }, agent: false }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.status, 431);
    assert.equal(JSON.parse(r.body).error.code, 'E_HEADERS_TOO_LARGE');
    assert.equal((await getJson('/api/health')).status, 200);
  });

  test('wrong method, unknown API route', async () => {
    const r = await raw('DELETE', '/api/search', []);
    assert.equal(r.status, 405);
    assert.equal((await getJson('/api/nope')).status, 404);
  });
});

describe('evaluation', () => {
  test('qrels and two uploaded runs give per-query values and a paired comparison', async () => {
    const { dir } = await cranfieldIndex();
    const [a, b] = [await cranfieldRun(dir, 'a', 0.4, 40), await cranfieldRun(dir, 'b', 0.75, 40)];
    const r = await post('/api/evaluate', {
      qrels: { name: 'test.tsv', text: await readFile(cranQrels, 'utf8') },
      runs: [{ name: 'a.trec', text: await readFile(a, 'utf8') }, { name: 'b.trec', text: await readFile(b, 'utf8') }],
      measure: 'ndcg_cut.10',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.perQuery.length, 40);
    assert.equal(r.body.comparison.queries, 40);
    const bad = await post('/api/evaluate', { qrels: { text: '1 0 d1 x\n' }, runs: [{ text: '1 Q0 d1 1 2 t\n' }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'E_FORMAT');
    assert.equal((await getJson('/api/evaluate')).status, 405);
  });
});

describe('static files', () => {
  test('the page and its assets', async () => {
    for (const [p, type] of [['/', 'text/html'], ['/app.js', 'text/javascript'], ['/style.css', 'text/css']] as const) {
      const r = await fetch(base + p);
      assert.equal(r.status, 200);
      assert.ok(r.headers.get('content-type')!.startsWith(type));
      assert.ok((await r.text()).length > 100);
    }
  });

  test('path traversal is refused with 400, unknown files with 404', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2f..%2fetc%2fpasswd', '/public/..\\..\\x', '/%00', '/%zz']) {
      const r = await raw('GET', p, []);
      assert.equal(r.status, 400, p);
    }
    assert.equal((await raw('GET', '/nope.html', [])).status, 404);
    assert.equal((await raw('POST', '/index.html', [])).status, 405);
  });
});

describe('metrics, timeouts, shutdown', () => {
  test('metrics count requests by route and status with latency percentiles', async () => {
    await getJson('/api/search?q=wing');
    await getJson('/api/search?q=wing&k=0');
    const { body } = await getJson('/api/metrics');
    const s = body.requests.by_route['/api/search'];
    assert.ok(s.count >= 2);
    assert.ok(s.latency_ms.p50 > 0 && s.latency_ms.p99 >= s.latency_ms.p50);
    assert.ok(body.requests.by_status['400'] >= 1);
    assert.ok(body.requests.by_status['200'] >= 1);
    assert.ok(body.memory_mb.rss > 0);
  });

  test('a request past its deadline gets 503 E_TIMEOUT', async () => {
    const ix = await readBm25Index((await cranfieldIndex()).index);
    const s = await createLionServer({ systems: [bm25System('bm25', ix)], port: 0, timeoutMs: 50, log: () => {} });
    try {
      // The body arrives slower than the deadline: the server gives up on it and says so.
      const r = await raw('POST', '/api/search', ['{"q":', '"wing"', '}'], 60, s.url);
      assert.equal(r.status, 503);
      assert.equal(JSON.parse(r.body).error.code, 'E_TIMEOUT');
    } finally {
      await s.close();
    }
  });

  test('close() lets an in-flight request finish and refuses new connections', async () => {
    const ix = await readBm25Index((await cranfieldIndex()).index);
    const s = await createLionServer({ systems: [bm25System('bm25', ix)], port: 0, log: () => {} });
    let closed = false;
    const inflight = raw('POST', '/api/search', ['{"q": "wing', ' slipstream", "k": 3}'], 150, s.url);
    await new Promise((r) => setTimeout(r, 50)); // the first chunk is on the wire
    const closing = s.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(closed, false, 'close waits for the request in flight');
    await assert.rejects(fetch(s.url + '/api/health'), 'new connections are refused while closing');
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).results[0].hits.length, 3);
    await closing;
    assert.equal(closed, true);
  });
});
