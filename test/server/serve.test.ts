// `lion serve` as a user runs it: the real CLI in a child process, then SIGTERM for a graceful exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { serve } from '../../src/server/serve.js';
import { cranfield, cranfieldIndex } from './fixture.js';

test('the CLI serves the page and the API, then exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
  const { index } = await cranfieldIndex();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'lion.js'), 'serve', '--index', `cran=${index}`, '--corpus', cranfield, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c) => {
      err += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const health: any = await (await fetch(`${url}/api/health`)).json();
  assert.deepEqual(health.systems.map((s: any) => [s.name, s.kind, s.docs]), [['cran', 'bm25', 1400]]);
  assert.equal(health.documents, 1400);
  assert.match(await (await fetch(`${url}/`)).text(), /<title>Lion/);
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  assert.match(err, /SIGTERM: finishing 0 request\(s\) in flight/);
});

test('bad options are usage errors before anything starts', async () => {
  const run = (args: string[]) => new Promise<{ code: number | null; err: string }>((resolve) => {
    const c = spawn(process.execPath, [join(repoRoot, 'bin', 'lion.js'), 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code, err }));
  });
  const { index } = await cranfieldIndex();
  const missing = await run(['--index', '/nonexistent/x.lbm25', '--port', '0']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /E_NOT_FOUND: \/nonexistent\/x\.lbm25: no index file or folder here/);
  const port = await run(['--index', index, '--port', '70000']);
  assert.equal(port.code, 2);
  assert.match(port.err, /--port must be 0\.\.65535/);
  const none = await run([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /give at least one --index \(or --collection\)/);
});

test('--collection indexes a small collection with BM25 at start-up and shows its documents', async () => {
  const s = await serve({ indexes: [], collection: cranfield, port: 0, log: () => {} });
  try {
    const h: any = await (await fetch(`${s.url}/api/health`)).json();
    assert.deepEqual(h.systems.map((x: any) => [x.name, x.kind, x.docs]), [['bm25', 'bm25', 1400]]);
    assert.equal(h.documents, 1400);
    const r: any = await (await fetch(`${s.url}/api/search?q=slipstream&k=1`)).json();
    assert.match(r.results[0].hits[0].title, /slipstream/);
  } finally {
    await s.close();
  }
});

test('serve() names systems after their files and refuses a foreign file', async () => {
  const { index } = await cranfieldIndex();
  const s = await serve({ indexes: [index], port: 0, log: () => {} });
  try {
    const h: any = await (await fetch(`${s.url}/api/systems`)).json();
    assert.equal(h.systems[0].name, 'cran');
    assert.equal(h.documents, 0);
    assert.equal((await fetch(`${s.url}/api/doc/1`)).status, 404);
  } finally {
    await s.close();
  }
  await assert.rejects(serve({ indexes: [join(cranfield, 'queries.jsonl')], port: 0 }), /unknown index format/);
  await assert.rejects(serve({ indexes: [`a=${index}`, `a=${index}`], port: 0 }), /two systems are named 'a'/);
});
