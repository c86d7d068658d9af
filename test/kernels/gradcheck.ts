/**
 * Float64 finite-difference gradient checking for kernel pairs, shared by the kernel tests.
 * The scalar checked is L = Σ r ⊙ forward(inputs) for a fixed random r; the analytic gradient comes from
 * the backward kernel given dout = r, the numeric one from central differences (h = 1e-6) per element.
 */
import assert from 'node:assert/strict';

/** Deterministic uniform [-1, 1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function rand64(n: number, r: () => number, s = 1): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = r() * s;
  return x;
}

export function rand32(n: number, r: () => number, s = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = r() * s;
  return x;
}

/**
 * Checks every element of every named input. `forward` reads the (mutated) inputs and returns a fresh
 * output; `backward(dout)` returns gradients (zero-initialised, accumulated by the kernel) per input name.
 */
export function gradCheck(inputs: Record<string, Float64Array>, forward: () => Float64Array,
  backward: (dout: Float64Array) => Record<string, Float64Array>, opts: { tol?: number; h?: number; seed?: number } = {}): void {
  const tol = opts.tol ?? 1e-6, h = opts.h ?? 1e-6;
  const y0 = forward();
  const r = rand64(y0.length, rng(opts.seed ?? 99));
  const loss = (): number => { const y = forward(); let s = 0; for (let i = 0; i < y.length; i++) s += r[i] * y[i]; return s; };
  const grads = backward(r);
  for (const [name, x] of Object.entries(inputs)) {
    const g = grads[name];
    assert.ok(g, `backward returned no gradient for ${name}`);
    let worst = 0, scale = 1e-3;
    for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(g[i]));
    for (let i = 0; i < x.length; i++) {
      const old = x[i];
      x[i] = old + h; const lp = loss();
      x[i] = old - h; const lm = loss();
      x[i] = old;
      const num = (lp - lm) / (2 * h);
      const err = Math.abs(num - g[i]) / scale;
      if (err > worst) worst = err;
      assert.ok(err <= tol, `${name}[${i}]: numeric ${num} vs analytic ${g[i]} (relative error ${err.toExponential(2)})`);
    }
  }
}
