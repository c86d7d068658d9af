/**
 * Retrieval training losses on representations, forward and backward (spec §3).
 *
 * Every loss here takes query reps `q` (B, dim) and context reps `c` (Nc, dim) as dense row-major float32 rows —
 * for sparse retrievers dim = V (the vocabulary) and most entries are exactly 0 — and returns the loss value.
 * Given a `grads` target it also ADDS (`+=`) `weight · ∂loss/∂q` and `weight · ∂loss/∂c` into `grads.dq` and
 * `grads.dc`, so the ranking loss, the FLOPS terms and the 1/A of gradient accumulation all land in one pair of
 * buffers that the encoder's backward pass then reads.
 *
 * Context layout (as the reference collator, spec §3): `[d⁺_0 … d⁺_{B-1}, d⁻_{0,0..n-1}, …, d⁻_{B-1,0..n-1}]`,
 * so Nc = B·(1+n), query i's positive is row i and its j-th negative is row B + i·n + j. KD (MarginMSE) uses the
 * same layout with n = 1.
 *
 * Scores: s(q, c) = scale · (q · c), scale = 1 for sparse, 1/τ = 100 for dense.
 *   CL    = mean_i −log softmax_j(S[i, ·])[i] over all Nc contexts (in-batch and hard negatives).
 *   KD    = mean_i (scale·(q_i·d⁺_i − q_i·d⁻_i) − (t⁺_i − t⁻_i))²            (MarginMSE, one negative)
 *   CL+KD = (CL + KL(p_T ‖ p_S)) / 2, p_T = softmax(raw teacher scores), p_S = softmax of the query's own 1+n
 *           student scores, KL averaged over queries (torch KLDivLoss "batchmean").
 *   FLOPS = Σ_v (mean_i |R_iv|)²                                                      (sparse only)
 *
 * Numerics: dot products and softmaxes accumulate in float64 (JS numbers); the B×Nc score matrix is float64.
 * Memory: nothing of size dim is allocated; the three matrix products (S = q cᵀ, dq += dS·c, dc += dSᵀ·q) run on
 * `Kernels.gemm` (native or `ref`), in float32 with the small (B, Nc) score matrices converted from and to float64
 * at the call. With V = 128,256 and 28 queries × 17 contexts the reps alone are (28 + 476) × 128,256 × 4 B ≈
 * 259 MB, and their gradients as much again.
 *
 * Golden values: scripts/make_golden_losses.py (PyTorch) → test/fixtures/golden-losses/.
 */
import { ShapeError, UsageError } from '../errors.js';
import { getKernels } from '../kernels/index.js';
import type { Kernels } from '../kernels/types.js';

/** The kernels a loss runs its matrix products on (`Kernels.gemm`; default `getKernels()`). */
export type LossKernels = Pick<Kernels, 'gemm'>;

/** Query and context representations of one micro-batch. */
export interface RepBatch {
  q: Float32Array; // (B, dim)
  c: Float32Array; // (Nc, dim), Nc = B·(1+n), layout in the file comment
  /** Queries. */
  B: number;
  /** Hard negatives per query. */
  n: number;
  /** Representation width (V for sparse, C for dense). */
  dim: number;
  /** Score scale: 1 for sparse, 1/τ for dense. */
  scale: number;
}

/** Gradient targets, accumulated with `+=`. */
export interface RepGrads {
  dq: Float32Array; // (B, dim)
  dc: Float32Array; // (Nc, dim)
}

/** Row of query i's j-th own context (j = 0 the positive, j ≥ 1 its (j−1)-th negative). */
export function ownContextRow(B: number, n: number, i: number, j: number): number {
  return j === 0 ? i : B + i * n + (j - 1);
}

