/**
 * The README's API example runs as written: the block after the `api-example` marker is saved unchanged as a
 * module of a fresh project whose `lion-retrieval` is this checkout, and run from the repository root (where
 * its `models/` paths point). Its output must show the scores, the decoded tokens and both retrieved ids.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, tempDir } from './helpers.js';

test('the README API example runs as written', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const m = /<!-- api-example[^>]*-->\n```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has an api-example block');
  const dir = tempDir('lion-readme-');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'lion-retrieval'), 'dir');
  writeFileSync(join(dir, 'example.mjs'), m[1]!);
  const r = spawnSync(process.execPath, [join(dir, 'example.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\[ \[ \d+(\.\d+)?, \d+(\.\d+)? \] \]/); // a document sharing no term scores 0
  assert.match(r.stdout, /token: '/);
  const ids = r.stdout.trim().split('\n').slice(-2).map((l) => l.split(' ')[0]);
  assert.deepEqual(ids.sort(), ['a', 'b']);
});
