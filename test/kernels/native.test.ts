/**
 * The native backend against the reference: every kernel on random shapes, including odd sizes that are
 * not multiples of the SIMD width or the GEMM tiles, must match `ref` to float32 accuracy. The GEMM is also
 * run under LION_CPU=avx2 and =portable in child processes, so every dispatch path is exercised.
 * Skipped, with the reason, when the addon is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../src/kernels/native.js';
import { ref } from '../../src/kernels/ref/index.js';
import { ropeInvFreq, ropeTables } from '../../src/kernels/rope.js';
import type { Kernels } from '../../src/kernels/types.js';
import { rand32, rng } from './gradcheck.js';

let nat: Kernels | undefined;
let why: string | false = false;
try { nat = loadNative(); } catch (e) { why = `native backend unavailable: ${(e as Error).message}`; }
const skip = why;
const N = (): Kernels => nat as Kernels;

/** max |a − b| / max(1, max |b|) ≤ tol (equal values, infinities included, count as exact). */
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let scale = 1, err = 0, at = -1;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const e = a[i] === b[i] ? 0 : Math.abs(a[i] - b[i]);
    if (!(e <= err)) { err = e; at = i; }
  }
  assert.ok(err / scale <= tol, `${what}: max error ${err} at ${at} (native ${a[at]}, ref ${b[at]}), scale ${scale}`);
}
const copy = (x: Float32Array): Float32Array => Float32Array.from(x);

test('gemm: every transposition, alpha/beta, strides, odd shapes', { skip }, () => {
  const r = rng(21);
  const shapes = [[1, 1, 1], [3, 5, 7], [13, 17, 33], [15, 31, 300], [29, 47, 65], [64, 96, 128], [97, 130, 259], [14, 32, 1], [200, 3, 17]];
  for (const [M, Nn, K] of shapes) for (const ta of [false, true]) for (const tb of [false, true]) {
    const a = rand32(M * K, r), b = rand32(K * Nn, r), c0 = rand32(M * Nn, r);
    for (const [alpha, beta] of [[1, 0], [0.5, 1], [-1.5, 0.25]]) {
      const cr = copy(c0), cn = copy(c0);
      ref.gemm(cr, a, b, M, Nn, K, ta, tb, alpha, beta);
      N().gemm(cn, a, b, M, Nn, K, ta, tb, alpha, beta);
      close(cn, cr, 2e-5 * Math.sqrt(K), `gemm ${M}x${Nn}x${K} ta=${ta} tb=${tb} alpha=${alpha} beta=${beta}`);
    }
  }
  // Strided: a (M, K) inside rows of 40, c written into a (M, 50) block at column 3; NaN ignored at beta 0.
  const M = 23, Nn = 37, K = 19;
  const a = rand32(M * 40, r), b = rand32(K * Nn, r);
  const cr = new Float32Array(M * 50).fill(NaN), cn = new Float32Array(M * 50).fill(NaN);
  ref.gemm(cr.subarray(3), a, b, M, Nn, K, false, false, 1, 0, 40, Nn, 50);
  N().gemm(cn.subarray(3), a, b, M, Nn, K, false, false, 1, 0, 40, Nn, 50);
  for (let i = 0; i < M; i++) for (let j = 0; j < 50; j++) {
    const inside = j >= 3 && j < 3 + Nn;
    if (!inside) assert.ok(Number.isNaN(cn[i * 50 + j]), 'gemm wrote outside its block');
    else assert.ok(Math.abs(cn[i * 50 + j] - cr[i * 50 + j]) < 1e-4);
  }
  assert.throws(() => N().gemm(new Float32Array(5), a, b, 3, 3, 3, false, false, 1, 0), /gemm: argument 0 has 5 elements, needs 9/);
});

