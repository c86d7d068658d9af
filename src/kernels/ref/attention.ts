/**
 * Reference rotary embeddings and scaled dot-product attention with grouped-query heads.
 * Layouts: q/out (B, T, H, D), k/v (B, T, KVH, D), lse (B, H, T), mask (B, T) with 1 = real token.
 * The attention backward recomputes probabilities from lse (flash-attention style), so nothing of size
 * T×T is kept between forward and backward.
 */
import type { Fl } from './matmul.js';
import type { U8 } from '../types.js';

/** In-place rotate-half RoPE on x (B, T, NH, D) with tables cos/sin (P ≥ T, D). */
export function ropeForward(x: Fl, cos: Fl, sin: Fl, B: number, T: number, NH: number, D: number): void {
  const half = D >> 1;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < NH; h++) {
    const o = ((b * T + t) * NH + h) * D;
    const r = t * D;
    for (let i = 0; i < half; i++) {
      const a = x[o + i], c = x[o + i + half];
      x[o + i] = a * cos[r + i] - c * sin[r + i];
      x[o + i + half] = c * cos[r + i + half] + a * sin[r + i + half];
    }
  }
}

/** Transposed rotation of the gradient, in place. */
export function ropeBackward(dx: Fl, cos: Fl, sin: Fl, B: number, T: number, NH: number, D: number): void {
  const half = D >> 1;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < NH; h++) {
    const o = ((b * T + t) * NH + h) * D;
    const r = t * D;
    for (let i = 0; i < half; i++) {
      const ga = dx[o + i], gc = dx[o + i + half];
      dx[o + i] = ga * cos[r + i] + gc * sin[r + i + half];
      dx[o + i + half] = gc * cos[r + i + half] - ga * sin[r + i];
    }
  }
}

function visible(mask: U8 | null, b: number, T: number, t: number, u: number, causal: boolean): boolean {
  return (mask === null || mask[b * T + u] !== 0) && (!causal || u <= t);
}

export function attentionForward(out: Fl, lse: Fl, q: Fl, k: Fl, v: Fl, mask: U8 | null, B: number, T: number,
  H: number, KVH: number, D: number, causal: boolean, scale: number): void {
  const group = H / KVH;
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const qo = ((b * T + t) * H + h) * D;
      let mx = -Infinity;
      for (let u = 0; u < T; u++) {
        if (!visible(mask, b, T, t, u, causal)) { s[u] = -Infinity; continue; }
        const ko = ((b * T + u) * KVH + kh) * D;
        let d = 0;
        for (let i = 0; i < D; i++) d += q[qo + i] * k[ko + i];
        s[u] = d * scale;
        if (s[u] > mx) mx = s[u];
      }
      if (mx === -Infinity) {
        lse[(b * H + h) * T + t] = -Infinity;
        for (let i = 0; i < D; i++) out[qo + i] = 0;
        continue;
      }
      let z = 0;
      for (let u = 0; u < T; u++) z += Math.exp(s[u] - mx);
      const l = mx + Math.log(z);
      lse[(b * H + h) * T + t] = l;
      for (let i = 0; i < D; i++) {
        let acc = 0;
        for (let u = 0; u < T; u++) {
          if (s[u] === -Infinity) continue;
          acc += Math.exp(s[u] - l) * v[((b * T + u) * KVH + kh) * D + i];
        }
        out[qo + i] = acc;
      }
    }
  }
}

export function attentionBackward(dq: Fl, dk: Fl, dv: Fl, dout: Fl, out: Fl, lse: Fl, q: Fl, k: Fl, v: Fl,
  mask: U8 | null, B: number, T: number, H: number, KVH: number, D: number, causal: boolean, scale: number): void {
  const group = H / KVH;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const l = lse[(b * H + h) * T + t];
      if (l === -Infinity) continue;
      const qo = ((b * T + t) * H + h) * D;
      let delta = 0;
      for (let i = 0; i < D; i++) delta += dout[qo + i] * out[qo + i];
      for (let u = 0; u < T; u++) {
        if (!visible(mask, b, T, t, u, causal)) continue;
        const ko = ((b * T + u) * KVH + kh) * D;
        let sc = 0, dp = 0;
        for (let i = 0; i < D; i++) { sc += q[qo + i] * k[ko + i]; dp += dout[qo + i] * v[ko + i]; }
        const p = Math.exp(sc * scale - l);
        const ds = p * (dp - delta) * scale;
        for (let i = 0; i < D; i++) {
          dq[qo + i] += ds * k[ko + i];
          dk[ko + i] += ds * q[qo + i];
          dv[ko + i] += p * dout[qo + i];
        }
      }
    }
  }
}
