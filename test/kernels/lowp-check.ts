/**
 * The reduced-precision kernels of one backend against `ref`, shared by lowp.test.ts, which runs it in this
 * process (the default path) and in a child process per LION_ISA value the CPU can run. Every check throws
 * on failure; `checkLowp` returns statistics worth reporting (how often the low-precision sparse head picks
 * another token than fp32).
 *
 * Tolerances (documented in docs/kernels.md):
 * - bf16 products: |native − ref| ≤ 1e-5 · (|alpha|·Σ|a·b| + |beta·c|) per element, where ref sums the same
 *   bf16-rounded operands in float64 (only the fp32 accumulation order differs);
 * - int8: |native − ref| ≤ 1e-6 · (Σ|x_q·q|·sx·sw + |bias|) + 1e-30 (the int32 sums are exact on both sides);
 * - conversions and quantisation: bit-exact.
 */
import assert from 'node:assert/strict';
import { ref } from '../../src/kernels/ref/index.js';
import { bf16Value, quantizeInt8 as refQuantize } from '../../src/kernels/ref/lowp.js';
import type { Kernels } from '../../src/kernels/types.js';
import { rand32, rng } from './gradcheck.js';

/** bf16 bits of a float32 bit pattern (round-to-nearest-even; NaN → quiet NaN keeping sign and top payload). */
export function bf16FromBits(u: number): number {
  if ((u & 0x7fffffff) >>> 0 > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return (((u >>> 0) + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

const abs32 = (x: Float32Array | Uint16Array): Float32Array => {
  const o = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) o[i] = Math.abs(x instanceof Uint16Array ? bf16Value(x[i]) : x[i]);
  return o;
};

/** Per-element check |got − want| ≤ tol · bound[i] (+ tiny absolute slack). */
function within(got: Float32Array, want: Float32Array, bound: Float32Array | Float64Array, tol: number,
  what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (Object.is(got[i], want[i])) continue;
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= tol * bound[i] + 1e-30)) {
      throw new assert.AssertionError({ message: `${what}: element ${i}: got ${got[i]}, want ${want[i]} (error ${e}, bound ${tol * bound[i]})` });
    }
  }
}

function toU16(x: Float32Array): Uint16Array {
  const o = new Uint16Array(x.length);
  ref.toBf16(o, x, x.length);
  return o;
}

function checkConversions(k: Kernels): void {
  const r = rng(5);
  const specials = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff,
    0x00000001, 0x00008000, 0x00018000, 0x007fffff, 0x80008001, 0x3f808000, 0x3f818000, 0x3f80ffff, 0x7f7fffff,
    0xff7fffff, 0x7f7f8000, 0x3f800000, 0xbf7fffff];
  const n = 4099;
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = i < specials.length ? specials[i] : Math.floor(((r() + 1) / 2) * 2 ** 32) >>> 0;
  const f = new Float32Array(bits.buffer);
  const got = new Uint16Array(n);
  k.toBf16(got, f, n);
  for (let i = 0; i < n; i++) {
    const want = bf16FromBits(bits[i]);
    assert.equal(got[i], want, `toBf16 of bits 0x${bits[i].toString(16)}: got 0x${got[i].toString(16)}, want 0x${want.toString(16)}`);
  }
  const back = new Float32Array(n), backBits = new Uint32Array(back.buffer);
  k.fromBf16(back, got, n);
  for (let i = 0; i < n; i++) assert.equal(backBits[i], (got[i] << 16) >>> 0, 'fromBf16 widens exactly');
}

