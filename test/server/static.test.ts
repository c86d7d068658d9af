import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../src/server/http.js';
import { loadStatic, lookupStatic } from '../../src/server/static.js';

test('the page is loaded into memory with content types', () => {
  const files = loadStatic();
  assert.ok(files.get('/')!.type.startsWith('text/html'));
  assert.ok(files.get('/app.js')!.type.startsWith('text/javascript'));
  assert.ok(files.get('/style.css')!.type.startsWith('text/css'));
});

test('traversal and malformed paths are 400, unknown files 404', () => {
  const files = loadStatic();
  const status = (p: string) => {
    try {
      lookupStatic(files, p);
      return 200;
    } catch (e) {
      return (e as HttpError).status;
    }
  };
  assert.equal(status('/app.js'), 200);
  for (const p of ['/../etc/passwd', '/%2e%2e/x', '/a/../app.js', '/./app.js', '/a\\b', '/%00', '/%E0%A4%A']) assert.equal(status(p), 400, p);
  assert.equal(status('/missing.js'), 404);
});
