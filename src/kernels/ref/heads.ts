/**
 * Reference encoder heads (spec §2.4, §2.5): the sparse SPLADE-max head on the LM head weights and the
 * dense masked mean of L2-normalised token states. Layouts: h (B, T, C), w (V, C), mask (B, T),
 * rep/argmax (B, V), out (B, C), norms (B, T).
 */
import type { Fl, I32 } from './matmul.js';
import type { U8 } from '../types.js';

/** rep[b,v] = log1p(relu(scale · max_{real t} h[b,t]·w[v])); argmax[b,v] = that t (−1: no real token). */
export function sparseHeadForward(rep: Fl, argmax: I32, h: Fl, w: Fl, mask: U8 | null, B: number, T: number,
  C: number, V: number, scale: number): void {
  for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) {
    let best = -Infinity, at = -1;
    for (let t = 0; t < T; t++) {
      if (mask !== null && mask[b * T + t] === 0) continue;
      let d = 0;
      for (let j = 0; j < C; j++) d += h[(b * T + t) * C + j] * w[v * C + j];
      d *= scale;
      if (d > best) { best = d; at = t; }
    }
    argmax[b * V + v] = at;
    rep[b * V + v] = at < 0 ? 0 : Math.log1p(Math.max(0, best));
  }
}

/** Backward through the argmax positions: g = drep·scale/(1+max) = drep·scale·exp(−rep) where rep > 0. */
export function sparseHeadBackward(dh: Fl, dw: Fl | null, drep: Fl, rep: Fl, argmax: I32, h: Fl, w: Fl,
  B: number, T: number, C: number, V: number, scale: number): void {
  for (let b = 0; b < B; b++) for (let v = 0; v < V; v++) {
    const r = rep[b * V + v], t = argmax[b * V + v];
    if (!(r > 0) || t < 0) continue;
    const g = drep[b * V + v] * scale * Math.exp(-r);
    const ho = (b * T + t) * C, wo = v * C;
    for (let j = 0; j < C; j++) dh[ho + j] += g * w[wo + j];
    if (dw) for (let j = 0; j < C; j++) dw[wo + j] += g * h[ho + j];
  }
}

const NORM_EPS = 1e-12; // torch.nn.functional.normalize default

/** out[b] = mean over real t of h[b,t] / max(‖h[b,t]‖, 1e-12); norms[b,t] = ‖h[b,t]‖. */
export function meanPoolForward(out: Fl, norms: Fl, h: Fl, mask: U8 | null, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    let cnt = 0;
    const acc = new Float64Array(C);
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      let ss = 0;
      for (let j = 0; j < C; j++) ss += h[o + j] * h[o + j];
      const n = Math.sqrt(ss);
      norms[b * T + t] = n;
      if (mask !== null && mask[b * T + t] === 0) continue;
      cnt++;
      const inv = 1 / Math.max(n, NORM_EPS);
      for (let j = 0; j < C; j++) acc[j] += h[o + j] * inv;
    }
    for (let j = 0; j < C; j++) out[b * C + j] = cnt > 0 ? acc[j] / cnt : 0;
  }
}

/** dh[b,t] += (g/n − h·(h·g)/n³) for n > eps, g/eps otherwise, with g = dout[b]/count. */
export function meanPoolBackward(dh: Fl, dout: Fl, h: Fl, norms: Fl, mask: U8 | null, B: number, T: number,
  C: number): void {
  for (let b = 0; b < B; b++) {
    let cnt = 0;
    for (let t = 0; t < T; t++) if (mask === null || mask[b * T + t] !== 0) cnt++;
    if (cnt === 0) continue;
    for (let t = 0; t < T; t++) {
      if (mask !== null && mask[b * T + t] === 0) continue;
      const o = (b * T + t) * C, n = norms[b * T + t];
      if (n > NORM_EPS) {
        let hg = 0;
        for (let j = 0; j < C; j++) hg += h[o + j] * dout[b * C + j];
        const k = hg / (n * n * n);
        for (let j = 0; j < C; j++) dh[o + j] += (dout[b * C + j] / n - h[o + j] * k) / cnt;
      } else {
        for (let j = 0; j < C; j++) dh[o + j] += dout[b * C + j] / NORM_EPS / cnt;
      }
    }
  }
}
