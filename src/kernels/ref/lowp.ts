/**
 * Reference reduced-precision kernels (bf16 and int8), the oracle for the native paths. Operands are rounded
 * (or quantised) exactly as the interface in types.ts defines, then the fp32 reference kernels run on the
 * rounded values with float64 accumulation. Written to be obviously right, not fast.
 */
import type { F32, I32, I8, IsaInfo, U16, U8 } from '../types.js';
import { gemm, linearBackward } from './matmul.js';
import { sparseHeadBackward } from './heads.js';

const cvF = new Float32Array(1);
const cvU = new Uint32Array(cvF.buffer);

/** bf16 bits of x (rounded to float32 first): round-to-nearest-even; NaN → quiet NaN with its sign. */
export function bf16Bits(x: number): number {
  cvF[0] = x;
  const u = cvU[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float value of bf16 bits. */
export function bf16Value(bits: number): number {
  cvU[0] = (bits & 0xffff) << 16;
  return cvF[0];
}

/** x rounded to the nearest bf16 value. */
export const roundBf16 = (x: number): number => bf16Value(bf16Bits(x));

/** Round half to even (torch.round, C's rint). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Float32 values of an operand: F32 rounded to bf16, U16 widened (a new array of the same length). */
function asBf16Values(x: F32 | U16): Float32Array {
  const out = new Float32Array(x.length);
  if (x instanceof Uint16Array) for (let i = 0; i < x.length; i++) out[i] = bf16Value(x[i]);
  else for (let i = 0; i < x.length; i++) out[i] = roundBf16(x[i]);
  return out;
}

/** Exact float32 values of an operand (U16 widened, F32 as is). */
function asExact(x: F32 | U16): Float32Array {
  return x instanceof Uint16Array ? asBf16Values(x) : x;
}

export function toBf16(dst: U16, src: F32, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = bf16Bits(src[i]);
}

export function fromBf16(dst: F32, src: U16, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = bf16Value(src[i]);
}

/** Quantises one row: writes q[qo .. qo+K) and returns the scale (0 for an all-zero row, NaN if non-finite). */
function quantizeRow(q: Int8Array | Int32Array, qo: number, x: ArrayLike<number>, xo: number, K: number): number {
  let mx = 0;
  for (let k = 0; k < K; k++) {
    const a = Math.abs(x[xo + k]);
    if (!Number.isFinite(a)) { for (let j = 0; j < K; j++) q[qo + j] = 0; return NaN; }
    if (a > mx) mx = a;
  }
  const s = Math.fround(mx / 127);
  for (let k = 0; k < K; k++) {
    if (s === 0) { q[qo + k] = 0; continue; }
    const v = roundHalfEven(Math.fround(x[xo + k] / s));
    q[qo + k] = v > 127 ? 127 : v < -127 ? -127 : v;
  }
  return s;
}

export function quantizeInt8(q: I8, scale: F32, w: F32 | U16, N: number, K: number): void {
  const wv = asExact(w);
  for (let r = 0; r < N; r++) {
    const s = quantizeRow(q, r * K, wv, r * K, K);
    if (Number.isNaN(s)) throw new RangeError(`quantizeInt8: row ${r} of w has a non-finite value`);
    scale[r] = s;
  }
}

export function gemmBf16(c: F32, a: F32 | U16, b: F32 | U16, M: number, N: number, K: number, transA: boolean,
  transB: boolean, alpha: number, beta: number, lda?: number, ldb?: number, ldc?: number): void {
  gemm(c, asBf16Values(a), asBf16Values(b), M, N, K, transA, transB, alpha, beta, lda, ldb, ldc);
}

export function linearForwardBf16(y: F32, x: F32, w: U16 | F32, bias: F32 | null, M: number, K: number,
  N: number): void {
  gemm(y, asBf16Values(x.subarray(0, M * K)), asBf16Values(w.subarray(0, N * K)), M, N, K, false, true, 1, 0);
  if (bias) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) y[i * N + j] += bias[j];
}

export function linearBackwardBf16(dx: F32 | null, dw: F32 | null, db: F32 | null, dy: F32, x: F32, w: U16 | F32,
  M: number, K: number, N: number): void {
  const dyr = asBf16Values(dy.subarray(0, M * N));
  if (dx) gemm(dx, dyr, asBf16Values(w.subarray(0, N * K)), M, K, N, false, false, 1, 1);
  if (dw) gemm(dw, dyr, asBf16Values(x.subarray(0, M * K)), N, K, M, true, false, 1, 1);
  if (db) linearBackward(null, null, db, dy, x, dy, M, K, N);
}

export function linearForwardInt8(y: F32, x: F32, q: I8, wScale: F32, bias: F32 | null, M: number, K: number,
  N: number): void {
  const xq = new Int32Array(K);
  for (let i = 0; i < M; i++) {
    const sx = quantizeRow(xq, 0, x, i * K, K);
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += xq[k] * q[j * K + k];
      y[i * N + j] = acc * (sx * wScale[j]) + (bias ? bias[j] : 0);
    }
  }
}