function checkGemm(k: Kernels): void {
  const r = rng(11);
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [13, 17, 33], [15, 31, 65], [29, 47, 130],
    [64, 96, 300], [5, 7, 2100], [40, 3, 1030], [3, 70, 259]];
  for (const [M, N, K] of shapes) for (const ta of [false, true]) for (const tb of [false, true]) {
    const a = rand32(M * K, r), b = rand32(K * N, r), c0 = rand32(M * N, r);
    const ops: [Float32Array | Uint16Array, Float32Array | Uint16Array][] = [[a, b], [toU16(a), toU16(b)], [a, toU16(b)]];
    const ab = [[1, 0], [0.5, 1], [-1.5, 0.25]];
    for (let o = 0; o < ops.length; o++) {
      const [A, B] = ops[o], [alpha, beta] = ab[(o + (ta ? 1 : 0) + (tb ? 2 : 0)) % 3];
      const cr = Float32Array.from(c0), cn = Float32Array.from(c0);
      ref.gemmBf16(cr, A, B, M, N, K, ta, tb, alpha, beta);
      k.gemmBf16(cn, A, B, M, N, K, ta, tb, alpha, beta);
      const bound = new Float32Array(M * N);
      ref.gemm(bound, abs32(A), abs32(B), M, N, K, ta, tb, Math.abs(alpha), 0);
      for (let i = 0; i < M * N; i++) bound[i] += Math.abs(beta * c0[i]);
      within(cn, cr, bound, 1e-5, `gemmBf16 ${M}x${N}x${K} ta=${ta} tb=${tb} ${A.constructor.name}/${B.constructor.name} alpha=${alpha} beta=${beta}`);
    }
  }
  // Strided operands and output, beta 0 ignores NaN in C, nothing outside the block is written.
  const M = 23, N = 37, K = 19;
  const a = rand32(M * 40, r), b = toU16(rand32(N * 30, r));
  const cr = new Float32Array(M * 50).fill(NaN), cn = new Float32Array(M * 50).fill(NaN);
  ref.gemmBf16(cr.subarray(3), a, b, M, N, K, false, true, 1, 0, 40, 30, 50);
  k.gemmBf16(cn.subarray(3), a, b, M, N, K, false, true, 1, 0, 40, 30, 50);
  for (let i = 0; i < M; i++) for (let j = 0; j < 50; j++) {
    const v = cn[i * 50 + j];
    if (j < 3 || j >= 3 + N) assert.ok(Number.isNaN(v), 'gemmBf16 wrote outside its block');
    else assert.ok(Math.abs(v - cr[i * 50 + j]) <= 1e-5 * 19, `gemmBf16 strided (${i}, ${j}): ${v} vs ${cr[i * 50 + j]}`);
  }
}

function checkLinear(k: Kernels): void {
  const r = rng(12);
  for (const [M, K, N] of [[7, 33, 19], [50, 130, 70], [3, 2100, 5]]) {
    const x = rand32(M * K, r), w = rand32(N * K, r), bias = rand32(N, r), dy = rand32(M * N, r);
    for (const W of [w, toU16(w)]) {
      const yr = new Float32Array(M * N), yn = new Float32Array(M * N);
      ref.linearForwardBf16(yr, x, W, bias, M, K, N);
      k.linearForwardBf16(yn, x, W, bias, M, K, N);
      const bound = new Float32Array(M * N);
      ref.gemm(bound, abs32(x), abs32(W), M, N, K, false, true, 1, 0);
      for (let i = 0; i < M * N; i++) bound[i] += Math.abs(bias[i % N]);
      within(yn, yr, bound, 1e-5, `linearForwardBf16 ${M}x${K}x${N} ${W.constructor.name}`);
      const g0 = { dx: rand32(M * K, r), dw: rand32(N * K, r), db: rand32(N, r) };
      const gr = { dx: Float32Array.from(g0.dx), dw: Float32Array.from(g0.dw), db: Float32Array.from(g0.db) };
      const gn = { dx: Float32Array.from(g0.dx), dw: Float32Array.from(g0.dw), db: Float32Array.from(g0.db) };
      ref.linearBackwardBf16(gr.dx, gr.dw, gr.db, dy, x, W, M, K, N);
      k.linearBackwardBf16(gn.dx, gn.dw, gn.db, dy, x, W, M, K, N);
      const bx = new Float32Array(M * K), bw = new Float32Array(N * K);
      ref.gemm(bx, abs32(dy), abs32(W), M, K, N, false, false, 1, 0);
      ref.gemm(bw, abs32(dy), abs32(x), N, K, M, true, false, 1, 0);
      for (let i = 0; i < M * K; i++) bx[i] += Math.abs(g0.dx[i]);
      for (let i = 0; i < N * K; i++) bw[i] += Math.abs(g0.dw[i]);
      within(gn.dx, gr.dx, bx, 1e-5, `linearBackwardBf16 dx ${M}x${K}x${N}`);
      within(gn.dw, gr.dw, bw, 1e-5, `linearBackwardBf16 dw ${M}x${K}x${N}`);
      within(gn.db, gr.db, new Float32Array(N).fill(M + 1), 1e-6, `linearBackwardBf16 db ${M}x${K}x${N}`);
      const dxn = Float32Array.from(g0.dx);
      k.linearBackwardBf16(dxn, null, null, dy, x, W, M, K, N);
      within(dxn, gr.dx, bx, 1e-5, 'linearBackwardBf16 dx alone');
    }
  }
}

