// Body reading and JSON parsing on a real loopback server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FormatError, NotFoundError, ModelError } from '../../src/errors.js';
import { HttpError, parseJsonObject, readBody, toHttpError } from '../../src/server/http.js';

function post(port: number, chunks: Buffer[], headers: Record<string, string | number> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('readBody returns the body under the limit and refuses over it with 413 after draining', async () => {
  const srv = createServer((req, res) => {
    readBody(req, 1000).then(
      (b) => res.end(`ok ${b.length}`),
      (e: HttpError) => {
        res.statusCode = e.status;
        res.end(e.message);
      },
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    assert.deepEqual(await post(port, [Buffer.from('é'.repeat(10))]), { status: 200, body: 'ok 10' });
    const streamed = await post(port, Array.from({ length: 20 }, () => Buffer.alloc(100, 0x61)));
    assert.equal(streamed.status, 413);
    assert.match(streamed.body, /exceeds the limit of 1000 bytes/);
    const declared = await post(port, [Buffer.alloc(5000, 0x61)], { 'content-length': 5000 });
    assert.equal(declared.status, 413);
    assert.match(declared.body, /5000 bytes exceeds/);
  } finally {
    srv.close();
  }
});

test('parseJsonObject accepts objects only; LionErrors map to client and server statuses', () => {
  assert.deepEqual(parseJsonObject('{"a":1}'), { a: 1 });
  for (const bad of ['', ' ', '[]', '1', 'null', '"x"', '{']) assert.throws(() => parseJsonObject(bad), (e: unknown) => e instanceof HttpError && e.status === 400);
  assert.equal(toHttpError(new FormatError('x')).status, 400);
  assert.equal(toHttpError(new NotFoundError('x')).status, 404);
  assert.equal(toHttpError(new ModelError('x')).status, 500);
  const internal = toHttpError(new Error('secret detail'));
  assert.equal(internal.status, 500);
  assert.doesNotMatch(internal.message, /secret/);
});
