/**
 * `npm run bench:serve`: load and abuse of `lion serve` on the shipped Cranfield collection.
 *
 * Load: the real CLI (`node bin/lion.js serve`) in its own process on 127.0.0.1, driven by autocannon from this
 * process at a fixed concurrency for a fixed time, several rounds per scenario (medians reported): BM25 text
 * search (k = 10), BM25 with per-term explanations (k = 100), BM25 with a weighted-term vector; a learned
 * sparse index (given vectors with explanations, and text encoded on the server's worker thread), a dense
 * index (given vectors), and all three fused. The server is `lion serve --collection cranfield --demo-models`:
 * the sparse and dense indexes are the whole collection encoded at start-up by the shipped demonstration
 * models (models/lion-demo-sp, -ds; 4,096-token vocabulary, 128 dimensions).
 * Queries cycle through Cranfield's 225. Anchor, in the same run and with the same settings: a bare node:http server
 * answering a fixed small JSON document (the ceiling any Node HTTP service reaches on this machine), and the
 * library's BM25 search called in-process without HTTP. Reported: requests/s, p50/p99 latency, errors (must be
 * 0), non-2xx (must be 0), the server's RSS before, between and after the rounds.
 *
 * Soak: LION_BENCH_SOAK_ROUNDS (6) rounds of 10 s of fused text queries, the server's RSS and heap after each.
 *
 * Abuse: malformed requests (huge bodies declared and streamed, bad JSON, bad k, wrong vector forms and
 * dimensions, path traversal, broken percent-encoding, oversized headers) must each get the expected 4xx,
 * and the server must answer /api/health with 200 afterwards.
 *
 * Writes bench/results/serve.json. Settings: LION_BENCH_SECONDS (default 5), LION_BENCH_ROUNDS (3),
 * LION_BENCH_CONNECTIONS (16), LION_BENCH_SOAK_ROUNDS (6).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildBm25Index } from '../src/bm25/build.js';
import { readBm25Index, writeBm25Index } from '../src/bm25/format.js';
import { createBm25Searcher, searchBm25 } from '../src/bm25/search.js';
import { collect, readCorpus, readQueries } from '../src/io/corpus.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { demoModels } from '../src/server/collection.js';
import { loadEncoder } from '../src/encoders/load.js';
import type { SparseVec } from '../src/types.js';
import { median } from './stats.js';

const root = process.cwd();
const cran = join(root, 'test', 'fixtures', 'cranfield');
const work = join(root, 'bench', 'work', 'serve');
const SECONDS = Number(process.env.LION_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.LION_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.LION_BENCH_CONNECTIONS ?? 16);
const SOAK_ROUNDS = Number(process.env.LION_BENCH_SOAK_ROUNDS ?? 6);

type Autocannon = (opts: Record<string, unknown>) => Promise<any>;
const autocannon = (await import('autocannon' as string)).default as Autocannon;

const r2 = (x: number) => Math.round(x * 100) / 100;

async function startLion(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/lion.js', 'serve', ...args, '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c) => {
      err += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`lion serve exited with ${code}: ${err}`)));
  });
  return { url, child };
}

async function json(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** The server's resident set and V8 heap in MB, from its own /api/metrics. */
async function rssMb(url: string): Promise<{ rss: number; heap: number }> {
  const m = (await json(`${url}/api/metrics`)).memory_mb;
  return { rss: m.rss, heap: m.heap_used };
}

/** One scenario: ROUNDS autocannon runs; medians of throughput and latency, sums of errors. */
async function load(name: string, url: string, bodies: string[] | undefined, path = '/api/search'): Promise<Record<string, unknown>> {
  const rounds = [];
  for (let r = -1; r < ROUNDS; r++) { // round -1 (3 s) warms up (JIT, caches) and is not recorded
    let i = 0;
    const res = await autocannon({
      url: url + path,
      connections: CONNECTIONS,
      duration: r < 0 ? 3 : SECONDS,
      ...(bodies
        ? {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
          }
        : {}),
    });
    if (r < 0) continue;
    rounds.push({
      rps: res.requests.average as number,
      p50: res.latency.p50 as number,
      p99: res.latency.p99 as number,
      errors: (res.errors as number) + (res.timeouts as number),
      non2xx: res.non2xx as number,
      total: res.requests.total as number,
    });
  }
  const out = {
    name,
    connections: CONNECTIONS,
    seconds: SECONDS,
    rounds: rounds.length,
    rps_median: r2(median(rounds.map((x) => x.rps))),
    p50_ms_median: median(rounds.map((x) => x.p50)),
    p99_ms_median: median(rounds.map((x) => x.p99)),
    requests: rounds.reduce((a, x) => a + x.total, 0),
    errors: rounds.reduce((a, x) => a + x.errors, 0),
    non2xx: rounds.reduce((a, x) => a + x.non2xx, 0),
    per_round: rounds,
  };
  console.log(`${name.padEnd(34)} ${String(out.rps_median).padStart(9)} req/s  p50 ${out.p50_ms_median} ms  p99 ${out.p99_ms_median} ms  errors ${out.errors}  non-2xx ${out.non2xx}`);
  return out;
}