function check(r: RepBatch, grads: RepGrads | null | undefined): number {
  const Nc = r.B * (1 + r.n);
  if (!(r.B > 0) || r.n < 0 || !(r.dim > 0)) throw new UsageError(`loss: bad sizes B=${r.B} n=${r.n} dim=${r.dim}`);
  if (r.q.length !== r.B * r.dim) throw new ShapeError(`loss: q has ${r.q.length} values, expected B·dim = ${r.B * r.dim}`, { field: 'q' });
  if (r.c.length !== Nc * r.dim) throw new ShapeError(`loss: c has ${r.c.length} values, expected B(1+n)·dim = ${Nc * r.dim}`, { field: 'c' });
  if (grads && (grads.dq.length !== r.q.length || grads.dc.length !== r.c.length)) {
    throw new ShapeError('loss: gradient buffers must match q and c', { field: 'grads' });
  }
  return Nc;
}

/** Row-wise log-softmax statistics: returns logsumexp of xs[o .. o+len). */
function logSumExp(xs: Float64Array, o: number, len: number): number {
  let m = -Infinity;
  for (let j = 0; j < len; j++) m = Math.max(m, xs[o + j]!);
  let s = 0;
  for (let j = 0; j < len; j++) s += Math.exp(xs[o + j]! - m);
  return m + Math.log(s);
}

/**
 * Scores S = scale · q cᵀ (B, Nc) and the CE part of InfoNCE; `dS` (if given) receives ∂CE/∂S (not yet times
 * scale). Returns the mean cross-entropy with label i for query i.
 */
function infoNceScores(r: RepBatch, Nc: number, S: Float64Array, dS: Float64Array | null, k: LossKernels): number {
  const { B, dim, scale } = r;
  const S32 = new Float32Array(B * Nc); // (B, Nc) = q (B, dim) · c (Nc, dim)ᵀ
  k.gemm(S32, r.q, r.c, B, Nc, dim, false, true, 1, 0);
  for (let x = 0; x < S.length; x++) S[x] = S32[x]! * scale;
  let loss = 0;
  for (let i = 0; i < B; i++) {
    const o = i * Nc;
    const lse = logSumExp(S, o, Nc);
    loss += lse - S[o + i]!;
    if (dS) {
      for (let j = 0; j < Nc; j++) dS[o + j] += Math.exp(S[o + j]! - lse) / B;
      dS[o + i] -= 1 / B;
    }
  }
  return loss / B;
}

/** Push ∂L/∂S (B, Nc) back through S = scale · q cᵀ into the rep gradients, times `weight`. */
function backScores(r: RepBatch, Nc: number, dS: Float64Array, grads: RepGrads, weight: number, k: LossKernels): void {
  const w = weight * r.scale;
  const g = Float32Array.from(dS); // (B, Nc)
  k.gemm(grads.dq, g, r.c, r.B, r.dim, Nc, false, false, w, 1); // dq (B, dim) += w · dS · c
  k.gemm(grads.dc, g, r.q, Nc, r.dim, r.B, true, false, w, 1); // dc (Nc, dim) += w · dSᵀ · q
}

/**
 * CL: InfoNCE over every context of the batch (spec §3.1).
 * @example const l = infoNCE({ q, c, B: 2, n: 16, dim: V, scale: 1 }, { dq, dc });
 */
export function infoNCE(r: RepBatch, grads: RepGrads | null = null, weight = 1, k: LossKernels = getKernels()): number {
  const Nc = check(r, grads);
  const S = new Float64Array(r.B * Nc); // (B, Nc)
  const dS = grads ? new Float64Array(r.B * Nc) : null;
  const loss = infoNceScores(r, Nc, S, dS, k);
  if (grads && dS) backScores(r, Nc, dS, grads, weight, k);
  return loss;
}

/**
 * KD: MarginMSE with one negative (spec §3.2). `r.n` must be 1; `teacherMargin` (B) = t⁺ − t⁻.
 * The student margin is scale·(q·d⁺ − q·d⁻), so dense margins are divided by τ.
 */