function checkInt8(k: Kernels): { int8RelErr: number } {
  const r = rng(13);
  let worst = 0;
  for (const [M, K, N] of [[7, 33, 19], [45, 301, 66], [2, 700, 3]]) {
    const x = rand32(M * K, r), w = rand32(N * K, r), bias = rand32(N, r);
    for (let j = 0; j < K; j++) w[2 * K + j] = 0; // an all-zero weight row (scale 0)
    x[3] = 1e-30; // tiny values quantise to 0
    for (const W of [w, toU16(w)]) {
      const qr = new Int8Array(N * K), sr = new Float32Array(N), qn = new Int8Array(N * K), sn = new Float32Array(N);
      ref.quantizeInt8(qr, sr, W, N, K);
      k.quantizeInt8(qn, sn, W, N, K);
      assert.deepEqual(qn, qr, 'quantizeInt8 q is bit-exact');
      assert.deepEqual(sn, sr, 'quantizeInt8 scales are bit-exact');
      assert.equal(sn[2], 0, 'an all-zero row has scale 0');
      for (const b of [bias, null]) {
        const yr = new Float32Array(M * N), yn = new Float32Array(M * N);
        ref.linearForwardInt8(yr, x, qn, sn, b, M, K, N);
        k.linearForwardInt8(yn, x, qn, sn, b, M, K, N);
        // Bound: Σ|x_q·q|·sx·sw + |bias| ≤ (Σ|x|·|w| dequantised) — use the ref on absolute values.
        const xq = new Int8Array(M * K), sx = new Float32Array(M);
        refQuantize(xq, sx, x, M, K);
        const bound = new Float64Array(M * N);
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
          let s = 0;
          for (let t = 0; t < K; t++) s += Math.abs(xq[i * K + t] * qn[j * K + t]);
          bound[i * N + j] = s * sx[i] * sn[j] + (b ? Math.abs(b[j]) : 0);
        }
        within(yn, yr, bound, 1e-6, `linearForwardInt8 ${M}x${K}x${N} bias=${b !== null}`);
        // Against fp32: the quantisation error itself (reported, loosely bounded).
        const yf = new Float32Array(M * N);
        ref.linearForward(yf, x, w, b, M, K, N);
        let num = 0, den = 0;
        for (let i = 0; i < M * N; i++) { num += (yn[i] - yf[i]) ** 2; den += yf[i] ** 2; }
        worst = Math.max(worst, Math.sqrt(num / den));
      }
    }
  }
  assert.ok(worst < 0.03, `int8 linear relative error against fp32 ${worst}`);
  // A non-finite activation row gives a NaN output row; a non-finite weight is refused.
  const x = rand32(2 * 16, r), w = rand32(3 * 16, r), q = new Int8Array(48), s = new Float32Array(3);
  k.quantizeInt8(q, s, w, 3, 16);
  x[20] = Infinity;
  const y = new Float32Array(6);
  k.linearForwardInt8(y, x, q, s, null, 2, 16, 3);
  assert.ok(y.slice(0, 3).every(Number.isFinite) && y.slice(3).every(Number.isNaN), 'non-finite row → NaN row');
  w[17] = NaN;
  assert.throws(() => k.quantizeInt8(q, s, w, 3, 16), /quantizeInt8: row 1 of w has a non-finite value/);
  return { int8RelErr: worst };
}