test('gemm: large shapes spanning several cache blocks (threads and K-blocking)', { skip }, () => {
  const r = rng(22);
  for (const [M, Nn, K] of [[301, 2100, 37], [700, 45, 530], [33, 4099, 260]]) {
    const a = rand32(M * K, r), b = rand32(K * Nn, r), c0 = rand32(M * Nn, r);
    const cr = copy(c0), cn = copy(c0);
    ref.gemm(cr, a, b, M, Nn, K, false, true, 1, 1);
    N().gemm(cn, a, b, M, Nn, K, false, true, 1, 1);
    close(cn, cr, 1e-4, `gemm ${M}x${Nn}x${K}`);
  }
});

test('gemm: AVX2 and portable microkernels (LION_CPU) match ref', { skip }, () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const code = `
    import { loadNative } from '${here}../../src/kernels/native.js';
    import { ref } from '${here}../../src/kernels/ref/index.js';
    const k = loadNative(); let worst = 0;
    let s = 7; const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    for (const [M, N, K] of [[5, 9, 3], [37, 70, 260], [130, 33, 17]]) for (const ta of [false, true]) for (const tb of [false, true]) {
      const a = Float32Array.from({ length: M * K }, rnd), b = Float32Array.from({ length: K * N }, rnd);
      const c1 = Float32Array.from({ length: M * N }, rnd), c2 = Float32Array.from(c1);
      ref.gemm(c1, a, b, M, N, K, ta, tb, 0.75, 0.5); k.gemm(c2, a, b, M, N, K, ta, tb, 0.75, 0.5);
      for (let i = 0; i < c1.length; i++) worst = Math.max(worst, Math.abs(c1[i] - c2[i]));
    }
    console.log(k.cpuLevel, worst);`;
  for (const level of ['avx2', 'portable']) {
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LION_CPU: level, LION_THREADS: level === 'avx2' ? '3' : '1' }, encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const [got, worst] = p.stdout.trim().split(' ');
    assert.ok(got === level || (level === 'avx2' && got === 'portable'), `LION_CPU=${level} ran ${got}`);
    assert.ok(Number(worst) < 1e-4, `${level}: max error ${worst}`);
  }
});

test('linear forward/backward (with and without bias, frozen weight)', { skip }, () => {
  const r = rng(23);
  for (const [M, K, Nn] of [[7, 13, 5], [65, 33, 130]]) {
    const x = rand32(M * K, r), w = rand32(Nn * K, r), b = rand32(Nn, r), dy = rand32(M * Nn, r);
    for (const bias of [b, null]) {
      const yr = new Float32Array(M * Nn), yn = new Float32Array(M * Nn).fill(NaN);
      ref.linearForward(yr, x, w, bias, M, K, Nn); N().linearForward(yn, x, w, bias, M, K, Nn);
      close(yn, yr, 1e-5, 'linearForward');
    }
    const g0 = [rand32(M * K, r), rand32(Nn * K, r), rand32(Nn, r)];
    const gr = g0.map(copy), gn = g0.map(copy);
    ref.linearBackward(gr[0], gr[1], gr[2], dy, x, w, M, K, Nn);
    N().linearBackward(gn[0], gn[1], gn[2], dy, x, w, M, K, Nn);
    close(gn[0], gr[0], 1e-5, 'dx'); close(gn[1], gr[1], 1e-5, 'dw'); close(gn[2], gr[2], 1e-5, 'db');
    const dxr = copy(g0[0]), dxn = copy(g0[0]);
    ref.linearBackward(dxr, null, null, dy, x, w, M, K, Nn); N().linearBackward(dxn, null, null, dy, x, w, M, K, Nn);
    close(dxn, dxr, 1e-5, 'dx only');
  }
});

