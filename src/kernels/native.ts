/**
 * Loader for the `native` backend: the C++ addon `lion_kernels.node` built by node-gyp from
 * native/kernels/*.cc. The addon exports one function per kernel with exactly the argument order of
 * `Kernels` (optional strides passed as 0 = dense); this module only finds the file and adapts
 * the few optional arguments. Thread count: LION_THREADS (default: all cores), read once by the addon.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { F32, Kernels, U16 } from './types.js';

/** What the compiled addon exports (see native/kernels/addon.cc). */
interface Addon extends Omit<Kernels, 'name' | 'threads' | 'gemm' | 'gemmBf16'> {
  threads(): number;
  cpuLevel(): string;
  gemm(c: F32, a: F32, b: F32, M: number, N: number, K: number, transA: boolean, transB: boolean,
    alpha: number, beta: number, lda: number, ldb: number, ldc: number): void;
  gemmBf16(c: F32, a: F32 | U16, b: F32 | U16, M: number, N: number, K: number, transA: boolean, transB: boolean,
    alpha: number, beta: number, lda: number, ldb: number, ldc: number): void;
}

/** Candidate locations of the addon: from dist/src/kernels or src/kernels up to the package root. */
function addonPaths(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  if (process.env.LION_KERNELS_ADDON) out.push(resolve(process.env.LION_KERNELS_ADDON));
  for (let d = here, i = 0; i < 5; i++, d = dirname(d)) {
    if (existsSync(join(d, 'binding.gyp'))) {
      out.push(join(d, 'build', 'Release', 'lion_kernels.node'));
      break;
    }
  }
  return out;
}

/** Loads the addon; throws an Error saying why when it cannot. */
export function loadNative(): Kernels & { cpuLevel: string } {
  const paths = addonPaths();
  const path = paths.find((p) => existsSync(p));
  if (!path) throw new Error(`the addon is not built (looked for ${paths.join(', ') || 'build/Release/lion_kernels.node'})`);
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    // The addon refuses to load when LION_ISA names a path this CPU cannot run: that is the user's error.
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith('LION_ISA=')) {
      throw new UsageError(msg, { field: 'LION_ISA', hint: 'unset LION_ISA or pick a path this CPU can run (docs/kernels.md)' });
    }
    throw e;
  }
  const missing = ['threads', 'cpuLevel', 'gemm', 'linearForward', 'sparseHeadBackward', 'adamw', 'isa', 'gemmBf16',
    'linearForwardInt8', 'sparseHeadForwardInt8']
    .filter((k) => typeof (addon as unknown as Record<string, unknown>)[k] !== 'function');
  if (missing.length > 0) throw new Error(`${path} is out of date (lacks ${missing.join(', ')}); rebuild it`);
  return {
    ...addon,
    name: 'native',
    threads: addon.threads(),
    cpuLevel: addon.cpuLevel(),
    gemm: (c, a, b, M, N, K, transA, transB, alpha, beta, lda, ldb, ldc) =>
      addon.gemm(c, a, b, M, N, K, transA, transB, alpha, beta, lda ?? 0, ldb ?? 0, ldc ?? 0),
    gemmBf16: (c, a, b, M, N, K, transA, transB, alpha, beta, lda, ldb, ldc) =>
      addon.gemmBf16(c, a, b, M, N, K, transA, transB, alpha, beta, lda ?? 0, ldb ?? 0, ldc ?? 0),
  };
}
