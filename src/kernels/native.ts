/**
 * Loader for the `native` backend: the C++ addon `lion_kernels.node` built by node-gyp from
 * native/kernels/*.cc. The addon exports one function per kernel with exactly the argument order of
 * `Kernels` (optional strides passed as 0 = dense); this module loads it through src/util/addon.ts and adapts
 * the few optional arguments. Thread count: LION_THREADS (default: all cores), read once by the addon.
 */
import { UsageError } from '../errors.js';
import { loadAddon } from '../util/addon.js';
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

/** Loads the addon; throws an Error saying why when it cannot. */
export function loadNative(): Kernels & { cpuLevel: string } {
  let addon: Addon;
  try {
    addon = loadAddon<Addon>('lion_kernels', ['threads', 'cpuLevel', 'gemm', 'linearForward', 'sparseHeadBackward', 'adamw', 'isa',
      'gemmBf16', 'linearForwardInt8', 'sparseHeadForwardInt8'], process.env.LION_KERNELS_ADDON).addon;
  } catch (e) {
    // The addon refuses to load when LION_ISA names a path this CPU cannot run: that is the user's error.
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith('LION_ISA=')) {
      throw new UsageError(msg, { field: 'LION_ISA', hint: 'unset LION_ISA or pick a path this CPU can run (docs/kernels.md)' });
    }
    throw e;
  }
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
