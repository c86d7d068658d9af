/**
 * Frozen base matrices in reduced precision: the store that keeps a bf16 or int8 model at its reduced size.
 *
 * Which tensors are reduced (`reducedForm`): the seven linear weights of every layer (q/k/v/o/gate/up/down),
 * the input embedding and the LM head. Norm weights, biases and LoRA adapters stay float32 in the model's
 * arena, as do gradients and AdamW moments. Forms:
 *   - bf16: every reduced tensor as bfloat16 bits (Uint16Array, round to nearest even);
 *   - int8: linear weights as int8 with one float32 scale per output row (symmetric, w ≈ q·scale); the
 *     embedding as bf16 (a lookup table, not a product); the LM head as int8 for the sparse head's search
 *     pass and as bf16 for the exact logit recomputed at each maximum (a tied head is the embedding's bf16
 *     plus an int8 copy).
 * Layout: one typed array per tensor (row-major, as in the checkpoint), allocated zeroed and filled by the
 * loader straight from the file, so a model never exists in float32 on the way.
 */
import type { ModelConfig } from './registry.js';

export type WeightDtype = 'fp32' | 'bf16' | 'int8';

/** How one reduced tensor is held: its bf16 bits, its int8 values with per-row scales, or both. */
export interface ReducedForm {
  bf16: boolean;
  int8: boolean;
}

/** One reduced tensor (rows, K). */
export interface ReducedTensor {
  name: string;
  shape: readonly [number, number];
  bf16: Uint16Array | null; // (rows, K) bfloat16 bits
  q: Int8Array | null; // (rows, K)
  scale: Float32Array | null; // (rows)
}

const LINEAR = /^model\.layers\.\d+\.(self_attn|mlp)\.[a-z]+_proj\.weight$/;

/**
 * The reduced form of parameter `name` in a model of weight dtype `dtype`, or null when it stays float32.
 * `withHead`: the model reads an LM head (sparse encoder, MNTP); a tied head then also needs the int8 copy.
 */
export function reducedForm(name: string, dtype: WeightDtype, cfg: ModelConfig, withHead: boolean): ReducedForm | null {
  if (dtype === 'fp32') return null;
  const isEmbed = name === 'model.embed_tokens.weight', isHead = name === 'lm_head.weight';
  if (!isEmbed && !isHead && !LINEAR.test(name)) return null;
  if (dtype === 'bf16') return { bf16: true, int8: false };
  if (isHead) return { bf16: true, int8: true };
  if (isEmbed) return { bf16: true, int8: withHead && cfg.tieWordEmbeddings };
  return { bf16: false, int8: true };
}

/** The reduced tensors of one model. */
export class ReducedStore {
  private readonly map = new Map<string, ReducedTensor>();

  /** Allocates (zeroed) every tensor of `specs`. */
  constructor(specs: readonly { name: string; shape: readonly number[]; form: ReducedForm }[]) {
    for (const s of specs) {
      if (s.shape.length !== 2) throw new Error(`reduced store: ${s.name} must be a matrix, got [${s.shape.join(', ')}]`);
      const [rows, K] = s.shape as [number, number];
      this.map.set(s.name, {
        name: s.name, shape: [rows, K],
        bf16: s.form.bf16 ? new Uint16Array(rows * K) : null,
        q: s.form.int8 ? new Int8Array(rows * K) : null,
        scale: s.form.int8 ? new Float32Array(rows) : null,
      });
    }
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  get(name: string): ReducedTensor {
    const t = this.map.get(name);
    if (!t) throw new Error(`reduced store: no tensor named ${name}`);
    return t;
  }

  /** Every tensor, in the order given. */
  all(): ReducedTensor[] {
    return [...this.map.values()];
  }

  /** Bytes held (bf16 bits, int8 values and their scales). */
  get bytes(): number {
    let n = 0;
    for (const t of this.map.values()) n += (t.bf16?.byteLength ?? 0) + (t.q?.byteLength ?? 0) + (t.scale?.byteLength ?? 0);
    return n;
  }
}