export function marginMSE(
  r: RepBatch, teacherMargin: Float32Array | Float64Array, grads: RepGrads | null = null, weight = 1,
): number {
  if (r.n !== 1) throw new UsageError(`MarginMSE takes exactly one negative per query, got n=${r.n}`);
  check(r, grads);
  const { B, dim, scale, q, c } = r;
  if (teacherMargin.length !== B) throw new ShapeError(`MarginMSE: ${teacherMargin.length} teacher margins for ${B} queries`);
  let loss = 0;
  for (let i = 0; i < B; i++) {
    const qo = i * dim, po = i * dim, no = (B + i) * dim;
    let sp = 0, sn = 0;
    for (let k = 0; k < dim; k++) { sp += q[qo + k]! * c[po + k]!; sn += q[qo + k]! * c[no + k]!; }
    const diff = scale * (sp - sn) - teacherMargin[i]!;
    loss += diff * diff;
    if (grads) {
      const g = (weight * 2 * diff * scale) / B; // ∂L/∂(q·d⁺) = g, ∂L/∂(q·d⁻) = −g
      if (g === 0) continue;
      for (let k = 0; k < dim; k++) {
        const qk = q[qo + k]!;
        grads.dq[qo + k] += g * (c[po + k]! - c[no + k]!);
        grads.dc[po + k] += g * qk;
        grads.dc[no + k] -= g * qk;
      }
    }
  }
  return loss / B;
}

/** The two terms of CL+KD and their mean. */
export interface ClKdLoss {
  loss: number;
  cl: number;
  kl: number;
}

/**
 * CL+KD: (InfoNCE + KL(teacher ‖ student)) / 2 (spec §3.3). `teacher` (B, 1+n) holds, per query, the raw teacher
 * score of its positive then of its n negatives, in the same order as the contexts.
 */
export function clKd(
  r: RepBatch, teacher: Float32Array | Float64Array, grads: RepGrads | null = null, weight = 1, k: LossKernels = getKernels(),
): ClKdLoss {
  const Nc = check(r, grads);
  const { B, n } = r;
  const m = 1 + n;
  if (teacher.length !== B * m) throw new ShapeError(`CL+KD: ${teacher.length} teacher scores, expected B·(1+n) = ${B * m}`);
  const S = new Float64Array(B * Nc); // (B, Nc)
  const dS = grads ? new Float64Array(B * Nc) : null;
  const cl = infoNceScores(r, Nc, S, dS, k);
  // KL over each query's own 1+n contexts: rows ownContextRow(i, j) of S[i, ·].
  const s = new Float64Array(m);
  const t = new Float64Array(m);
  let kl = 0;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < m; j++) { s[j] = S[i * Nc + ownContextRow(B, n, i, j)]!; t[j] = teacher[i * m + j]!; }
    const lseS = logSumExp(s, 0, m);
    const lseT = logSumExp(t, 0, m);
    for (let j = 0; j < m; j++) {
      const logPt = t[j]! - lseT;
      const pT = Math.exp(logPt);
      kl += pT * (logPt - (s[j]! - lseS));
      if (dS) dS[i * Nc + ownContextRow(B, n, i, j)] += (Math.exp(s[j]! - lseS) - pT) / B; // ∂KL/∂s_j
    }
  }
  kl /= B;
  if (grads && dS) {
    // dS now holds ∂(CL + KL)/∂S; the loss is their mean.
    backScores(r, Nc, dS, grads, weight / 2, k);
  }
  return { loss: (cl + kl) / 2, cl, kl };
}

/**
 * FLOPS regulariser Σ_v (mean_i |R_iv|)² over N rows of width dim (spec §3.4). Adds `weight · ∂/∂R` into `dR`
 * (∂/∂R_iv = 2·mean_v·sign(R_iv)/N, sign(0) = 0 as torch's abs).
 */