test('rmsnorm, rope, swiglu, axpy/scale/sumSquares', { skip }, () => {
  const r = rng(24);
  for (const [M, C] of [[3, 7], [129, 67], [300, 256]]) {
    const x = rand32(M * C, r, 3), w = rand32(C, r), dy = rand32(M * C, r);
    const yr = new Float32Array(M * C), yn = new Float32Array(M * C), sr = new Float32Array(M), sn = new Float32Array(M);
    ref.rmsnormForward(yr, sr, x, w, M, C, 1e-6); N().rmsnormForward(yn, sn, x, w, M, C, 1e-6);
    close(yn, yr, 1e-5, 'rmsnorm y'); close(sn, sr, 1e-5, 'rmsnorm rstd');
    const d0 = rand32(M * C, r), w0 = rand32(C, r);
    const dxr = copy(d0), dxn = copy(d0), dwr = copy(w0), dwn = copy(w0);
    ref.rmsnormBackward(dxr, dwr, dy, x, w, sr, M, C); N().rmsnormBackward(dxn, dwn, dy, x, w, sr, M, C);
    close(dxn, dxr, 1e-5, 'rmsnorm dx'); close(dwn, dwr, 1e-4, 'rmsnorm dw');
  }
  for (const [B, T, NH, D] of [[1, 3, 1, 2], [2, 7, 3, 10], [3, 33, 4, 64]]) {
    const cos = new Float32Array(40 * D), sin = new Float32Array(40 * D);
    ropeTables(cos, sin, ropeInvFreq(D, 10000), 40);
    const x = rand32(B * T * NH * D, r), xr = copy(x), xn = copy(x);
    ref.ropeForward(xr, cos, sin, B, T, NH, D); N().ropeForward(xn, cos, sin, B, T, NH, D);
    close(xn, xr, 1e-6, 'rope forward');
    ref.ropeBackward(xr, cos, sin, B, T, NH, D); N().ropeBackward(xn, cos, sin, B, T, NH, D);
    close(xn, xr, 1e-6, 'rope backward'); close(xn, x, 1e-5, 'rope round trip');
  }
  for (const n of [1, 17, 1000, 100003]) {
    const g = rand32(n, r, 8), u = rand32(n, r), d = rand32(n, r);
    const or = new Float32Array(n), on = new Float32Array(n);
    ref.swigluForward(or, g, u, n); N().swigluForward(on, g, u, n);
    close(on, or, 2e-6, 'swiglu forward');
    const a0 = rand32(n, r), b0 = rand32(n, r);
    const gr = copy(a0), gn = copy(a0), ur = copy(b0), un = copy(b0);
    ref.swigluBackward(gr, ur, d, g, u, n); N().swigluBackward(gn, un, d, g, u, n);
    close(gn, gr, 2e-6, 'swiglu dgate'); close(un, ur, 2e-6, 'swiglu dup');
    const yr = copy(a0), yn = copy(a0);
    ref.axpy(yr, g, -0.3, n); N().axpy(yn, g, -0.3, n); close(yn, yr, 1e-6, 'axpy');
    ref.scale(yr, 1.7, n); N().scale(yn, 1.7, n); close(yn, yr, 1e-6, 'scale');
    assert.ok(Math.abs(N().sumSquares(g, n) - ref.sumSquares(g, n)) <= 1e-9 * ref.sumSquares(g, n), 'sumSquares');
  }
});