/** A raw request with full control of the bytes on the wire. */
function raw(url: string, method: string, path: string, opts: { headers?: Record<string, string | number>; body?: Buffer | string; chunks?: number } = {}): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: opts.headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1)); // a reset before any reply: not a clean 4xx
    (async () => {
      if (opts.chunks) {
        const chunk = Buffer.alloc(1 << 20, 0x61);
        for (let i = 0; i < opts.chunks && !req.destroyed; i++) {
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
      } else if (opts.body !== undefined) req.write(opts.body);
      req.end();
    })().catch(() => resolve(-1));
  });
}

async function abuse(url: string): Promise<Array<Record<string, unknown>>> {
  const J = { 'content-type': 'application/json' };
  const post = (body: unknown) => ({ headers: J, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const cases: Array<[string, string, string, Parameters<typeof raw>[3], number]> = [
    ['search body of 8 MiB (declared)', 'POST', '/api/search', { headers: { ...J, 'content-length': 8 << 20 }, body: Buffer.alloc(8 << 20, 0x20) }, 413],
    ['search body of 32 MiB (chunked, undeclared)', 'POST', '/api/search', { headers: J, chunks: 32 }, 413],
    ['evaluate body of 80 MiB (declared)', 'POST', '/api/evaluate', { headers: { ...J, 'content-length': 80 << 20 }, chunks: 80 }, 413],
    ['bad JSON', 'POST', '/api/search', post('{"q": "wing"'), 400],
    ['JSON array', 'POST', '/api/search', post('[1,2,3]'), 400],
    ['k = -1', 'POST', '/api/search', post({ q: 'wing', k: -1 }), 400],
    ['k = 0', 'GET', '/api/search?q=wing&k=0', {}, 400],
    ['k = 10^12', 'POST', '/api/search', post({ q: 'wing', k: 1e12 }), 400],
    ['k = 99999999999999999999 (query string)', 'GET', '/api/search?q=wing&k=99999999999999999999', {}, 400],
    ['k = "ten"', 'POST', '/api/search', post({ q: 'wing', k: 'ten' }), 400],
    ['query of 100,000 characters', 'POST', '/api/search', post({ q: 'a '.repeat(50_000) }), 400],
    ['dense vector to a BM25 system', 'POST', '/api/search', post({ dense: [0.1, 0.2, 0.3], systems: ['bm25'] }), 400],
    ['dense vector of the wrong dimension (3 for 128)', 'POST', '/api/search', post({ dense: [0.1, 0.2, 0.3], systems: ['dense'] }), 400],
    ['dense vector of 100,000 dimensions', 'POST', '/api/search', post({ dense: new Array(100_000).fill(0.5) }), 400],
    ['sparse token id beyond the vocabulary', 'POST', '/api/search', post({ sparse: { 999999: 1 }, systems: ['sparse'] }), 400],
    ['dense vector with a string inside', 'POST', '/api/search', post({ dense: [0.1, 'x'] }), 400],
    ['sparse vector with a negative weight', 'POST', '/api/search', post({ sparse: { wing: -2 } }), 400],
    ['sparse vector of 20,000 terms', 'POST', '/api/search', post({ sparse: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`t${i}`, 1])) }), 400],
    ['unknown system', 'POST', '/api/search', post({ q: 'wing', systems: ['nope'] }), 400],
    ['explain without docid', 'GET', '/api/explain?system=bm25&q=wing', {}, 400],
    ['static ../ traversal', 'GET', '/../../etc/passwd', {}, 400],
    ['static %2e%2e traversal', 'GET', '/%2e%2e/%2e%2e/etc/passwd', {}, 400],
    ['static encoded slash traversal', 'GET', '/..%2f..%2fpackage.json', {}, 400],
    ['static backslash traversal', 'GET', '/..\\..\\package.json', {}, 400],
    ['static NUL byte', 'GET', '/index.html%00.js', {}, 400],
    ['broken percent-encoding', 'GET', '/%E0%A4%A', {}, 400],
    ['evaluate a server file outside the roots', 'POST', '/api/evaluate', post({ qrels: { path: '/etc/passwd' }, runs: [{ path: '/etc/hostname' }] }), 403],
    ['unknown API route', 'GET', '/api/admin', {}, 404],
    ['wrong method', 'DELETE', '/api/search', {}, 405],
    ['headers of 64 KiB', 'GET', '/api/health', { headers: { 'x-big': 'a'.repeat(64 << 10) } }, 431],
  ];
  const out = [];
  for (const [name, method, path, opts, expect] of cases) {
    const status = await raw(url, method, path, opts);
    const healthy = (await fetch(`${url}/api/health`)).status === 200;
    out.push({ name, expect, status, healthy, ok: status === expect && healthy });
    console.log(`${status === expect && healthy ? 'ok  ' : 'FAIL'} ${String(status).padEnd(4)} (want ${expect}) ${name}${healthy ? '' : ' — server unhealthy afterwards'}`);
  }
  return out;
}