export function embeddingForwardBf16(out: F32, table: U16, ids: I32, M: number, C: number): void {
  const V = Math.floor(table.length / C);
  for (let i = 0; i < M; i++) {
    const id = ids[i];
    if (id < 0 || id >= V) throw new RangeError(`embeddingForwardBf16: token id ${id} at row ${i} is outside [0, ${V})`);
    for (let j = 0; j < C; j++) out[i * C + j] = bf16Value(table[id * C + j]);
  }
}

/** rep/argmax from the positions chosen by `score(b, t, v)` (larger is better, first wins), exact recompute. */
function headFromPositions(rep: F32, argmax: I32, h: F32, wExact: Float32Array, mask: U8 | null, B: number,
  T: number, C: number, V: number, scale: number, score: (b: number, t: number, v: number) => number): void {
  for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) {
    let best = -Infinity, at = -1;
    for (let t = 0; t < T; t++) {
      if (mask !== null && mask[b * T + t] === 0) continue;
      const s = score(b, t, v);
      if (s > best || at < 0) { best = s; at = t; }
    }
    argmax[b * V + v] = at;
    if (at < 0) { rep[b * V + v] = 0; continue; }
    let d = 0;
    for (let j = 0; j < C; j++) d += h[(b * T + at) * C + j] * wExact[v * C + j];
    rep[b * V + v] = Math.log1p(Math.max(0, scale * d));
  }
}

function checkScale(fn: string, scale: number): void {
  if (!(scale > 0)) throw new RangeError(`${fn}: scale must be positive (got ${scale})`);
}

export function sparseHeadForwardBf16(rep: F32, argmax: I32, h: F32, w: U16 | F32, mask: U8 | null, B: number,
  T: number, C: number, V: number, scale: number): void {
  checkScale('sparseHeadForwardBf16', scale);
  const hr = asBf16Values(h.subarray(0, B * T * C)), wr = asBf16Values(w.subarray(0, V * C));
  headFromPositions(rep, argmax, h, asExact(w), mask, B, T, C, V, scale, (b, t, v) => {
    let d = 0;
    for (let j = 0; j < C; j++) d += hr[(b * T + t) * C + j] * wr[v * C + j];
    return d;
  });
}

export function sparseHeadForwardInt8(rep: F32, argmax: I32, h: F32, q: I8, qScale: F32, wExact: U16 | F32,
  mask: U8 | null, B: number, T: number, C: number, V: number, scale: number): void {
  checkScale('sparseHeadForwardInt8', scale);
  const hq = new Int32Array(B * T * C), sx = new Float64Array(B * T);
  for (let r = 0; r < B * T; r++) sx[r] = quantizeRow(hq, r * C, h, r * C, C);
  headFromPositions(rep, argmax, h, asExact(wExact), mask, B, T, C, V, scale, (b, t, v) => {
    let acc = 0;
    for (let j = 0; j < C; j++) acc += hq[(b * T + t) * C + j] * q[v * C + j];
    return acc * sx[b * T + t];
  });
  void qScale; // positive per-row weight scales do not change which token is the maximum
}

export function sparseHeadBackwardBf16(dh: F32, drep: F32, rep: F32, argmax: I32, h: F32, w: U16, B: number,
  T: number, C: number, V: number, scale: number): void {
  sparseHeadBackward(dh, null, drep, rep, argmax, h, asBf16Values(w.subarray(0, V * C)), B, T, C, V, scale);
}

export function isa(): IsaInfo {
  return { bf16: 'ref', int8: 'ref', available: ['ref'] };
}