test('softmax, log-softmax, cross-entropy', { skip }, () => {
  const r = rng(25);
  for (const [M, Nn] of [[1, 1], [5, 3], [33, 1000], [7, 32001]]) {
    const x = rand32(M * Nn, r, 6), dy = rand32(M * Nn, r);
    for (const log of [false, true]) {
      const fwd = log ? 'logSoftmaxForward' : 'softmaxForward', bwd = log ? 'logSoftmaxBackward' : 'softmaxBackward';
      const yr = new Float32Array(M * Nn), yn = new Float32Array(M * Nn);
      ref[fwd](yr, x, M, Nn); N()[fwd](yn, x, M, Nn);
      close(yn, yr, 2e-6, fwd);
      const d0 = rand32(M * Nn, r), dr = copy(d0), dn = copy(d0);
      ref[bwd](dr, dy, yr, M, Nn); N()[bwd](dn, dy, yr, M, Nn);
      close(dn, dr, 1e-5, bwd);
    }
    const t = Int32Array.from({ length: M }, (_, i) => (i % 3 === 1 ? -100 : (i * 7919) % Nn));
    const lr = new Float32Array(M), ln = new Float32Array(M), sr = new Float32Array(M), sn = new Float32Array(M);
    assert.equal(N().crossEntropyForward(ln, sn, x, t, M, Nn, -100), ref.crossEntropyForward(lr, sr, x, t, M, Nn, -100));
    close(ln, lr, 2e-6, 'ce losses'); close(sn, sr, 2e-6, 'ce lse');
    const d0 = rand32(M * Nn, r), dr = copy(d0), dn = copy(d0);
    ref.crossEntropyBackward(dr, x, sr, t, 0.25, M, Nn, -100); N().crossEntropyBackward(dn, x, sr, t, 0.25, M, Nn, -100);
    close(dn, dr, 2e-6, 'ce backward');
  }
  assert.throws(() => N().crossEntropyForward(new Float32Array(1), new Float32Array(1), new Float32Array(3), Int32Array.of(3), 1, 3, -100), /target 3 at row 0/);
});

test('attention: grouped-query, padding mask, causal and bidirectional, odd sizes', { skip }, () => {
  const r = rng(26);
  for (const [B, T, H, KVH, D] of [[1, 1, 1, 1, 1], [2, 5, 4, 2, 3], [3, 37, 6, 2, 17], [2, 70, 4, 4, 64]]) {
    const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < 2 + (i % 3) || (i % T) % 5 !== 4 ? 1 : 0));
    if (B > 1) for (let t = 0; t < Math.min(2, T); t++) mask[T + t] = 0; // a left-padded row
    if (B > 2) mask.fill(0, 2 * T, 3 * T); // a sequence with no real token at all
    const q = rand32(B * T * H * D, r), k = rand32(B * T * KVH * D, r), v = rand32(B * T * KVH * D, r);
    const dout = rand32(B * T * H * D, r), sc = 1 / Math.sqrt(D);
    for (const causal of [false, true]) for (const m of [mask, null]) {
      const or = new Float32Array(q.length), on = new Float32Array(q.length);
      const lr = new Float32Array(B * H * T), ln = new Float32Array(B * H * T);
      ref.attentionForward(or, lr, q, k, v, m, B, T, H, KVH, D, causal, sc);
      N().attentionForward(on, ln, q, k, v, m, B, T, H, KVH, D, causal, sc);
      const what = `attention B${B} T${T} H${H}/${KVH} D${D} causal=${causal} mask=${m !== null}`;
      close(on, or, 1e-5, `${what} out`); close(ln, lr, 1e-5, `${what} lse`);
      const g = [rand32(q.length, r), rand32(k.length, r), rand32(v.length, r)];
      const gr = g.map(copy), gn = g.map(copy);
      ref.attentionBackward(gr[0], gr[1], gr[2], dout, or, lr, q, k, v, m, B, T, H, KVH, D, causal, sc);
      N().attentionBackward(gn[0], gn[1], gn[2], dout, or, lr, q, k, v, m, B, T, H, KVH, D, causal, sc);
      close(gn[0], gr[0], 1e-5, `${what} dq`); close(gn[1], gr[1], 1e-5, `${what} dk`); close(gn[2], gr[2], 1e-5, `${what} dv`);
    }
  }
});

