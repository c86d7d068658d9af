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