function checkEmbedding(k: Kernels): void {
  const r = rng(14);
  const table = toU16(rand32(50 * 9, r)), ids = Int32Array.from([3, 0, 49, 3, 17]);
  const a = new Float32Array(5 * 9), b = new Float32Array(5 * 9);
  ref.embeddingForwardBf16(a, table, ids, 5, 9);
  k.embeddingForwardBf16(b, table, ids, 5, 9);
  assert.deepEqual(b, a, 'embeddingForwardBf16 is exact');
  assert.throws(() => k.embeddingForwardBf16(b, table, Int32Array.from([50]), 1, 9), /token id 50 at row 0 is outside \[0, 50\)/);
}

/** Sparse head: positions tie-aware against ref, rep exactly the fp32 recompute, difference from fp32 head. */
function checkSparseHead(k: Kernels): { bf16ArgmaxDiff: number; int8ArgmaxDiff: number } {
  const r = rng(15);
  const B = 3, T = 9, C = 70, V = 300, scale = C ** -0.25;
  const h = rand32(B * T * C, r), w = rand32(V * C, r), wb = toU16(w);
  const mask = new Uint8Array(B * T).fill(1);
  mask[0] = 0; mask[T - 1] = 0; mask[T + 4] = 0; // padding at both ends and inside
  for (let t = 0; t < T; t++) mask[2 * T + t] = t === 5 ? 1 : 0; // one real token
  const q = new Int8Array(V * C), qs = new Float32Array(V);
  k.quantizeInt8(q, qs, wb, V, C);
  const wExact = new Float32Array(V * C);
  ref.fromBf16(wExact, wb, V * C);
  // fp32 logits (float64) for tie-aware comparisons.
  const logit = (b: number, t: number, v: number, ww: Float32Array): number => {
    let d = 0;
    for (let j = 0; j < C; j++) d += h[(b * T + t) * C + j] * ww[v * C + j];
    return d;
  };
  const absDot = (b: number, t: number, v: number): number => {
    let d = 0;
    for (let j = 0; j < C; j++) d += Math.abs(h[(b * T + t) * C + j] * wExact[v * C + j]);
    return d;
  };
  // The low-precision score of (b, t, v) as ref defines it, and the sum of its absolute terms.
  const hb = new Float32Array(B * T * C), hq = new Int8Array(B * T * C), sx = new Float32Array(B * T);
  for (let i = 0; i < hb.length; i++) hb[i] = bf16Value(toU16(h.subarray(i, i + 1))[0]);
  refQuantize(hq, sx, h, B * T, C);
  const lpScore = (variant: 'bf16' | 'int8', b: number, t: number, v: number): [number, number] => {
    let d = 0, a = 0;
    for (let j = 0; j < C; j++) {
      const p = variant === 'bf16' ? hb[(b * T + t) * C + j] * wExact[v * C + j] : hq[(b * T + t) * C + j] * q[v * C + j];
      d += p;
      a += Math.abs(p);
    }
    const s = variant === 'bf16' ? 1 : sx[b * T + t];
    return [d * s, a * s];
  };
  const out: Record<string, number> = {};
  for (const variant of ['bf16', 'int8'] as const) {
    for (const W of variant === 'bf16' ? [w, wb] : [wb]) {
      const repN = new Float32Array(B * V), amN = new Int32Array(B * V), repR = new Float32Array(B * V), amR = new Int32Array(B * V);
      if (variant === 'bf16') {
        k.sparseHeadForwardBf16(repN, amN, h, W, mask, B, T, C, V, scale);
        ref.sparseHeadForwardBf16(repR, amR, h, W, mask, B, T, C, V, scale);
      } else {
        k.sparseHeadForwardInt8(repN, amN, h, q, qs, W, mask, B, T, C, V, scale);
        ref.sparseHeadForwardInt8(repR, amR, h, q, qs, W, mask, B, T, C, V, scale);
      }
      const wex = W instanceof Uint16Array ? wExact : W;
      const repF = new Float32Array(B * V), amF = new Int32Array(B * V);
      ref.sparseHeadForward(repF, amF, h, wex, mask, B, T, C, V, scale);
      let diff = 0, total = 0;
      for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) {
        const i = b * V + v, t = amN[i];
        assert.ok(t >= 0 && mask[b * T + t] === 1, `${variant} head: argmax ${t} of (${b}, ${v}) is a real token`);
        // rep is the fp32 recompute at the chosen token.
        const want = Math.log1p(Math.max(0, scale * logit(b, t, v, wex)));
        assert.ok(Math.abs(repN[i] - want) <= 1e-6 * Math.max(1, want), `${variant} head rep (${b}, ${v}): ${repN[i]} vs ${want}`);
        // Same position as ref, or one whose low-precision score is within rounding of ref's (a near tie).
        if (t !== amR[i]) {
          const [sr, ar] = lpScore(variant, b, amR[i], v), [sn, an] = lpScore(variant, b, t, v);
          assert.ok(Math.abs(sr - sn) <= 1e-5 * Math.max(ar, an),
            `${variant} head (${b}, ${v}): token ${t} (score ${sn}) vs ref's ${amR[i]} (score ${sr}) is not a tie`);
        }
        // Against the fp32 head: a different token must be a near tie within the operand rounding.
        total++;
        if (t !== amF[i]) {
          diff++;
          const gap = logit(b, amF[i], v, wex) - logit(b, t, v, wex);
          const rel = variant === 'bf16' ? 2 * 2 ** -8 : 4 / 127;
          assert.ok(gap >= 0 && gap <= rel * (absDot(b, t, v) + absDot(b, amF[i], v)),
            `${variant} head (${b}, ${v}): token ${t} instead of fp32's ${amF[i]} is not a near tie (gap ${gap})`);
        }
      }
      out[variant] = diff / total;
      assert.ok(diff / total < (variant === 'bf16' ? 0.1 : 0.25), `${variant} head: ${diff} of ${total} positions differ from fp32`);
      if (variant === 'bf16') {
        // Backward for a frozen bf16 head matches ref's.
        const drep = rand32(B * V, r), dhR = rand32(B * T * C, r), dhN = Float32Array.from(dhR);
        ref.sparseHeadBackwardBf16(dhR, drep, repN, amN, h, wb, B, T, C, V, scale);
        k.sparseHeadBackwardBf16(dhN, drep, repN, amN, h, wb, B, T, C, V, scale);
        for (let i = 0; i < dhR.length; i++) assert.ok(Math.abs(dhN[i] - dhR[i]) <= 1e-5 * (1 + Math.abs(dhR[i])), `sparseHeadBackwardBf16 ${i}`);
      }
    }
  }
  return { bf16ArgmaxDiff: out.bf16, int8ArgmaxDiff: out.int8 };
}

function checkErrors(k: Kernels): void {
  const f = new Float32Array(16);
  assert.throws(() => k.gemmBf16(f, new Int8Array(16) as unknown as Float32Array, f, 4, 4, 4, false, false, 1, 0),
    /gemmBf16: argument 1 must be a Float32Array or a Uint16Array/);
  assert.throws(() => k.linearForwardInt8(f, f, new Int8Array(3), f, null, 4, 4, 4), /linearForwardInt8: argument 2 has 3 elements, needs 16/);
  assert.throws(() => k.sparseHeadForwardBf16(f, new Int32Array(16), f, f, null, 1, 1, 4, 4, 0), /scale must be positive/);
}

/** Runs every check on backend k; returns the statistics. */
export function checkLowp(k: Kernels): Record<string, number> {
  checkConversions(k);
  checkGemm(k);
  checkLinear(k);
  const i8 = checkInt8(k);
  checkEmbedding(k);
  const sh = checkSparseHead(k);
  if (k.name === 'native') checkErrors(k);
  return { ...i8, ...sh };
}
