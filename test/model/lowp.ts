/** Helpers of the reduced-precision tests: the backends that have the bf16/int8 kernels, and error measures. */
import { loadNative, ref, type Kernels } from '../../src/kernels/index.js';

/** Backends that have the reduced-precision kernels: ref, and native once its addon exports them. */
export function lowpBackends(): { name: string; k: Kernels | null; skip: string | false }[] {
  let native: Kernels | null = null, why = '';
  try { native = loadNative(); } catch (e) { why = e instanceof Error ? e.message : String(e); }
  if (native && typeof native.linearForwardBf16 !== 'function') { why = 'the native addon has no bf16/int8 kernels yet'; native = null; }
  return [{ name: 'ref', k: ref, skip: false }, { name: 'native', k: native, skip: native ? false : `native: ${why}` }];
}

/** Relative Frobenius error, worst element relative to max(|b|, rms b), and the smallest row cosine. */
export function errors(a: Float32Array, b: Float32Array, row: number): { rel: number; worst: number; minCos: number } {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  const rms = Math.sqrt(den / b.length);
  let worst = 0, minCos = 1;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), rms));
  for (let r = 0; r < b.length / row; r++) {
    let d = 0, x = 0, y = 0;
    for (let c = r * row; c < (r + 1) * row; c++) { d += a[c]! * b[c]!; x += a[c]! ** 2; y += b[c]! ** 2; }
    minCos = Math.min(minCos, d / Math.sqrt(x * y));
  }
  return { rel: Math.sqrt(num / den), worst, minCos };
}
