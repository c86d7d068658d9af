/**
 * Paired significance tests for the evaluation view's comparison of two runs over the same queries:
 * the two-sided paired t-test (Student's t distribution through the regularised incomplete beta function,
 * Numerical Recipes §6.4 continued fraction) and the two-sided paired randomisation (sign-flip) test of
 * Smucker, Allan & Carterette (CIKM 2007), seeded so the same inputs always print the same p-value.
 *
 * Inputs are per-query differences d_i = b_i − a_i. Both tests ask whether mean(d) differs from 0.
 */
import { Rng } from '../util/rng.js';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; |error| < 1e-13 over the range used here). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const bt = Math.exp(lbt);
  return x < (a + 1) / (a + b + 2) ? (bt * betacf(a, b, x)) / a : 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with `df` degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface TTestResult {
  n: number;
  meanDiff: number;
  t: number;
  df: number;
  p: number;
}

/** Paired two-sided t-test on differences. With zero variance, t is ±Infinity (p = 0) or 0/0 → p = 1. */
export function pairedTTest(diffs: ArrayLike<number>): TTestResult {
  const n = diffs.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += diffs[i]!;
  const mean = n ? sum / n : 0;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (diffs[i]! - mean) ** 2;
  const df = n - 1;
  if (n < 2) return { n, meanDiff: mean, t: 0, df: Math.max(df, 0), p: 1 };
  const se = Math.sqrt(ss / df / n);
  if (se === 0) return { n, meanDiff: mean, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, df, p: mean === 0 ? 1 : 0 };
  const t = mean / se;
  return { n, meanDiff: mean, t, df, p: studentTwoSidedP(t, df) };
}

export interface RandomisationResult {
  n: number;
  meanDiff: number;
  trials: number;
  seed: number;
  p: number;
}

/**
 * Paired randomisation test: flip the sign of each difference with probability 1/2, `trials` times, and
 * count permuted |mean| ≥ observed |mean| (with a 1e-12 slack for float ties). p = (count + 1) / (trials + 1).
 */
export function pairedRandomisationTest(diffs: ArrayLike<number>, trials = 10_000, seed = 42): RandomisationResult {
  const n = diffs.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += diffs[i]!;
  const observed = Math.abs(sum);
  const rng = new Rng(seed);
  let hits = 0;
  for (let t = 0; t < trials; t++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 31) === 0) bits = rng.u32(); // one random bit per sign flip
      s += (bits >>> (i & 31)) & 1 ? -diffs[i]! : diffs[i]!;
    }
    if (Math.abs(s) >= observed - 1e-12) hits++;
  }
  return { n, meanDiff: n ? sum / n : 0, trials, seed, p: (hits + 1) / (trials + 1) };
}