/** The anchor: a bare node:http server with a fixed JSON reply, in a child process like the real server. */
async function startBare(): Promise<{ url: string; child: ChildProcess }> {
  const code = `const s=require('node:http').createServer((q,r)=>{const b='{"status":"ok"}';r.writeHead(200,{'content-type':'application/json','content-length':b.length});r.end(b)});s.listen(0,'127.0.0.1',()=>console.error('http://127.0.0.1:'+s.address().port))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve) => child.stderr!.on('data', (c) => resolve(String(c).trim())));
  return { url, child };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map(r2); // other work on the machine: the figures are only as quiet as it is
  mkdirSync(work, { recursive: true });
  const index = join(work, 'cran.lbm25');
  if (!existsSync(index)) await writeBm25Index(index, await buildBm25Index(readCorpus(cran), { source: cran }));
  const queries = (await collect(readQueries(cran))).map((q) => q.text);

  // In-process library anchor: the same queries through searchBm25, no HTTP.
  const s = createBm25Searcher(await readBm25Index(index));
  const libRounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1000) searchBm25(s, queries[n++ % queries.length]!, 10);
    libRounds.push((n * 1000) / (performance.now() - t0));
  }
  const libQps = r2(median(libRounds));
  console.log(`${'library searchBm25 (no HTTP), k=10'.padEnd(34)} ${String(libQps).padStart(9)} q/s`);

  const bare = await startBare();
  const anchor = await load('anchor: bare node:http fixed JSON', bare.url, undefined, '/');
  bare.child.kill('SIGTERM');

  // The server as a user starts it for the demo: BM25, and learned sparse and dense indexes of the whole
  // collection encoded at start-up by the shipped demonstration models, whose query encoders run on worker
  // threads.
  const t0 = performance.now();
  const { url, child } = await startLion(['--collection', cran, '--demo-models']);
  console.log(`lion serve --collection ${cran} --demo-models: ready in ${Math.round(performance.now() - t0)} ms (encodes 1,400 documents twice)`);
  await fetch(`${url}/api/health`);
  const rss: Array<[string, { rss: number; heap: number }]> = [['start', await rssMb(url)]];
  const text = await load('bm25 text, k=10', url, queries.map((q) => JSON.stringify({ q, k: 10, systems: ['bm25'] })));
  rss.push([text.name as string, await rssMb(url)]);
  const explain = await load('bm25 text, k=100, explain', url, queries.map((q) => JSON.stringify({ q, k: 100, explain: true, systems: ['bm25'] })));
  rss.push([explain.name as string, await rssMb(url)]);
  const words = queries.map((q) => q.split(/\W+/).filter((w) => w.length > 3).slice(0, 4));
  const sparse = await load('bm25 sparse vector, k=10', url, words.map((w) => JSON.stringify({ sparse: Object.fromEntries(w.map((x, i) => [x, 1 + i / 4])), k: 10, systems: ['bm25'] })));
  rss.push([sparse.name as string, await rssMb(url)]);
  const demo = demoModels();
  const sp = loadEncoder(demo.sparseModel, { head: 'sparse' });
  const ds = loadEncoder(demo.denseModel, { head: 'dense' });
  const enc = (e: typeof sp, q: string) => e.encodeBatch([q], 'query')[0]!;
  const spVecs = queries.map((q) => {
    const v = enc(sp, q) as SparseVec;
    return JSON.stringify({ sparse: Object.fromEntries(Array.from(v.terms, (t, i) => [String(t), v.weights[i]])), k: 10, systems: ['sparse'], explain: true });
  });
  const sparseVec = await load('sparse vector, k=10, explain', url, spVecs);
  rss.push([sparseVec.name as string, await rssMb(url)]);
  const sparseText = await load('sparse text (worker-encoded), k=10', url, queries.map((q) => JSON.stringify({ q, k: 10, systems: ['sparse'] })));
  rss.push([sparseText.name as string, await rssMb(url)]);
  const denseVecs = queries.map((q) => JSON.stringify({ dense: Array.from(enc(ds, q) as Float32Array), k: 10, systems: ['dense'] }));
  const denseVec = await load('dense vector, k=10', url, denseVecs);
  rss.push([denseVec.name as string, await rssMb(url)]);
  const hybrid = await load('bm25 + sparse + dense text, fused', url, queries.map((q) => JSON.stringify({ q, k: 10 })));
  rss.push([hybrid.name as string, await rssMb(url)]);
  const again = await load('bm25 text, k=10 (again)', url, queries.map((q) => JSON.stringify({ q, k: 10, systems: ['bm25'] })));
  rss.push([again.name as string, await rssMb(url)]);
  const again2 = await load('bm25 text, k=100, explain (again)', url, queries.map((q) => JSON.stringify({ q, k: 100, explain: true, systems: ['bm25'] })));
  rss.push([again2.name as string, await rssMb(url)]);
  // Soak: fused text queries (all three systems) in 10 s rounds; memory after each shows whether it levels off.
  const soak = [];
  for (let r = 0; r < SOAK_ROUNDS; r++) {
    let i = 0;
    const res = await autocannon({
      url: `${url}/api/search`, connections: CONNECTIONS, duration: 10, method: 'POST', headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ q: queries[i++ % queries.length], k: 10, explain: r % 2 === 0 }) }) }],
    });
    soak.push({ round: r, rps: r2(res.requests.average), errors: res.errors + res.timeouts, non2xx: res.non2xx, ...(await rssMb(url)) });
  }
  console.log(`soak (${SOAK_ROUNDS} × 10 s fused): RSS ${soak.map((x) => x.rss).join(' → ')} MB, heap ${soak.map((x) => x.heap).join(' → ')} MB`);
  const abuseResults = await abuse(url);
  const metrics = await json(`${url}/api/metrics`);
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  child.kill('SIGTERM');
  const exitCode = await exit;

  const scenarios = [text, explain, sparse, sparseVec, sparseText, denseVec, hybrid, again, again2];
  const clean = scenarios.every((x) => x.errors === 0 && x.non2xx === 0) && soak.every((x) => x.errors === 0 && x.non2xx === 0)
    && abuseResults.every((a) => a.ok) && exitCode === 0;
  const result = {
    benchmark: 'serve',
    command: 'npm run bench:serve',
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg_start: loadAtStart, loadavg_end: loadavg().map(r2) },
    settings: { connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, collection: 'cranfield (1,400 docs, 225 queries)' },
    anchors: { bare_http: anchor, library_qps_k10: libQps },
    scenarios,
    ratios: {
      bm25_k10_rps_over_bare_http: r2(text.rps_median as number / (anchor.rps_median as number)),
      bm25_k10_rps_over_library_qps: r2(text.rps_median as number / libQps),
    },
    memory_mb_after: Object.fromEntries(rss),
    soak,
    abuse: abuseResults,
    server_metrics_at_end: { requests: metrics.requests.total, by_status: metrics.requests.by_status, latency_ms: metrics.latency_ms },
    graceful_exit_code: exitCode,
    clean,
  };
  await writeFileAtomic(join(root, 'bench', 'results', 'serve.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`RSS ${rss.map((x) => x[1].rss).join(' → ')} MB (heap ${rss.map((x) => x[1].heap).join(' → ')}); abuse ${abuseResults.filter((a) => a.ok).length}/${abuseResults.length} clean; exit ${exitCode}`);
  console.log(`ratio bm25 k=10 / bare HTTP = ${result.ratios.bm25_k10_rps_over_bare_http}; wrote bench/results/serve.json${clean ? '' : ' — NOT CLEAN'}`);
  if (!clean) process.exitCode = 1;
}

await main();
