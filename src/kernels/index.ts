/**
 * Lion's compute kernels: the `Kernels` interface (types.ts), its two backends (`ref` in plain TypeScript,
 * `native` in C++ with AVX-512/AVX2 dispatch and a thread pool) and `getKernels()`, which picks one.
 * RoPE table helpers live in rope.ts. Dimension letters are defined in README.md in this folder.
 *
 * @example
 * ```ts
 * import { getKernels } from 'lion-retrieval';
 * const k = getKernels();
 * k.linearForward(y, x, w, null, M, K, N); // (M, N) = (M, K) · (N, K)ᵀ
 * ```
 */
import { UsageError } from '../errors.js';
import { loadNative } from './native.js';
import { ref } from './ref/index.js';
import type { Kernels } from './types.js';

export type { F32, I32, I8, U8, U16, IsaInfo, Kernels, RopeScaling } from './types.js';
export { ref } from './ref/index.js';
export { loadNative } from './native.js';
export { ropeInvFreq, ropeTables, ropeScalingFromConfig } from './rope.js';

let chosen: Kernels | undefined;

/**
 * The backend to compute on, chosen once per process: LION_BACKEND=native or =ref forces one (native
 * failing to load is then an error); unset, the native addon is used when it loads, otherwise `ref`
 * with a one-line warning on stderr.
 */
export function getKernels(): Kernels {
  if (chosen) return chosen;
  const want = process.env.LION_BACKEND;
  if (want !== undefined && want !== '' && want !== 'ref' && want !== 'native') {
    throw new UsageError(`LION_BACKEND=${want} is not a backend (expected "native" or "ref")`, { field: 'LION_BACKEND' });
  }
  if (want === 'ref') return (chosen = ref);
  try {
    chosen = loadNative();
  } catch (e) {
    if (e instanceof UsageError) throw e; // e.g. a LION_ISA this CPU cannot run
    const why = e instanceof Error ? e.message : String(e);
    if (want === 'native') {
      throw new UsageError(`LION_BACKEND=native but the kernel addon does not load: ${why}`,
        { field: 'LION_BACKEND', hint: 'run `npm install` (needs g++, make, python3) or unset LION_BACKEND' });
    }
    process.stderr.write(`lion: native kernels unavailable (${why}); using the slow TypeScript backend ` +
      '(run `npm install` to build them, or set LION_BACKEND=ref to silence this)\n');
    chosen = ref;
  }
  return chosen;
}
