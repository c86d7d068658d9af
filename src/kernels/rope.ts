/**
 * RoPE tables shared by both backends: inverse frequencies exactly as Hugging Face transformers computes
 * them (default and Llama-3 `rope_scaling`), and the (P, D) cos/sin tables in rotate-half layout
 * (`emb = cat(freqs, freqs)`). Arithmetic is rounded to float32 step by step, as torch does, so the
 * tables match transformers' to the last bit or one ulp.
 */
import { ModelError } from '../errors.js';
import type { RopeScaling } from './types.js';

const f = Math.fround;

/**
 * inv_freq (D/2) = 1 / theta^(2i/D), then Llama-3 scaling when given
 * (transformers `_compute_llama3_parameters`): long wavelengths divided by `factor`, short ones kept,
 * the band between smoothly interpolated.
 */
export function ropeInvFreq(D: number, theta: number, scaling: RopeScaling | null = null): Float32Array {
  const half = D >> 1;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(Math.pow(theta, f((2 * i) / D))));
  if (!scaling) return inv;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
  const lowWave = old / lowFreqFactor;
  const highWave = old / highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = f((2 * Math.PI) / inv[i]);
    let x = wavelen > lowWave ? f(inv[i] / factor) : inv[i];
    const medium = !(wavelen < highWave) && !(wavelen > lowWave);
    if (medium) {
      const smooth = f((f(old / wavelen) - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
      x = f(f(f((1 - smooth) * x) / factor) + f(smooth * x));
    }
    inv[i] = x;
  }
  return inv;
}

/** cos, sin (P, D): row p holds cos/sin(p · inv_freq) for i < D/2, repeated for i ≥ D/2. */
export function ropeTables(cos: Float32Array, sin: Float32Array, invFreq: Float32Array, P: number): void {
  const half = invFreq.length, D = 2 * half;
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      const a = f(p * invFreq[i]);
      const c = Math.cos(a), s = Math.sin(a);
      cos[p * D + i] = c; cos[p * D + i + half] = c;
      sin[p * D + i] = s; sin[p * D + i + half] = s;
    }
  }
}

/**
 * Reads config.json's `rope_scaling` object. null/undefined → null; type "default" → null; "llama3" →
 * RopeScaling; any other type is a ModelError (Lion computes only these two).
 */
export function ropeScalingFromConfig(raw: unknown, file = 'config.json'): RopeScaling | null {
  if (raw === null || raw === undefined) return null;
  const o = raw as Record<string, unknown>;
  const type = (o.rope_type ?? o.type) as string | undefined;
  if (type === undefined || type === 'default') return null;
  if (type !== 'llama3') {
    throw new ModelError(`rope_scaling type "${type}" is not supported (expected "llama3" or "default")`,
      { file, field: 'rope_scaling' });
  }
  const num = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number') throw new ModelError(`rope_scaling.${k} must be a number`, { file, field: `rope_scaling.${k}` });
    return v;
  };
  return {
    factor: num('factor'),
    lowFreqFactor: num('low_freq_factor'),
    highFreqFactor: num('high_freq_factor'),
    originalMaxPositionEmbeddings: num('original_max_position_embeddings'),
  };
}
