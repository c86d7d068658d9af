/**
 * The files that ship with the package, found from the installed package's root whether Lion runs compiled
 * (`dist/src/…`) or from source (`src/…`): the demonstration models (models/, see models/README.md), the
 * Cranfield collection (test/fixtures/cranfield) and the web page (src/server/public).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from './errors.js';

const PACKAGE_NAME = 'lion-retrieval';
let root: string | undefined;

/** The package's root folder: the nearest folder above this module whose package.json names Lion. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return (root = dir);
      } catch {
        // an unreadable package.json above us is not ours; keep looking
      }
    }
    if (dirname(dir) === dir) break;
  }
  throw new NotFoundError(`the package root (a package.json named ${PACKAGE_NAME}) is not above ${here}`, { hint: 'reinstall the package' });
}

/** The Cranfield collection shipped with the package (test/fixtures/cranfield). */
export function shippedCranfield(): { name: string; dir: string } {
  return { name: 'Cranfield', dir: join(packageRoot(), 'test', 'fixtures', 'cranfield') };
}

/** The demonstration models shipped with the package (models/, see models/README.md). */
export function shippedModels(): { base: string; sparse: string; dense: string } {
  const dir = join(packageRoot(), 'models');
  return { base: join(dir, 'lion-demo-base'), sparse: join(dir, 'lion-demo-sp'), dense: join(dir, 'lion-demo-ds') };
}

/** Where the web page lives: `src/server/public` of the package (it has no build step, so it is never in dist/). */
export function publicDir(): string {
  const dir = join(packageRoot(), 'src', 'server', 'public');
  if (existsSync(join(dir, 'index.html'))) return dir;
  throw new NotFoundError(`the web page's files (src/server/public/index.html) are missing under ${packageRoot()}`, { hint: 'reinstall the package; src/server/public ships with it' });
}
