// Live indexes behind the HTTP API: add, search, update, delete and merge over real loopback HTTP; write auth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveIndex } from '../../src/index/live/live.js';
import { createLionServer } from '../../src/server/app.js';
import { liveSystem } from '../../src/server/live.js';
import { tempDir } from '../helpers.js';

async function json(url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(url, body === undefined ? {} : { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

test('a live BM25 index served over HTTP takes additions, updates, deletions and merges, each visible to the next search', async () => {
  const live = await LiveIndex.create(tempDir('lion-live-srv-'), { kind: 'bm25' });
  const srv = await createLionServer({ systems: [liveSystem('app', live)], port: 0, log: () => {} });
  try {
    const u = srv.url;
    assert.equal((await json(`${u}/api/search?q=flutter`)).body.results[0].hits.length, 0);
    let r = await json(`${u}/api/live/add`, { docs: [{ id: 'a', title: 'Wing flutter', text: 'flutter of a swept wing' }, { id: 'b', text: 'heat transfer in laminar flow' }] });
    assert.equal(r.status, 200);
    assert.equal(r.body.documents, 2);
    let s = (await json(`${u}/api/search?q=flutter`)).body.results[0];
    assert.deepEqual(s.hits.map((h: any) => h.docid), ['a']);
    assert.equal(s.hits[0].title, 'Wing flutter', 'live documents are shown with their text');
    r = await json(`${u}/api/live/add`, { docs: [{ id: 'b', text: 'flutter and heat transfer' }] }); // update
    s = (await json(`${u}/api/search?q=flutter`)).body.results[0];
    assert.deepEqual(s.hits.map((h: any) => h.docid).sort(), ['a', 'b']);
    r = await json(`${u}/api/live/delete`, { ids: ['a', 'zzz'] });
    assert.equal(r.body.changed, 1);
    s = (await json(`${u}/api/search?q=flutter`)).body.results[0];
    assert.deepEqual(s.hits.map((h: any) => h.docid), ['b']);
    r = await json(`${u}/api/live/merge`, {});
    assert.equal(r.body.segments.length, 1);
    assert.equal(r.body.deleted, 0);
    assert.equal((await json(`${u}/api/live`)).body.systems[0].documents, 1);
    assert.equal((await json(`${u}/api/health`)).body.systems[0].docs, 1);
    r = await json(`${u}/api/live/add`, { docs: [{ id: 'c' }] });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /docs\[0\]\.text/);
  } finally {
    await srv.close();
  }
});

test('live writes need the bearer token when one is set, and are refused off loopback without one', async () => {
  const live = await LiveIndex.create(tempDir('lion-live-srv-'), { kind: 'bm25' });
  const srv = await createLionServer({ systems: [liveSystem('app', live)], port: 0, log: () => {}, liveToken: 's3cret' });
  try {
    assert.equal((await json(`${srv.url}/api/live/add`, { docs: [{ id: 'a', text: 'x' }] })).status, 401);
    assert.equal((await json(`${srv.url}/api/live/add`, { docs: [{ id: 'a', text: 'x' }] }, 'wrong!')).status, 401);
    assert.equal((await json(`${srv.url}/api/live/add`, { docs: [{ id: 'a', text: 'x' }] }, 's3cret')).status, 200);
  } finally {
    await srv.close();
  }
  const live2 = await LiveIndex.create(tempDir('lion-live-srv-'), { kind: 'bm25' });
  const open = await createLionServer({ systems: [liveSystem('app', live2)], host: '0.0.0.0', port: 0, log: () => {} });
  try {
    const port = new URL(open.url).port;
    const r = await json(`http://127.0.0.1:${port}/api/live/add`, { docs: [{ id: 'a', text: 'x' }] });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /no token is set/);
  } finally {
    await open.close();
  }
});
