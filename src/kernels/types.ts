/**
 * The kernel interface: every numerical kernel Lion runs, declared once over typed arrays.
 *
 * Conventions (see README.md in this folder for the dimension letters):
 * - outputs first, inputs next, sizes last; every kernel returns `void` (reductions return a number);
 * - all tensors are dense row-major; a tensor is any `Float32Array` view (arena `subarray`s are fine);
 * - a forward sits beside its backward; backward kernels ACCUMULATE into gradients (`+=`), so callers zero
 *   gradient buffers once per step; a `null` gradient output skips that work (a frozen weight);
 * - masks are `Uint8Array` (B, T) with 1 = real token, 0 = padding;
 * - no kernel allocates per call in the native backend; callers pass every buffer, including the saved
 *   statistics a backward needs (`rstd`, `lse`, `argmax`, ...).
 *
 * Aliasing: outputs must not alias inputs unless a kernel says so (`rope*` and `scale` work in place).
 */

export type F32 = Float32Array;
export type I32 = Int32Array;
export type U8 = Uint8Array;
/** bf16 values as their bit patterns (the upper 16 bits of the float32 with the same value). */
export type U16 = Uint16Array;
export type I8 = Int8Array;

/**
 * The code path each reduced-precision family runs on (native: chosen once per process from the CPU and
 * `LION_ISA`; see docs/kernels.md). bf16: 'amx' | 'avx512bf16' | 'avx512' | 'avx2' | 'portable';
 * int8: 'amx-int8' | 'avx512vnni' | 'avxvnni' | 'avx2' | 'portable'; `ref` reports 'ref' for both.
 * `available` lists every `LION_ISA` value this CPU can run.
 */
export interface IsaInfo {
  bf16: string;
  int8: string;
  available: string[];
}

/** Llama-3 style RoPE scaling (`rope_scaling` with `rope_type`/`type` = "llama3" in config.json). */
export interface RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface Kernels {
  /** Which backend this is. */
  readonly name: 'ref' | 'native';
  /** Worker threads the backend computes on (1 for `ref`). */
  readonly threads: number;

  // ---------------------------------------------------------------- matrix products
  /**
   * General product `C = alpha·op(A)·op(B) + beta·C`, row-major. op(A) is (M, K): A is stored (M, K), or
   * (K, M) when `transA`. op(B) is (K, N): B is stored (K, N), or (N, K) when `transB`. C is (M, N).
   * `lda/ldb/ldc` are row strides in elements (default: dense). `beta = 0` ignores C's old contents (NaN too).
   */
  gemm(c: F32, a: F32, b: F32, M: number, N: number, K: number, transA: boolean, transB: boolean,
    alpha: number, beta: number, lda?: number, ldb?: number, ldc?: number): void;
  /** Linear layer `y (M, N) = x (M, K) · Wᵀ + bias`, with W (N, K) as in PyTorch; `bias` (N) or null. */
  linearForward(y: F32, x: F32, w: F32, bias: F32 | null, M: number, K: number, N: number): void;
  /**
   * Linear layer backward, each accumulated: `dx (M, K) += dy · W`, `dw (N, K) += dyᵀ · x`,
   * `db (N) += Σ_rows dy`. Pass null for any gradient not wanted.
   */
  linearBackward(dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, x: F32, w: F32,
    M: number, K: number, N: number): void;

