/**
 * Test helpers. `sharedDir()` finds `../shared` (real collections and trec_eval goldens) beside the checkout;
 * tests that need it skip with a one-line reason when it is absent, as users will not have it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError } from '../src/errors.js';

/** Repository root (tests run from dist/test/..., sources live in test/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const fixtures = join(repoRoot, 'test', 'fixtures');

export function sharedDir(): string | undefined {
  const d = process.env.LION_SHARED ?? resolve(repoRoot, '..', 'shared');
  return existsSync(join(d, 'data')) ? d : undefined;
}

/** `skip` option for node:test: false when ../shared exists, else the one-line reason. */
export function needsShared(): false | string {
  return sharedDir() ? false : '../shared is absent (real collections and goldens are not shipped)';
}

export function tempDir(prefix = 'lion-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write `body` to a fresh temporary file named `name` and return its path. */
export function writeTemp(body: string, name = 'f.txt'): string {
  const p = join(tempDir(), name);
  writeFileSync(p, body);
  return p;
}

/**
 * Assert that `p` rejects with a FormatError naming `path` and `line` (undefined: no line), whose message starts
 * with that location and matches `expected`.
 */
export async function assertFormatError(p: Promise<unknown>, path: string, line: number | undefined, expected: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FormatError, `not a FormatError: ${e}`);
    assert.equal(e.file, path);
    assert.equal(e.line, line);
    assert.match(e.message, expected);
    assert.ok(e.message.startsWith(line === undefined ? `${path}: ` : `${path}:line ${line}: `), e.message);
    return true;
  });
}