export function flops(R: Float32Array, N: number, dim: number, dR: Float32Array | null = null, weight = 1): number {
  if (R.length !== N * dim) throw new ShapeError(`FLOPS: ${R.length} values for ${N}×${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < N; i++) {
    const o = i * dim;
    for (let v = 0; v < dim; v++) mean[v] += Math.abs(R[o + v]!);
  }
  let f = 0;
  for (let v = 0; v < dim; v++) { mean[v] /= N; f += mean[v]! * mean[v]!; }
  if (dR && weight !== 0) {
    for (let i = 0; i < N; i++) {
      const o = i * dim;
      for (let v = 0; v < dim; v++) {
        const x = R[o + v]!;
        if (x !== 0) dR[o + v] += (weight * 2 * mean[v]! * Math.sign(x)) / N;
      }
    }
  }
  return f;
}

/** Mean number of non-zero entries per row (the sparsity statistic logged in training). */
export function meanNonZeros(R: Float32Array, N: number, dim: number): number {
  let nz = 0;
  for (let k = 0; k < N * dim; k++) if (R[k] !== 0) nz++;
  return N > 0 ? nz / N : 0;
}

/** Fine-tuning objective (spec §3): CL = InfoNCE, KD = MarginMSE, CL+KD = (InfoNCE + KL)/2. */
export type Objective = 'cl' | 'kd' | 'cl+kd';

/** Loss terms of one micro-batch, as logged. */
export interface RetrievalLossTerms {
  /** rank + λq·flopsQ + λd·flopsD. */
  loss: number;
  /** The objective's own loss (CL, KD or CL+KD). */
  rank: number;
  cl?: number;
  kl?: number;
  flopsQ: number;
  flopsD: number;
}

/** Teacher input: MarginMSE wants t⁺ − t⁻ (B); CL+KD wants raw scores (B, 1+n). */
export interface TeacherScores {
  margin?: Float32Array | Float64Array; // (B)
  scores?: Float32Array | Float64Array; // (B, 1+n)
}

/**
 * The full micro-batch loss: the objective plus, when `lambdaQ`/`lambdaD` are non-zero (sparse), the FLOPS terms
 * (queries over all B rows; documents over all contexts, or for KD the mean of the positives' and the negatives'
 * FLOPS, as the reference code). Gradients (times `weight`, e.g. 1/A for accumulation) go into `grads`.
 */
export function retrievalLoss(
  objective: Objective, r: RepBatch, teacher: TeacherScores, grads: RepGrads | null,
  opts: { lambdaQ?: number; lambdaD?: number; weight?: number; kernels?: LossKernels } = {},
): RetrievalLossTerms {
  const lq = opts.lambdaQ ?? 0, ld = opts.lambdaD ?? 0, w = opts.weight ?? 1, k = opts.kernels ?? getKernels();
  let rank: number;
  let cl: number | undefined, kl: number | undefined;
  if (objective === 'cl') rank = infoNCE(r, grads, w, k);
  else if (objective === 'kd') {
    if (!teacher.margin) throw new UsageError('KD (MarginMSE) needs teacher scores');
    rank = marginMSE(r, teacher.margin, grads, w);
  } else {
    if (!teacher.scores) throw new UsageError('CL+KD needs teacher scores');
    const t = clKd(r, teacher.scores, grads, w, k);
    rank = t.loss; cl = t.cl; kl = t.kl;
  }
  const { B, dim } = r;
  const fq = flops(r.q, B, dim, grads ? grads.dq : null, w * lq);
  let fd: number;
  if (objective === 'kd') {
    const half = B * dim;
    const dcP = grads ? grads.dc.subarray(0, half) : null, dcN = grads ? grads.dc.subarray(half) : null;
    fd = (flops(r.c.subarray(0, half), B, dim, dcP, (w * ld) / 2) + flops(r.c.subarray(half), B, dim, dcN, (w * ld) / 2)) / 2;
  } else {
    fd = flops(r.c, B * (1 + r.n), dim, grads ? grads.dc : null, w * ld);
  }
  const out: RetrievalLossTerms = { loss: rank + lq * fq + ld * fd, rank, flopsQ: fq, flopsD: fd };
  if (cl !== undefined) { out.cl = cl; out.kl = kl; }
  return out;
}
