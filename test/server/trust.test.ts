/** Issue 12: the server's limits — JSON depth, declared oversize bodies, connection and heavy-request caps,
 * bounded explanations, a shutdown that drains in-flight responses, and clear errors for port and host. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { readBm25Index } from '../../src/bm25/format.js';
import { createLionServer } from '../../src/server/app.js';
import { bm25System } from '../../src/server/systems.js';
import { cranfieldIndex } from './fixture.js';

async function system() {
  return bm25System('bm25', await readBm25Index((await cranfieldIndex()).index));
}

/** A raw HTTP exchange: writes `request`, collects the whole reply until the server closes or `ms` pass. */
function raw(url: string, request: string, ms = 5000, firstReply = false): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => s.write(request));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d) => { out += d; if (firstReply && out.includes('\r\n\r\n')) { s.destroy(); resolve(out); } });
    s.on('error', reject);
    s.on('close', () => resolve(out));
    setTimeout(() => { s.destroy(); resolve(out); }, ms);
  });
}

test('JSON nested 20,000 deep is a 400, not a 500', async () => {
  const s = await createLionServer({ systems: [await system()], port: 0, log: () => {} });
  try {
    const body = `{"q": ${'['.repeat(20000)}${']'.repeat(20000)}}`;
    const r = await fetch(`${s.url}/api/search`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /nests .* more than 64 levels/);
  } finally { await s.close(); }
});

test('a declared 10 GB body with nothing behind it gets 413 at once, not a 503 at the deadline', async () => {
  const s = await createLionServer({ systems: [await system()], port: 0, timeoutMs: 10_000, log: () => {} });
  try {
    const t0 = performance.now();
    const reply = await raw(s.url, 'POST /api/search HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n', 1500, true);
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.ok(performance.now() - t0 < 1500);
  } finally { await s.close(100); }
});

test('connections beyond maxConnections get a 503 and are closed', async () => {
  const s = await createLionServer({ systems: [await system()], port: 0, maxConnections: 2, log: () => {} });
  const u = new URL(s.url);
  const held = await Promise.all([0, 1].map(() => new Promise<ReturnType<typeof connect>>((res) => { const c = connect(Number(u.port), u.hostname, () => res(c)); })));
  try {
    await new Promise((r) => setTimeout(r, 50));
    const reply = await raw(s.url, 'GET /api/health HTTP/1.1\r\nhost: x\r\n\r\n', 2000);
    assert.match(reply, /^HTTP\/1\.1 503 /);
    assert.match(reply, /E_BUSY/);
  } finally { for (const c of held) c.destroy(); await s.close(100); }
});

test('explained searches are capped (503 E_BUSY beyond maxHeavy) and do not block health checks', async () => {
  const s = await createLionServer({ systems: [await system()], port: 0, maxHeavy: 1, log: () => {} });
  try {
    const q = encodeURIComponent('what is the flow of a viscous fluid past a flat plate at high speed and heat transfer');
    const ask = () => fetch(`${s.url}/api/search?q=${q}&k=1000&explain=true`).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    const health = (async () => { await new Promise((r) => setTimeout(r, 5)); const t = performance.now(); await fetch(`${s.url}/api/health`); return performance.now() - t; })();
    const rs = await Promise.all([ask(), ask(), ask()]);
    assert.ok(rs.some((r) => r.status === 200));
    const ok = rs.find((r) => r.status === 200)!.body;
    const hits = ok.results[0].hits as Array<{ contributions?: unknown }>;
    assert.ok(hits.length > 100 && hits.slice(0, 100).every((h) => h.contributions) && hits.slice(100).every((h) => !h.contributions));
    for (const r of rs) if (r.status !== 200) assert.equal(r.body.error.code, 'E_BUSY');
    assert.ok((await health) < 2000);
  } finally { await s.close(); }
});

test('shutdown drains an in-flight 6 MB response to a slow reader completely', async () => {
  const big = 'x'.repeat(6 << 20);
  const docs = { get: (id: string) => (id === 'big' ? { id, text: big } : undefined), size: 1 };
  const s = await createLionServer({ systems: [await system()], docs, port: 0, log: () => {} });
  const u = new URL(s.url);
  const sock = connect(Number(u.port), u.hostname);
  const chunks: Buffer[] = [];
  await new Promise<void>((res) => sock.once('connect', () => res()));
  sock.write('GET /api/doc/big HTTP/1.1\r\nhost: x\r\n\r\n');
  sock.pause(); // a slow client: nothing is read until the server is already closing
  await new Promise((r) => setTimeout(r, 100));
  const closed = s.close(5000);
  await new Promise((r) => setTimeout(r, 200));
  sock.on('data', (d: Buffer) => chunks.push(d));
  sock.resume();
  await new Promise<void>((res) => sock.once('close', () => res()));
  await closed;
  const reply = Buffer.concat(chunks).toString('latin1');
  const length = Number(/content-length: (\d+)/i.exec(reply)![1]);
  const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
  assert.equal(body.length, length);
  assert.ok(length > 6 << 20);
});

test('a port in use and an unresolvable --host are E_USAGE errors that say so', async () => {
  const a = await createLionServer({ systems: [await system()], port: 0, log: () => {} });
  try {
    const port = Number(new URL(a.url).port);
    await assert.rejects(createLionServer({ systems: [await system()], port, log: () => {} }), (e: any) => e.code === 'E_USAGE' && /already in use/.test(e.message));
    await assert.rejects(createLionServer({ systems: [await system()], port: 0, host: 'no-such-host.invalid', log: () => {} }), (e: any) => e.code === 'E_USAGE' && e.field === 'host');
  } finally { await a.close(); }
});

test('serving an index with a query encoder other than the one recorded in it is E_FOREIGN', async () => {
  const { join } = await import('node:path');
  const { writeDenseShard } = await import('../../src/io/vectors.js');
  const { buildDenseIndex } = await import('../../src/index/vector/flat.js');
  const { encoderIdentity } = await import('../../src/util/identity.js');
  const { openSystems } = await import('../../src/server/systems.js');
  const { repoRoot, tempDir } = await import('../helpers.js');
  const ds = join(repoRoot, 'models', 'lion-demo-ds'), sp = join(repoRoot, 'models', 'lion-demo-sp');
  const d = tempDir();
  writeDenseShard(join(d, 'v.f32'), { data: new Float32Array(8).fill(0.5), rows: 2, dim: 4, ids: ['a', 'b'] }, encoderIdentity({ model: ds, head: 'dense', dim: 4 }));
  buildDenseIndex([join(d, 'v.f32')], join(d, 'x.lvec'));
  await assert.rejects(openSystems([`x=${join(d, 'x.lvec')}`], { models: { x: sp } }), (e: any) => e.code === 'E_FOREIGN' && /lion-demo-ds/.test(e.message));
});

test('evaluations beyond maxHeavy are refused before their bodies are read', async () => {
  const s = await createLionServer({ systems: [await system()], port: 0, maxHeavy: 1, log: () => {} });
  const u = new URL(s.url);
  const a = connect(Number(u.port), u.hostname);
  try {
    await new Promise<void>((res) => a.once('connect', () => res()));
    a.write('POST /api/evaluate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"runs": [');
    await new Promise((r) => setTimeout(r, 100)); // A now holds the only heavy slot, its body half sent
    const r = await fetch(`${s.url}/api/evaluate`, { method: 'POST', body: JSON.stringify({ qrels: { text: 'q 0 d 1' }, runs: [] }) });
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'E_BUSY');
  } finally { a.destroy(); await s.close(200); }
});