  // ---------------------------------------------------------------- reduced precision (bf16, int8)
  // Products take bf16 (or int8) operands; accumulation, outputs, scales and every reduction stay fp32.
  // An F32 operand of a bf16 kernel is rounded to bf16 (round-to-nearest-even, as `toBf16`) as it is read;
  // a U16 operand holds bf16 bits. The result is then the exact sum of the bf16 products up to fp32
  // accumulation order (tolerance in docs/kernels.md).
  /** `dst[i] = bf16(src[i])`, round-to-nearest-even on the bits (denormals kept, ±Inf kept, overflow to ±Inf); a NaN stays a NaN (sign kept, quiet bit set). */
  toBf16(dst: U16, src: F32, n: number): void;
  /** `dst[i] = float32(src[i])` (exact widening). */
  fromBf16(dst: F32, src: U16, n: number): void;
  /**
   * Symmetric per-row (output channel) int8 quantisation of w (N, K): `scale[r] = fround(max_k |w[r,k]| / 127)`,
   * `q[r,k] = clamp(roundHalfEven(fround(w[r,k] / scale[r])), −127, 127)`. An all-zero row stores scale 0 and q 0.
   * A non-finite weight is an error (RangeError naming the row).
   */
  quantizeInt8(q: I8, scale: F32, w: F32 | U16, N: number, K: number): void;
  /** `gemm` with bf16 operands (see above): `C = alpha·(bf16 op(A))·(bf16 op(B)) + beta·C`, fp32 C. */
  gemmBf16(c: F32, a: F32 | U16, b: F32 | U16, M: number, N: number, K: number, transA: boolean, transB: boolean,
    alpha: number, beta: number, lda?: number, ldb?: number, ldc?: number): void;
  /** `y (M, N) = bf16(x) · bf16(W)ᵀ + bias`, W (N, K) bf16 bits or fp32 (rounded); bias fp32 (N) or null. */
  linearForwardBf16(y: F32, x: F32, w: U16 | F32, bias: F32 | null, M: number, K: number, N: number): void;
  /**
   * `linearBackward` with bf16 products, accumulated into fp32 gradients: `dx += bf16(dy)·bf16(W)`,
   * `dw += bf16(dy)ᵀ·bf16(x)`, `db += Σ_rows dy` (fp32, not rounded). Null skips a gradient.
   */
  linearBackwardBf16(dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, x: F32, w: U16 | F32,
    M: number, K: number, N: number): void;
  /**
   * Int8 linear layer: each row of x is quantised on the fly like `quantizeInt8` (sx[i] = fround(max|x_i|/127)),
   * products int8·int8 summed exactly in int32, `y[i,j] = acc·sx[i]·wScale[j] + bias[j]`. q (N, K), wScale (N)
   * from `quantizeInt8`. K ≤ 65536 (int32 range). A row of x with a non-finite value gives a NaN row of y.
   */
  linearForwardInt8(y: F32, x: F32, q: I8, wScale: F32, bias: F32 | null, M: number, K: number, N: number): void;
  /** `out[i] = float32(table[ids[i]])`: out (M, C), table (V, C) bf16 bits. */
  embeddingForwardBf16(out: F32, table: U16, ids: I32, M: number, C: number): void;
  /**
   * The sparse head (as `sparseHeadForward`) with a bf16 search pass: for each (b, v) the real token t* that
   * maximises bf16(h[b,t])·bf16(W[v]) (fp32 accumulation; first t on ties) is found, then the logit there is
   * recomputed in fp32 from the unrounded h and the exact row (W widened when bf16):
   * `rep[b,v] = log1p(relu(scale · h[b,t*]·W[v]))`, `argmax[b,v] = t*` (−1, rep 0: no real token). scale > 0.
   */
  sparseHeadForwardBf16(rep: F32, argmax: I32, h: F32, w: U16 | F32, mask: U8 | null, B: number, T: number,
    C: number, V: number, scale: number): void;
  /**
   * As `sparseHeadForwardBf16` with an int8 search pass: h rows quantised per token like `linearForwardInt8`,
   * candidates compared by acc·sx (q, qScale from `quantizeInt8` of W); the rep is recomputed from `wExact`.
   */
  sparseHeadForwardInt8(rep: F32, argmax: I32, h: F32, q: I8, qScale: F32, wExact: U16 | F32, mask: U8 | null,
    B: number, T: number, C: number, V: number, scale: number): void;
  /** `sparseHeadBackward` for a frozen bf16 head (no dw): `dh[b, argmax] += g·float32(W[v])`. */
  sparseHeadBackwardBf16(dh: F32, drep: F32, rep: F32, argmax: I32, h: F32, w: U16, B: number, T: number,
    C: number, V: number, scale: number): void;
  /** The code path of each reduced-precision family in this process. */
  isa(): IsaInfo;

