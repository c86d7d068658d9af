/**
 * Power-law fits for the scaling study: y = a · x^b, fitted by least squares on (ln x, ln y), with 95 %
 * confidence intervals for the exponent from the regression (Student t, n − 2 degrees of freedom) and from a
 * seeded bootstrap over the points, and the regression's confidence band of the fitted mean (drawn on the plots).
 *
 * Invariants: every x and y must be finite and > 0 (a power law cannot pass through 0); at least 2 points with
 * 2 distinct x; with exactly 2 points the fit is exact and the intervals are infinite (no residual degrees
 * of freedom), which the report prints as "n/a".
 */
import { incompleteBeta } from '../eval/significance.js';
import { UsageError } from '../errors.js';
import { Rng } from '../util/rng.js';

export interface PowerLawFit {
  /** Coefficient a of y = a · x^b. */
  a: number;
  /** Exponent b. */
  b: number;
  /** 95 % regression interval of b (±Infinity with 2 points). */
  bLow: number;
  bHigh: number;
  /** 95 % bootstrap (percentile) interval of b over resampled points; NaN when too few points. */
  bootLow: number;
  bootHigh: number;
  /** Coefficient of determination in log space. */
  r2: number;
  n: number;
  /** Sufficient statistics for the band: mean ln x, Σ (ln x − mean)², residual standard deviation, t quantile. */
  meanLx: number;
  sxx: number;
  s: number;
  t: number;
}

/** Student t cumulative distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const p = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - p : p;
}

/** The two-sided quantile: t such that P(|T| ≤ t) = level (e.g. 0.95 → 12.706 for df 1, 1.96 as df → ∞). */
export function studentTQuantile(level: number, df: number): number {
  if (!(df > 0)) return Infinity;
  const target = 0.5 + level / 2;
  let lo = 0, hi = 1;
  while (studentTCdf(hi, df) < target) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < target) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

function ols(lx: readonly number[], ly: readonly number[]): { b: number; c: number; meanLx: number; sxx: number; rss: number; r2: number } {
  const n = lx.length;
  const mx = lx.reduce((s, v) => s + v, 0) / n, my = ly.reduce((s, v) => s + v, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxx += (lx[i]! - mx) ** 2; sxy += (lx[i]! - mx) * (ly[i]! - my); syy += (ly[i]! - my) ** 2; }
  const b = sxy / sxx, c = my - b * mx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (ly[i]! - c - b * lx[i]!) ** 2;
  return { b, c, meanLx: mx, sxx, rss, r2: syy > 0 ? 1 - rss / syy : 1 };
}

/**
 * Fit y = a · x^b with 95 % intervals for b (regression and bootstrap).
 * @example fitPowerLaw([1e4, 1e5, 1e6], [0.1, 0.2, 0.4]).b // ≈ 0.30
 */
export function fitPowerLaw(x: readonly number[], y: readonly number[], o: { level?: number; boot?: number; seed?: number } = {}): PowerLawFit {
  if (x.length !== y.length) throw new UsageError(`power-law fit: ${x.length} x values for ${y.length} y values`);
  for (let i = 0; i < x.length; i++) {
    if (!(x[i]! > 0 && Number.isFinite(x[i]!)) || !(y[i]! > 0 && Number.isFinite(y[i]!))) {
      throw new UsageError(`power-law fit: point ${i} (${x[i]}, ${y[i]}) is not positive and finite`);
    }
  }
  const lx = x.map(Math.log), ly = y.map(Math.log);
  if (new Set(lx).size < 2) throw new UsageError('power-law fit needs at least 2 distinct x values');
  const level = o.level ?? 0.95, n = x.length;
  const f = ols(lx, ly);
  const df = n - 2;
  const s = df > 0 ? Math.sqrt(f.rss / df) : NaN;
  const t = df > 0 ? studentTQuantile(level, df) : Infinity;
  const se = df > 0 ? s / Math.sqrt(f.sxx) : Infinity;
  const half = df > 0 ? t * se : Infinity;
  // Bootstrap over points: resample n pairs with replacement; resamples with one distinct x are skipped.
  let bootLow = NaN, bootHigh = NaN;
  if (n >= 4) {
    const rng = new Rng(o.seed ?? 7);
    const bs: number[] = [];
    const trials = o.boot ?? 2000;
    for (let k = 0; k < trials; k++) {
      const ix = Array.from({ length: n }, () => rng.int(n));
      const bx = ix.map((i) => lx[i]!);
      if (new Set(bx).size < 2) continue;
      bs.push(ols(bx, ix.map((i) => ly[i]!)).b);
    }
    bs.sort((p, q) => p - q);
    const q = (p: number) => bs[Math.min(bs.length - 1, Math.max(0, Math.floor(p * (bs.length - 1))))]!;
    bootLow = q((1 - level) / 2);
    bootHigh = q(1 - (1 - level) / 2);
  }
  return { a: Math.exp(f.c), b: f.b, bLow: f.b - half, bHigh: f.b + half, bootLow, bootHigh, r2: f.r2, n, meanLx: f.meanLx, sxx: f.sxx, s, t };
}

/** The fitted mean and its 95 % confidence band at x (band is [NaN, NaN] with 2 points). */
export function powerLawBand(f: PowerLawFit, x: number): { y: number; low: number; high: number } {
  const lx = Math.log(x);
  const mean = Math.log(f.a) + f.b * lx;
  if (!(f.n > 2)) return { y: Math.exp(mean), low: NaN, high: NaN };
  const half = f.t * f.s * Math.sqrt(1 / f.n + (lx - f.meanLx) ** 2 / f.sxx);
  return { y: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}

/** "0.21 [0.05, 0.37]" (regression interval) for tables. */
export function formatExponent(f: PowerLawFit): string {
  const ci = Number.isFinite(f.bLow) ? `[${f.bLow.toFixed(3)}, ${f.bHigh.toFixed(3)}]` : 'n/a';
  return `${f.b.toFixed(3)} ${ci}`;
}
