#!/usr/bin/env node
// Longer fuzz runs than `npm test` does: `npm run fuzz [-- RUNS [SEED]]` (default 5000 cases per target, a
// seed from the clock, printed so a failure can be replayed with LION_FUZZ_SEED=<seed>).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const runs = process.argv[2] ?? '5000';
const seed = process.argv[3] ?? String(Date.now() % 2 ** 31);
const dir = join('dist', 'test', 'fuzz');
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => join(dir, f));
console.log(`fuzz: ${runs} cases per target, seed ${seed} (replay: LION_FUZZ_SEED=${seed} LION_FUZZ_RUNS=${runs} node --test ${files.join(' ')})`);
const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit', env: { ...process.env, LION_FUZZ_RUNS: runs, LION_FUZZ_SEED: seed } });
process.exit(r.status ?? 1);
