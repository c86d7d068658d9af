/**
 * Weight dtypes and compute precisions: the one place that decides the default, parses the flags and says
 * what ran.
 *
 * - Weight dtype (`--dtype`, inference): how the frozen base matrices are stored and multiplied — fp32, bf16
 *   (bf16 × bf16 products accumulated in fp32) or int8 (per-output-channel weight scales, dynamic per-row
 *   activation scales). See src/model/reduced.ts for what stays float32.
 * - Compute precision (`--precision`, training): fp32, or bf16 matmuls on fp32 master weights (operands
 *   rounded to bf16 inside the kernels, fp32 accumulation), as PyTorch autocast does; norms, softmax,
 *   attention statistics, losses, reductions and optimiser state stay fp32 either way.
 *
 * The default dtype (`defaultDtype`) is bf16 when the kernels multiply bf16 natively (AMX or AVX512-BF16),
 * else fp32; int8 is opt-in. docs/models.md gives the measurements behind it; change the rule here.
 */
import { UsageError } from '../errors.js';
import type { IsaInfo, Kernels } from '../kernels/types.js';
import type { WeightDtype } from './reduced.js';

export type { WeightDtype } from './reduced.js';
export type Precision = 'fp32' | 'bf16';
/** A dtype request: a dtype, or 'auto' for `defaultDtype` on the kernels in use. */
export type DtypeRequest = WeightDtype | 'auto';

export const WEIGHT_DTYPES: readonly WeightDtype[] = ['fp32', 'bf16', 'int8'];
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

/** The code path of each reduced-precision kernel family (`k.isa()`). */
export function kernelIsa(k: Kernels): IsaInfo {
  // an addon built before the reduced-precision kernels lacks isa(): it has no bf16 path to offer
  return typeof k.isa === 'function' ? k.isa() : { bf16: 'none', int8: 'none', available: [] };
}

/** True when the kernels' bf16 path multiplies bf16 natively (AMX tiles or AVX512-BF16 dot products). */
export function hasNativeBf16(k: Kernels): boolean {
  return /amx|avx512.?bf16/i.test(kernelIsa(k).bf16);
}

/**
 * The default weight dtype on kernels `k`: bf16 where the kernels have a native bf16 path (measured within the
 * quality bounds of docs/models.md and faster there), otherwise fp32 (a widening bf16 path saves memory but
 * not time). int8 is never the default.
 */
export function defaultDtype(k: Kernels): WeightDtype {
  return hasNativeBf16(k) ? 'bf16' : 'fp32';
}

/** Resolves a dtype request ('auto' → `defaultDtype(k)`). */
export function resolveDtype(req: DtypeRequest | undefined, k: Kernels, fallback: DtypeRequest = 'fp32'): WeightDtype {
  const r = req ?? fallback;
  return r === 'auto' ? defaultDtype(k) : r;
}

/** Parses a `--dtype` value (fp32, bf16, int8 or auto). */
export function parseDtype(s: string, field = 'dtype'): DtypeRequest {
  if (s === 'auto' || (WEIGHT_DTYPES as readonly string[]).includes(s)) return s as DtypeRequest;
  throw new UsageError(`--${field} must be fp32, bf16, int8 or auto, got '${s}'`, { field });
}

/** Parses a `--precision` value (fp32 or bf16). */
export function parsePrecision(s: string, field = 'precision'): Precision {
  if ((PRECISIONS as readonly string[]).includes(s)) return s as Precision;
  throw new UsageError(`--${field} must be fp32 or bf16, got '${s}'`, { field });
}

/** What a run computes with, for logs and metadata: dtype, precision, backend, threads and kernel paths. */
export interface PrecisionRecord {
  dtype: WeightDtype;
  precision: Precision;
  backend: string;
  threads: number;
  isa: { bf16: string; int8: string };
}

export function precisionRecord(m: { dtype: WeightDtype; precision: Precision; k: Kernels }): PrecisionRecord {
  const isa = kernelIsa(m.k);
  return { dtype: m.dtype, precision: m.precision, backend: m.k.name, threads: m.k.threads, isa: { bf16: isa.bf16, int8: isa.int8 } };
}

/** One line for stderr: `dtype bf16 (auto), precision fp32, kernels native ×2 threads, bf16 path avx512bf16`. */
export function describePrecision(r: PrecisionRecord, requested?: DtypeRequest): string {
  const auto = requested === 'auto' ? ' (auto)' : '';
  const path = r.dtype === 'int8' ? `int8 path ${r.isa.int8}` : r.dtype === 'bf16' || r.precision === 'bf16' ? `bf16 path ${r.isa.bf16}` : 'fp32';
  return `dtype ${r.dtype}${auto}, precision ${r.precision}, kernels ${r.backend} (${r.threads} thread${r.threads === 1 ? '' : 's'}), ${path}`;
}

/**
 * The base dtype a training run stores its frozen weights in: fp32 when every weight trains (master
 * weights); with LoRA and bf16 precision the frozen base is held in bf16, which gives the same products
 * (the kernels round fp32 operands to bf16 anyway) at half the memory. `requested` overrides.
 */
export function trainingDtype(precision: Precision, full: boolean, requested?: WeightDtype): WeightDtype {
  if (requested) return requested;
  return !full && precision === 'bf16' ? 'bf16' : 'fp32';
}