test('embedding, sparse head, mean pooling, AdamW', { skip }, () => {
  const r = rng(27);
  const M = 37, C = 19, V = 11;
  const table = rand32(V * C, r), ids = Int32Array.from({ length: M }, (_, i) => (i * 5) % V), dout = rand32(M * C, r);
  const er = new Float32Array(M * C), en = new Float32Array(M * C);
  ref.embeddingForward(er, table, ids, M, C); N().embeddingForward(en, table, ids, M, C);
  close(en, er, 0, 'embedding forward');
  const t0 = rand32(V * C, r), tr = copy(t0), tn = copy(t0);
  ref.embeddingBackward(tr, dout, ids, M, C); N().embeddingBackward(tn, dout, ids, M, C);
  close(tn, tr, 1e-6, 'embedding backward');
  assert.throws(() => N().embeddingForward(en, table, Int32Array.of(V), 1, C), /token id 11/);

  // The last shape has C above the GEMM's K block (1024): the head's general path.
  for (const [B, T, Ch, Vv] of [[1, 1, 1, 1], [2, 5, 7, 300], [3, 33, 65, 1000], [4, 17, 32, 513], [3, 6, 1100, 40]]) {
    const h = rand32(B * T * Ch, r, 2), w = rand32(Vv * Ch, r);
    const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T === 0 || i % 4 !== 3 ? 1 : 0));
    if (B > 2) { mask.fill(0, 0, 3); mask.fill(0, T - 4, T); } // left- and right-padded sequence
    if (B > 3) mask.fill(0, 3 * T, 4 * T); // a sequence with no real token
    const sc = Math.pow(Ch, -0.25);
    const rr = new Float32Array(B * Vv), rn = new Float32Array(B * Vv), ar = new Int32Array(B * Vv), an = new Int32Array(B * Vv);
    ref.sparseHeadForward(rr, ar, h, w, mask, B, T, Ch, Vv, sc); N().sparseHeadForward(rn, an, h, w, mask, B, T, Ch, Vv, sc);
    close(rn, rr, 1e-5, 'sparse head rep');
    let same = 0; for (let i = 0; i < ar.length; i++) same += ar[i] === an[i] ? 1 : 0;
    assert.ok(same >= ar.length - 2, `sparse head argmax differs in ${ar.length - same} places`);
    const drep = rand32(B * Vv, r), dh0 = rand32(B * T * Ch, r), dw0 = rand32(Vv * Ch, r);
    const dhr = copy(dh0), dhn = copy(dh0), dwr = copy(dw0), dwn = copy(dw0);
    ref.sparseHeadBackward(dhr, dwr, drep, rr, ar, h, w, B, T, Ch, Vv, sc);
    N().sparseHeadBackward(dhn, dwn, drep, rr, ar, h, w, B, T, Ch, Vv, sc);
    close(dhn, dhr, 1e-5, 'sparse head dh'); close(dwn, dwr, 1e-5, 'sparse head dw');
    const dhf = copy(dh0); N().sparseHeadBackward(dhf, null, drep, rr, ar, h, w, B, T, Ch, Vv, sc);
    close(dhf, dhr, 1e-5, 'sparse head dh (frozen w)');

    const pr = new Float32Array(B * Ch), pn = new Float32Array(B * Ch), nr = new Float32Array(B * T), nn = new Float32Array(B * T);
    ref.meanPoolForward(pr, nr, h, mask, B, T, Ch); N().meanPoolForward(pn, nn, h, mask, B, T, Ch);
    close(pn, pr, 1e-5, 'mean pool'); close(nn, nr, 1e-5, 'norms');
    const g = rand32(B * Ch, r), gr = copy(dh0), gn = copy(dh0);
    ref.meanPoolBackward(gr, g, h, nr, mask, B, T, Ch); N().meanPoolBackward(gn, g, h, nr, mask, B, T, Ch);
    close(gn, gr, 1e-5, 'mean pool backward');
  }

  for (const n of [1, 31, 70001]) {
    const p0 = rand32(n, r), g1 = rand32(n, r), g2 = rand32(n, r);
    const s = [copy(p0), new Float32Array(n), new Float32Array(n)], t = [copy(p0), new Float32Array(n), new Float32Array(n)];
    for (const [step, g] of [[1, g1], [2, g2]] as const) {
      ref.adamw(s[0], g, s[1], s[2], n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
      N().adamw(t[0], g, t[1], t[2], n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
    }
    close(t[0], s[0], 1e-6, 'adamw param'); close(t[1], s[1], 1e-6, 'adamw m'); close(t[2], s[2], 1e-6, 'adamw v');
  }
});
