/**
 * The import graph points down the floors of docs/architecture.md: a module never imports (values or types) from
 * a higher floor. Known exceptions are listed with their reason; a new upward import fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.js';

/** Floor of a source file (path relative to the repository root, `src/...ts`). */
function floor(f: string): number {
  if (/^src\/(types|errors|defaults|order|assets)\.ts$/.test(f) || f.startsWith('src/util/')) return 0;
  if (/^src\/(io|kernels|tokenizer)\//.test(f)) return 1;
  if (f.startsWith('src/model/')) return 2;
  if (f.startsWith('src/encoders/')) return 3;
  if (/^src\/(train|index|bm25|eval|rerank)\//.test(f)) return 4;
  if (f.startsWith('src/api/') || f === 'src/quickstart.ts') return 5;
  return 6; // server, study, cli, the barrel
}

const KNOWN: Record<string, string> = {
};

function sources(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

test('no module imports from a higher floor', () => {
  const up: string[] = [];
  let edges = 0;
  for (const abs of sources(join(repoRoot, 'src'))) {
    const f = relative(repoRoot, abs).split('\\').join('/');
    for (const m of readFileSync(abs, 'utf8').matchAll(/^(?:import|export)[^'";]*from\s+'(\.[^']+)'/gm)) {
      const t = relative(repoRoot, resolve(dirname(abs), m[1]!)).split('\\').join('/').replace(/\.js$/, '.ts');
      edges++;
      if (floor(t) > floor(f) && !KNOWN[`${f} -> ${t}`]) up.push(`${f} (floor ${floor(f)}) imports ${t} (floor ${floor(t)})`);
    }
  }
  assert.ok(edges > 300, `read the import graph (${edges} edges)`);
  assert.deepEqual(up, []);
});
