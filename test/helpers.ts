/**
 * Test helpers. `sharedDir()` finds `../shared` (real collections and trec_eval goldens) beside the checkout;
 * tests that need it skip with a one-line reason when it is absent, as users will not have it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
