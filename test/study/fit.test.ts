/**
 * Power-law fits of the CPU study (src/study/fit.ts): exact recovery of known exponents, Student t quantiles
 * against tabulated values, interval coverage on noisy data with a known exponent, the band, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitPowerLaw, powerLawBand, studentTQuantile } from '../../src/study/fit.js';
import { UsageError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';

test('noise-free power laws are recovered exactly, with intervals collapsing onto the exponent', () => {
  for (const [a, b] of [[0.02, 0.25], [3, -0.076], [1e-3, 0.5]] as const) {
    const x = [1e4, 3e4, 1e5, 3e5, 1e6];
    const f = fitPowerLaw(x, x.map((v) => a * v ** b));
    assert.ok(Math.abs(f.b - b) < 1e-9, `${f.b} vs ${b}`);
    assert.ok(Math.abs(f.a / a - 1) < 1e-8);
    assert.ok(f.bHigh - f.bLow < 1e-6);
    assert.ok(Math.abs(f.r2 - 1) < 1e-12);
  }
});

test('Student t quantiles match the tables', () => {
  for (const [df, t] of [[1, 12.7062], [2, 4.3027], [3, 3.1824], [4, 2.7764], [10, 2.2281], [30, 2.0423], [1000, 1.9623]] as const) {
    assert.ok(Math.abs(studentTQuantile(0.95, df) - t) < 2e-4, `df ${df}: ${studentTQuantile(0.95, df)}`);
  }
  assert.ok(Math.abs(studentTQuantile(0.9, 5) - 2.015) < 1e-3);
});

test('95 % regression intervals cover a known exponent about 95 % of the time; bootstrap intervals exist', () => {
  const rng = new Rng(3);
  const x = [1e4, 3e4, 1e5, 3e5, 1e6, 3e6];
  let covered = 0;
  const trials = 400;
  for (let k = 0; k < trials; k++) {
    const y = x.map((v) => 0.05 * v ** 0.2 * Math.exp(0.1 * rng.normal()));
    const f = fitPowerLaw(x, y, { boot: 200, seed: k });
    if (f.bLow <= 0.2 && 0.2 <= f.bHigh) covered++;
    assert.ok(f.bootLow <= f.b + 1e-12 && f.b - 1e-12 <= f.bootHigh);
  }
  assert.ok(covered / trials > 0.9 && covered / trials < 0.99, `coverage ${covered / trials}`);
});

test('the band contains the fit and widens away from the data centre; two points give no interval', () => {
  const x = [1, 10, 100, 1000], y = [1, 2.1, 3.9, 8.2];
  const f = fitPowerLaw(x, y);
  const mid = powerLawBand(f, 31.6), end = powerLawBand(f, 1000);
  assert.ok(mid.low < mid.y && mid.y < mid.high);
  assert.ok(end.high / end.low > mid.high / mid.low);
  const two = fitPowerLaw([1, 10], [1, 2]);
  assert.ok(Math.abs(two.b - Math.log10(2)) < 1e-12);
  assert.equal(two.bLow, -Infinity);
  assert.ok(Number.isNaN(powerLawBand(two, 3).low));
});

test('non-positive values and a single distinct x are refused', () => {
  assert.throws(() => fitPowerLaw([1, 2, 3], [0.1, 0, 0.3]), UsageError);
  assert.throws(() => fitPowerLaw([5, 5, 5], [1, 2, 3]), UsageError);
  assert.throws(() => fitPowerLaw([1, 2], [1]), UsageError);
});