  // ---------------------------------------------------------------- normalisation
  /** RMSNorm (Llama/Qwen2): `y = x / sqrt(mean(x²) + eps) · w`; saves `rstd` (M). x, y (M, C); w (C). */
  rmsnormForward(y: F32, rstd: F32, x: F32, w: F32, M: number, C: number, eps: number): void;
  /** RMSNorm backward: `dx += …`, `dw += …` (null skips). */
  rmsnormBackward(dx: F32, dw: F32 | null, dy: F32, x: F32, w: F32, rstd: F32, M: number, C: number): void;

  // ---------------------------------------------------------------- rotary embeddings
  /**
   * Rotates x (B, T, NH, D) in place, Hugging Face rotate-half layout: for i < D/2,
   * `x'[i] = x[i]·cos[t,i] − x[i+D/2]·sin[t,i]`, `x'[i+D/2] = x[i+D/2]·cos[t,i+D/2] + x[i]·sin[t,i+D/2]`.
   * cos, sin (P, D) from `ropeTables`, P ≥ T; row t is used for token t.
   */
  ropeForward(x: F32, cos: F32, sin: F32, B: number, T: number, NH: number, D: number): void;
  /** Backward of `ropeForward`, in place on the gradient dx (B, T, NH, D) (the inverse rotation). */
  ropeBackward(dx: F32, cos: F32, sin: F32, B: number, T: number, NH: number, D: number): void;

  // ---------------------------------------------------------------- attention
  /**
   * Scaled dot-product attention with grouped-query heads (head h reads kv head `h / (H / KVH)`).
   * q, out (B, T, H, D); k, v (B, T, KVH, D); mask (B, T) key-padding mask or null (all real);
   * `causal` restricts key s ≤ query t. Saves the softmax log-sum-exp `lse` (B, H, T) for the backward.
   * A query row with no visible real key outputs zeros (lse = -Infinity).
   */
  attentionForward(out: F32, lse: F32, q: F32, k: F32, v: F32, mask: U8 | null,
    B: number, T: number, H: number, KVH: number, D: number, causal: boolean, scale: number): void;
  /** Attention backward: `dq += …`, `dk += …`, `dv += …` (recomputes probabilities from q, k, lse). */
  attentionBackward(dq: F32, dk: F32, dv: F32, dout: F32, out: F32, lse: F32, q: F32, k: F32, v: F32,
    mask: U8 | null, B: number, T: number, H: number, KVH: number, D: number, causal: boolean, scale: number): void;

  // ---------------------------------------------------------------- elementwise
  /** SwiGLU: `out = silu(gate) · up`, all (N) (N = M·F). */
  swigluForward(out: F32, gate: F32, up: F32, N: number): void;
  /** SwiGLU backward: `dgate += …`, `dup += …`. */
  swigluBackward(dgate: F32, dup: F32, dout: F32, gate: F32, up: F32, N: number): void;
  /** `y += alpha · x` over N elements (residual adds, LoRA scaling). */
  axpy(y: F32, x: F32, alpha: number, N: number): void;
  /** `x *= alpha` in place over N elements (gradient clipping). */
  scale(x: F32, alpha: number, N: number): void;
  /** Σ x² over N elements, accumulated in float64 (gradient norms). */
  sumSquares(x: F32, N: number): number;
  /**
   * Dropout keep-mask (N): `mask[i]` = 0 with probability p, else 1, drawn from the xorshift128 stream whose
   * state is `seed` (4 words; `seed[0] | 1` keeps it non-zero). The stream is part of the contract: every backend
   * draws the same mask from the same seed, so a training run resumes exactly on any of them.
   */
  dropoutMask(mask: U8, p: number, seed: Uint32Array, N: number): void;
  /** Dropout: `out = x ⊙ mask · scale` over N elements (scale = 1/(1−p); products in float64). */
  dropoutForward(out: F32, x: F32, mask: U8, scale: number, N: number): void;
  /** Dropout backward: `dx += dy ⊙ mask · scale` over N elements. */
  dropoutBackward(dx: F32, dy: F32, mask: U8, scale: number, N: number): void;

