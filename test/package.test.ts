/**
 * The package as a new user meets it: the files `npm pack` would ship, installed into a fresh project with
 * only TypeScript and Lion's own dependencies (no @types/node), must type-check a program that uses the public
 * API; importing the package must not load usearch (its ES build recurses without end when imported from
 * another package) and must expose the simple API but not internals.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, tempDir } from './helpers.js';

/** A fresh project with the packed files of lion-retrieval and symlinks to its runtime dependencies. */
function consumer(): string {
  const dir = tempDir('lion-consumer-');
  const pack = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' })) as { files: { path: string }[] }[];
  const pkgDir = join(dir, 'node_modules', 'lion-retrieval');
  for (const { path } of pack[0]!.files) {
    if (!path.startsWith('dist/') && path !== 'package.json') continue;
    mkdirSync(dirname(join(pkgDir, path)), { recursive: true });
    cpSync(join(repoRoot, path), join(pkgDir, path));
  }
  const deps = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const d of [...deps, 'typescript', 'bindings', 'node-gyp-build', 'file-uri-to-path']) {
    mkdirSync(dirname(join(dir, 'node_modules', d)), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules', d), join(dir, 'node_modules', d), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  return dir;
}

test('the public .d.ts type-check in a project without @types/node', { timeout: 120_000 }, () => {
  const dir = consumer();
  writeFileSync(join(dir, 'main.ts'), [
    "import { SparseEncoder, DenseEncoder, Retriever, evaluate, readQrels, readRun, type RetrievedDoc } from 'lion-retrieval';",
    "const m = await SparseEncoder.load('models/lion-demo-sp');",
    "const hits: RetrievedDoc[] = await Retriever.fromCorpus(m, ['a', 'b']).search('a', 1);",
    "const d = await DenseEncoder.load('models/lion-demo-ds', { pooling: 'last', normalize: true, dim: 64 });",
    "const r = evaluate(await readQrels('q'), await readRun('r'), { measures: ['ndcg_cut.10'] });",
    'export { hits, d, r };',
  ].join('\n'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2022'], types: [] },
    files: ['main.ts'],
  }));
  const r = spawnSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("import('lion-retrieval') loads neither usearch nor internals", () => {
  const dir = consumer();
  const script = [
    "const m = await import('lion-retrieval');",
    "const { createRequire } = await import('node:module');",
    'const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes(\'usearch\'));',
    "console.log(JSON.stringify({ loaded, api: ['SparseEncoder', 'DenseEncoder', 'Retriever'].every((k) => k in m), internals: ['intToByte4', 'tsGemm', 'packQueries', 'Arena', 'ropeTables'].filter((k) => k in m) }));",
  ].join('\n');
  writeFileSync(join(dir, 'probe.mjs'), script);
  const r = spawnSync(process.execPath, ['probe.mjs'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  assert.deepEqual(JSON.parse(r.stdout), { loaded: [], api: true, internals: [] });
});
