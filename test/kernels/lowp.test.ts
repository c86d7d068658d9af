/**
 * Reduced-precision kernels (bf16, int8) of the native backend against `ref` (see lowp-check.ts for the
 * checks and tolerances), on the default path in this process and on every other path this CPU can run
 * (LION_ISA in a child process each). Also: `ref` itself passes the same checks, and an impossible LION_ISA
 * refuses to load with a clear message. Skipped, with the reason, when the addon is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../src/kernels/native.js';
import { ref } from '../../src/kernels/ref/index.js';
import type { Kernels } from '../../src/kernels/types.js';
import { checkLowp } from './lowp-check.js';

let nat: Kernels | undefined;
let why: string | false = false;
try { nat = loadNative(); } catch (e) { why = `native backend unavailable: ${(e as Error).message}`; }
const skip = why;

/** The paths each LION_ISA level must select (docs/kernels.md). */
const LEVELS: Record<string, [string, string]> = {
  amx: ['amx', 'amx-int8'], avx512bf16: ['avx512bf16', 'avx512vnni'], avx512vnni: ['avx512', 'avx512vnni'],
  avx512: ['avx512', 'avx2'], avxvnni: ['avx2', 'avxvnni'], avx2: ['avx2', 'avx2'], portable: ['portable', 'portable'],
};

test('ref: reduced-precision kernels are self-consistent', () => {
  const stats = checkLowp(ref);
  assert.equal(ref.isa().bf16, 'ref');
  assert.ok(stats.bf16ArgmaxDiff < 0.1);
});

test('native: reduced-precision kernels match ref on the default path', { skip }, (t) => {
  const k = nat as Kernels;
  const stats = checkLowp(k);
  t.diagnostic(`paths ${JSON.stringify(k.isa())}; ${JSON.stringify(stats)}`);
  if (!process.env.LION_ISA) {  // AMX is opt-in: never the default
    assert.notEqual(k.isa().bf16, 'amx');
    assert.notEqual(k.isa().int8, 'amx-int8');
  }
});

test('native: every LION_ISA path this CPU can run matches ref', { skip }, (t) => {
  const k = nat as Kernels;
  const here = fileURLToPath(new URL('./lowp-check.js', import.meta.url));
  const native = fileURLToPath(new URL('../../src/kernels/native.js', import.meta.url));
  const { available } = k.isa();
  assert.ok(available.length >= 1 && available.includes('portable'));
  for (const isa of available) {
    const code = `const { checkLowp } = await import(${JSON.stringify(here)}); const { loadNative } = await import(${JSON.stringify(native)});
      const k = loadNative(); const s = checkLowp(k); console.log(JSON.stringify({ isa: k.isa(), s }));`;
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', code],
      { env: { ...process.env, LION_ISA: isa, LION_THREADS: isa === 'avx2' ? '3' : '2' }, encoding: 'utf8' });
    assert.equal(p.status, 0, `LION_ISA=${isa}: ${p.stderr}`);
    const line = JSON.parse(p.stdout.trim().split('\n').pop() as string) as { isa: { bf16: string; int8: string } };
    t.diagnostic(`LION_ISA=${isa}: ${p.stdout.trim()}`);
    assert.deepEqual([line.isa.bf16, line.isa.int8], LEVELS[isa], `LION_ISA=${isa} ran ${JSON.stringify(line.isa)}`);
  }
});

test('native: an impossible or unknown LION_ISA refuses to load, naming it', { skip }, () => {
  const native = fileURLToPath(new URL('../../src/kernels/native.js', import.meta.url));
  const code = `const { loadNative } = await import(${JSON.stringify(native)}); loadNative();`;
  const bad = (nat as Kernels).isa().available.includes('amx') ? 'sse9' : 'amx';
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LION_ISA: bad }, encoding: 'utf8' });
  assert.notEqual(p.status, 0);
  assert.match(p.stderr, new RegExp(`LION_ISA=${bad} `));
  const q = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LION_ISA: 'bf16=avx9' }, encoding: 'utf8' });
  assert.match(q.stderr, /LION_ISA=bf16=avx9 bf16=avx9 is not a bf16 path/);
});
