#!/usr/bin/env node
// Developer tool: CPU time of the heavier native kernels at the reference training shape (issue 3: 128
// documents of 128 tokens, d = 256, 4 heads of 64, vocabulary 32,000), medians of 3 runs after a warm-up.
// CPU time (all threads) rather than wall time, so a busy neighbour does not distort it. Not a benchmark
// against an anchor: bench:gemm and the training-step benchmark are those. Run after `npx tsc`:
//   LION_THREADS=1 node scripts/kernel_timings.mjs
import { loadNative } from '../dist/src/kernels/native.js';

const k = loadNative();
const cpuMs = (f, n = 3) => {
  f();
  const ts = [];
  for (let i = 0; i < n; i++) {
    const a = process.cpuUsage();
    f();
    const d = process.cpuUsage(a);
    ts.push((d.user + d.system) / 1000);
  }
  return ts.sort((a, b) => a - b)[n >> 1];
};
let seed = 1;
const rnd = (n, s = 1) => Float32Array.from({ length: n }, () => (((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5) * s);
const B = 128, T = 128, H = 4, KVH = 4, D = 64, C = 256, V = 32000, F = 688, N = B * T;
const mask = new Uint8Array(N).fill(1);
const row = (name, ms, gflop) => console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms${gflop ? `  ${(gflop / ms * 1e3).toFixed(1).padStart(6)} GFLOP/s` : ''}`);
console.log(`native ${k.cpuLevel}, ${k.threads} thread(s); shape B ${B}, T ${T}, C ${C}, H ${H}, D ${D}, F ${F}, V ${V}`);

const q = rnd(N * H * D), kk = rnd(N * KVH * D), v = rnd(N * KVH * D), out = new Float32Array(q.length), lse = new Float32Array(B * H * T);
const attFlop = 4 * B * H * T * T * D / 1e9;
row('attentionForward', cpuMs(() => k.attentionForward(out, lse, q, kk, v, mask, B, T, H, KVH, D, false, 0.125)), attFlop);
const dq = new Float32Array(q.length), dk = new Float32Array(kk.length), dv = new Float32Array(v.length);
row('attentionBackward', cpuMs(() => k.attentionBackward(dq, dk, dv, out, out, lse, q, kk, v, mask, B, T, H, KVH, D, false, 0.125)), 2.5 * attFlop);

const x = rnd(N * C), w = rnd(F * C), y = new Float32Array(N * F), dx = new Float32Array(N * C), dw = new Float32Array(F * C);
row(`linearForward ${N}x${C}->${F}`, cpuMs(() => k.linearForward(y, x, w, null, N, C, F)), 2 * N * C * F / 1e9);
row('linearBackward (dx and dW)', cpuMs(() => k.linearBackward(dx, dw, null, y, x, w, N, C, F)), 4 * N * C * F / 1e9);
const g = rnd(N * F, 4), u = rnd(N * F), act = new Float32Array(N * F);
row('swigluForward', cpuMs(() => k.swigluForward(act, g, u, N * F)));
const rs = new Float32Array(N), nw = rnd(C), hn = new Float32Array(N * C);
row('rmsnormForward', cpuMs(() => k.rmsnormForward(hn, rs, x, nw, N, C, 1e-5)));

const h = rnd(N * C), wv = rnd(V * C, 0.1), rep = new Float32Array(B * V), am = new Int32Array(B * V);
const sc = Math.pow(C, -0.25);
row('sparseHeadForward', cpuMs(() => k.sparseHeadForward(rep, am, h, wv, mask, B, T, C, V, sc), 1), 2 * N * C * V / 1e9);
const dh = new Float32Array(h.length), dwv = new Float32Array(wv.length), drep = rnd(B * V);
let active = 0;
for (const r of rep) active += r > 0 ? 1 : 0;
row(`sparseHeadBackward (${active} active)`, cpuMs(() => k.sparseHeadBackward(dh, dwv, drep, rep, am, h, wv, B, T, C, V, sc), 1));
