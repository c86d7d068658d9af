#!/usr/bin/env node
// Builds the native kernel addon (native/, binding.gyp) with node-gyp during `npm install`.
// A failed build is not fatal: Lion falls back to the plain TypeScript `ref` backend and says so
// at run time (set LION_BACKEND=ref to silence the warning). LION_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.LION_SKIP_NATIVE === '1' || !existsSync(join(root, 'binding.gyp'))) process.exit(0);

function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const candidates = [];
  try { candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')); } catch { /* not a dependency */ }
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  candidates.push(npmDir);
  return candidates.find((p) => existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) {
  console.warn('lion: node-gyp not found; the native addon was not built. Lion will use LION_BACKEND=ref (slower).');
  process.exit(0);
}
const r = spawnSync(process.execPath, [gyp, 'rebuild', '--release'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('lion: the native addon failed to build; Lion will use LION_BACKEND=ref (slower). See the log above.');
}
process.exit(0);
