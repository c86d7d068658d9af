/**
 * The reference backend against calculus: every forward/backward pair passes a float64 finite-difference
 * gradient check on tiny shapes, plus direct checks of the kernels without a backward (gemm variants,
 * AdamW, RoPE tables) against their definitions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as R from '../../src/kernels/ref/all.js';
import { ropeInvFreq, ropeScalingFromConfig, ropeTables } from '../../src/kernels/rope.js';
import { gradCheck, rand64, rng } from './gradcheck.js';

const zeros = (n: number): Float64Array => new Float64Array(n);

test('gemm: all transposition variants, alpha/beta and strides match the definition', () => {
  const r = rng(1);
  const M = 3, N = 4, K = 5;
  const A = rand64(M * K, r), Bm = rand64(K * N, r), C0 = rand64(M * N, r);
  const at = zeros(K * M), bt = zeros(N * K);
  for (let i = 0; i < M; i++) for (let p = 0; p < K; p++) at[p * M + i] = A[i * K + p];
  for (let p = 0; p < K; p++) for (let j = 0; j < N; j++) bt[j * K + p] = Bm[p * N + j];
  const want = zeros(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0; for (let p = 0; p < K; p++) s += A[i * K + p] * Bm[p * N + j];
    want[i * N + j] = 0.5 * s + 2 * C0[i * N + j];
  }
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const c = Float64Array.from(C0);
    R.gemm(c, ta ? at : A, tb ? bt : Bm, M, N, K, ta, tb, 0.5, 2);
    for (let i = 0; i < M * N; i++) assert.ok(Math.abs(c[i] - want[i]) < 1e-12, `transA=${ta} transB=${tb} at ${i}`);
  }
  // Strided: C written into columns 1..N of a (M, N+2) matrix; beta = 0 ignores NaN.
  const wide = new Float64Array(M * (N + 2)).fill(NaN);
  R.gemm(wide.subarray(1), A, Bm, M, N, K, false, false, 0.5, 0, K, N, N + 2);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    assert.ok(Math.abs(wide[i * (N + 2) + 1 + j] - (want[i * N + j] - 2 * C0[i * N + j])) < 1e-12);
  }
});

test('linear: forward/backward gradient check (dx, dW, db)', () => {
  const r = rng(2), M = 3, K = 4, N = 5;
  const x = rand64(M * K, r), w = rand64(N * K, r), b = rand64(N, r);
  gradCheck({ x, w, b }, () => { const y = zeros(M * N); R.linearForward(y, x, w, b, M, K, N); return y; },
    (dy) => { const dx = zeros(M * K), dw = zeros(N * K), db = zeros(N); R.linearBackward(dx, dw, db, dy, x, w, M, K, N); return { x: dx, w: dw, b: db }; });
});

test('rmsnorm: gradient check', () => {
  const r = rng(3), M = 3, C = 6;
  const x = rand64(M * C, r), w = rand64(C, r);
  gradCheck({ x, w }, () => { const y = zeros(M * C); R.rmsnormForward(y, zeros(M), x, w, M, C, 1e-5); return y; },
    (dy) => {
      const rstd = zeros(M); R.rmsnormForward(zeros(M * C), rstd, x, w, M, C, 1e-5);
      const dx = zeros(M * C), dw = zeros(C); R.rmsnormBackward(dx, dw, dy, x, w, rstd, M, C); return { x: dx, w: dw };
    });
});

test('rope: gradient check, and rotation preserves norms', () => {
  const r = rng(4), B = 2, T = 3, NH = 2, D = 8;
  const inv = ropeInvFreq(D, 10000);
  const cos = new Float32Array(T * D), sin = new Float32Array(T * D);
  ropeTables(cos, sin, inv, T);
  const c64 = Float64Array.from(cos), s64 = Float64Array.from(sin);
  const x = rand64(B * T * NH * D, r);
  gradCheck({ x }, () => { const y = Float64Array.from(x); R.ropeForward(y, c64, s64, B, T, NH, D); return y; },
    (dy) => { const dx = Float64Array.from(dy); R.ropeBackward(dx, c64, s64, B, T, NH, D); return { x: dx }; });
  const y = Float64Array.from(x); R.ropeForward(y, c64, s64, B, T, NH, D);
  assert.ok(Math.abs(R.sumSquares(y, y.length) - R.sumSquares(x, x.length)) < 1e-5); // float32 tables
  // Position 0 is the identity; position 1 rotates pair (0, D/2) by inv_freq[0] = 1 radian.
  assert.equal(y[0], x[0]);
  const o = NH * D;
  assert.ok(Math.abs(y[o] - (x[o] * Math.cos(1) - x[o + D / 2] * Math.sin(1))) < 1e-6);
});

test('rope tables: Llama-3 scaling follows transformers (long wavelengths / factor, short kept)', () => {
  const scaling = ropeScalingFromConfig({ rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4,
    original_max_position_embeddings: 8192 });
  assert.ok(scaling);
  const D = 64, theta = 500000;
  const base = ropeInvFreq(D, theta), scaled = ropeInvFreq(D, theta, scaling);
  for (let i = 0; i < D / 2; i++) {
    const wave = (2 * Math.PI) / base[i];
    if (wave < 8192 / 4) assert.equal(scaled[i], base[i]);
    else if (wave > 8192) assert.ok(Math.abs(scaled[i] - base[i] / 8) <= 1e-7 * base[i]);
    else assert.ok(scaled[i] < base[i] && scaled[i] > base[i] / 8);
  }
  assert.equal(ropeScalingFromConfig(null), null);
  assert.equal(ropeScalingFromConfig({ type: 'default' }), null);
  assert.throws(() => ropeScalingFromConfig({ type: 'yarn', factor: 2 }), /yarn/);
});

for (const causal of [false, true]) {
  test(`attention (${causal ? 'causal' : 'bidirectional'}, grouped-query, padding mask): gradient check`, () => {
    const r = rng(causal ? 5 : 6), B = 2, T = 4, H = 4, KVH = 2, D = 3, sc = 1 / Math.sqrt(D);
    const mask = new Uint8Array([1, 1, 1, 0, 0, 1, 1, 1]); // right- and left-padded rows
    const q = rand64(B * T * H * D, r), k = rand64(B * T * KVH * D, r), v = rand64(B * T * KVH * D, r);
    const fwd = (): { out: Float64Array; lse: Float64Array } => {
      const out = zeros(q.length), lse = zeros(B * H * T);
      R.attentionForward(out, lse, q, k, v, mask, B, T, H, KVH, D, causal, sc);
      return { out, lse };
    };
    gradCheck({ q, k, v }, () => fwd().out, (dout) => {
      const { out, lse } = fwd();
      const dq = zeros(q.length), dk = zeros(k.length), dv = zeros(v.length);
      R.attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, mask, B, T, H, KVH, D, causal, sc);
      return { q: dq, k: dk, v: dv };
    });
    const { out, lse } = fwd();
    if (causal) { // batch 1, query 0 sees only padding: zeros and lse = -Infinity
      assert.equal(lse[(1 * H + 0) * T + 0], -Infinity);
      for (let i = 0; i < D; i++) assert.equal(out[(1 * T + 0) * H * D + i], 0);
    }
    // A padded key never changes the output.
    const k2 = Float64Array.from(k); for (let i = 0; i < KVH * D; i++) k2[(0 * T + 3) * KVH * D + i] += 5;
    const out2 = zeros(q.length); R.attentionForward(out2, zeros(B * H * T), q, k2, v, mask, B, T, H, KVH, D, causal, sc);
    assert.deepEqual(out2, out);
  });
}

test('swiglu: gradient check', () => {
  const r = rng(7), N = 10;
  const gate = rand64(N, r, 3), up = rand64(N, r);
  gradCheck({ gate, up }, () => { const y = zeros(N); R.swigluForward(y, gate, up, N); return y; },
    (dy) => { const dg = zeros(N), du = zeros(N); R.swigluBackward(dg, du, dy, gate, up, N); return { gate: dg, up: du }; });
});

test('softmax and log-softmax: gradient checks', () => {
  const r = rng(8), M = 3, N = 5;
  const x = rand64(M * N, r, 3);
  gradCheck({ x }, () => { const y = zeros(M * N); R.softmaxForward(y, x, M, N); return y; },
    (dy) => { const y = zeros(M * N); R.softmaxForward(y, x, M, N); const dx = zeros(M * N); R.softmaxBackward(dx, dy, y, M, N); return { x: dx }; });
  gradCheck({ x }, () => { const y = zeros(M * N); R.logSoftmaxForward(y, x, M, N); return y; },
    (dy) => { const y = zeros(M * N); R.logSoftmaxForward(y, x, M, N); const dx = zeros(M * N); R.logSoftmaxBackward(dx, dy, y, M, N); return { x: dx }; });
});

test('cross-entropy with ignore index: value and gradient check', () => {
  const r = rng(9), M = 4, V = 6, ignore = -100;
  const logits = rand64(M * V, r, 2);
  const targets = new Int32Array([2, ignore, 0, 5]);
  const losses = zeros(M), lse = zeros(M);
  assert.equal(R.crossEntropyForward(losses, lse, logits, targets, M, V, ignore), 3);
  assert.equal(losses[1], 0);
  const y = zeros(V); R.logSoftmaxForward(y, logits.subarray(0, V), 1, V);
  assert.ok(Math.abs(losses[0] + y[2]) < 1e-12);
  gradCheck({ logits }, () => {
    const l = zeros(M); R.crossEntropyForward(l, zeros(M), logits, targets, M, V, ignore);
    return Float64Array.of(l.reduce((a, b) => a + b, 0));
  }, (d) => {
    const ls = zeros(M); R.crossEntropyForward(zeros(M), ls, logits, targets, M, V, ignore);
    const dl = zeros(M * V); R.crossEntropyBackward(dl, logits, ls, targets, d[0], M, V, ignore); return { logits: dl };
  });
  assert.throws(() => R.crossEntropyForward(losses, lse, logits, new Int32Array([9, 0, 0, 0]), M, V, ignore), /target 9/);
});

test('embedding: gradient check with repeated ids (scatter-add)', () => {
  const r = rng(10), M = 5, C = 3, V = 4;
  const table = rand64(V * C, r), ids = new Int32Array([1, 3, 1, 0, 1]);
  gradCheck({ table }, () => { const y = zeros(M * C); R.embeddingForward(y, table, ids, M, C); return y; },
    (dy) => { const dt = zeros(V * C); R.embeddingBackward(dt, dy, ids, M, C); return { table: dt }; });
  assert.throws(() => R.embeddingForward(zeros(C), table, new Int32Array([4]), 1, C), /token id 4/);
});

test('sparse head: max over real tokens, log1p∘relu, d^-1/4 scale, gradient check through the argmax', () => {
  const r = rng(11), B = 2, T = 4, C = 5, V = 7, sc = Math.pow(C, -0.25);
  const mask = new Uint8Array([1, 1, 0, 0, 1, 1, 1, 1]);
  const h = rand64(B * T * C, r, 2), w = rand64(V * C, r);
  // Channel 0 is a constant feature; vocabulary rows 0..2 weigh it strongly negative, so their max is < 0.
  for (let i = 0; i < B * T; i++) h[i * C] = 1;
  for (let v = 0; v < 3; v++) w[v * C] = -8;
  const rep = zeros(B * V), arg = new Int32Array(B * V);
  R.sparseHeadForward(rep, arg, h, w, mask, B, T, C, V, sc);
  let positive = 0;
  for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) {
    let best = -Infinity;
    for (let t = 0; t < T; t++) {
      if (!mask[b * T + t]) continue;
      let d = 0; for (let j = 0; j < C; j++) d += h[(b * T + t) * C + j] * w[v * C + j];
      best = Math.max(best, d * sc);
    }
    assert.ok(Math.abs(rep[b * V + v] - Math.log1p(Math.max(0, best))) < 1e-12);
    assert.ok(mask[b * T + arg[b * V + v]] === 1);
    if (rep[b * V + v] > 0) positive++;
  }
  assert.ok(positive > 2 && positive < B * V, 'test data exercises both sides of the ReLU');
  gradCheck({ h, w }, () => { const y = zeros(B * V); R.sparseHeadForward(y, new Int32Array(B * V), h, w, mask, B, T, C, V, sc); return y; },
    (d) => { const dh = zeros(h.length), dw = zeros(w.length); R.sparseHeadBackward(dh, dw, d, rep, arg, h, w, B, T, C, V, sc); return { h: dh, w: dw }; });
  const none = zeros(B * V), a2 = new Int32Array(B * V);
  R.sparseHeadForward(none, a2, h, w, new Uint8Array(B * T), B, T, C, V, sc);
  assert.ok(none.every((x) => x === 0) && a2.every((x) => x === -1));
});

test('mean pooling of L2-normalised states: value and gradient check', () => {
  const r = rng(12), B = 2, T = 3, C = 4;
  const mask = new Uint8Array([1, 1, 0, 1, 1, 1]);
  const h = rand64(B * T * C, r);
  const out = zeros(B * C), norms = zeros(B * T);
  R.meanPoolForward(out, norms, h, mask, B, T, C);
  for (let j = 0; j < C; j++) {
    const a = h[j] / norms[0], b2 = h[C + j] / norms[1];
    assert.ok(Math.abs(out[j] - (a + b2) / 2) < 1e-12);
  }
  gradCheck({ h }, () => { const y = zeros(B * C); R.meanPoolForward(y, zeros(B * T), h, mask, B, T, C); return y; },
    (d) => { const dh = zeros(h.length); R.meanPoolBackward(dh, d, h, norms, mask, B, T, C); return { h: dh }; });
});

test('adamw: two steps follow torch.optim.AdamW (bias correction, decoupled decay)', () => {
  const p = Float64Array.of(1, -2), g1 = Float64Array.of(0.5, -0.25), g2 = Float64Array.of(-1, 2);
  const m = zeros(2), v = zeros(2);
  const lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  const want = Float64Array.from(p), mm = zeros(2), vv = zeros(2);
  for (const [step, g] of [[1, g1], [2, g2]] as const) {
    R.adamw(p, g, m, v, 2, lr, b1, b2, eps, wd, step);
    for (let i = 0; i < 2; i++) {
      want[i] *= 1 - lr * wd;
      mm[i] = b1 * mm[i] + (1 - b1) * g[i];
      vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
      const mh = mm[i] / (1 - b1 ** step), vh = vv[i] / (1 - b2 ** step);
      want[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
      assert.ok(Math.abs(p[i] - want[i]) < 1e-12, `step ${step} param ${i}: ${p[i]} vs ${want[i]}`);
    }
  }
  // First step moves each parameter by about lr against the gradient's sign.
  assert.ok(Math.abs(want[0] - p[0]) < 1e-12);
});

test('axpy, scale, sumSquares', () => {
  const y = Float64Array.of(1, 2, 3), x = Float64Array.of(1, 1, 2);
  R.axpy(y, x, 2, 3); assert.deepEqual([...y], [3, 4, 7]);
  R.scale(y, 0.5, 3); assert.deepEqual([...y], [1.5, 2, 3.5]);
  assert.equal(R.sumSquares(y, 3), 1.5 * 1.5 + 4 + 3.5 * 3.5);
});