  // ---------------------------------------------------------------- softmax family and losses
  /** Row softmax: y, x (M, N). */
  softmaxForward(y: F32, x: F32, M: number, N: number): void;
  /** `dx += y ⊙ (dy − Σ dy·y)` per row. */
  softmaxBackward(dx: F32, dy: F32, y: F32, M: number, N: number): void;
  /** Row log-softmax: y, x (M, N). */
  logSoftmaxForward(y: F32, x: F32, M: number, N: number): void;
  /** `dx += dy − exp(y) · Σ dy` per row. */
  logSoftmaxBackward(dx: F32, dy: F32, y: F32, M: number, N: number): void;
  /**
   * Cross-entropy per row: `losses[i] = lse_i − logits[i, targets[i]]` (0 where `targets[i] == ignoreIndex`);
   * logits (M, V); targets (M); saves lse (M). Returns the number of rows not ignored.
   */
  crossEntropyForward(losses: F32, lse: F32, logits: F32, targets: I32, M: number, V: number,
    ignoreIndex: number): number;
  /** `dlogits[i] += dloss · (softmax(logits[i]) − onehot(targets[i]))` for rows not ignored (mean: dloss = 1/count). */
  crossEntropyBackward(dlogits: F32, logits: F32, lse: F32, targets: I32, dloss: number, M: number, V: number,
    ignoreIndex: number): void;

  // ---------------------------------------------------------------- embeddings
  /** `out[i] = table[ids[i]]`: out (M, C), table (V, C), ids (M). */
  embeddingForward(out: F32, table: F32, ids: I32, M: number, C: number): void;
  /** Scatter-add: `dtable[ids[i]] += dout[i]`. */
  embeddingBackward(dtable: F32, dout: F32, ids: I32, M: number, C: number): void;

  // ---------------------------------------------------------------- encoder heads
  /**
   * Fused sparse head (SPLADE-max on an LM head, spec §2.4): `rep[b, v] = log1p(relu(s · max_{t real} h[b,t]·W[v]))`
   * with s = `scale` (d^-1/4), computed in vocabulary tiles so B×T×V logits never exist.
   * h (B, T, C), w (V, C), mask (B, T) or null; out rep (B, V) and `argmax` (B, V): the token t of the max
   * (-1 when the sequence has no real token).
   */
  sparseHeadForward(rep: F32, argmax: I32, h: F32, w: F32, mask: U8 | null, B: number, T: number, C: number,
    V: number, scale: number): void;
  /**
   * Sparse head backward through the argmax positions only: for rep[b,v] > 0, with g = drep·s/(1+max),
   * `dh[b, argmax] += g·W[v]` and `dw[v] += g·h[b, argmax]` (dw null skips a frozen head).
   */
  sparseHeadBackward(dh: F32, dw: F32 | null, drep: F32, rep: F32, argmax: I32, h: F32, w: F32,
    B: number, T: number, C: number, V: number, scale: number): void;
  /**
   * Dense head: masked mean over real tokens of L2-normalised token states (F.normalize, eps 1e-12).
   * h (B, T, C), mask (B, T) or null; out (B, C); saves per-token norms (B, T).
   */
  meanPoolForward(out: F32, norms: F32, h: F32, mask: U8 | null, B: number, T: number, C: number): void;
  /** `dh += …` for `meanPoolForward`. */
  meanPoolBackward(dh: F32, dout: F32, h: F32, norms: F32, mask: U8 | null, B: number, T: number, C: number): void;

  // ---------------------------------------------------------------- optimiser
  /**
   * One AdamW step as torch.optim.AdamW (decoupled weight decay, bias correction), in place on
   * param, m, v (N); `step` counts from 1.
   */
  adamw(param: F32, grad: F32, m: F32, v: F32, N: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number): void;
}
