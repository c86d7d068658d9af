import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incompleteBeta, pairedRandomisationTest, pairedTTest, studentTwoSidedP } from '../../src/eval/significance.js';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test('incomplete beta: symmetric point and closed forms', () => {
  close(incompleteBeta(0.5, 3, 3), 0.5, 1e-12);
  close(incompleteBeta(0.3, 1, 1), 0.3, 1e-12); // uniform
  close(incompleteBeta(0.3, 2, 1), 0.09, 1e-12); // x^a for b = 1
  assert.equal(incompleteBeta(0, 2, 3), 0);
  assert.equal(incompleteBeta(1, 2, 3), 1);
});

test("Student's t two-sided p matches the closed forms for df = 1 and df = 2", () => {
  for (const t of [0.1, 0.7, 1.5, 3, 12.7]) {
    close(studentTwoSidedP(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-10, `df1 t=${t}`);
    close(studentTwoSidedP(t, 2), 1 - t / Math.sqrt(2 + t * t), 1e-10, `df2 t=${t}`);
  }
  close(studentTwoSidedP(1.959964, 1e6), 0.05, 1e-4, 'normal limit');
});

test('paired t-test on a worked example', () => {
  // d = 1..5: mean 3, sd sqrt(2.5), se = sqrt(0.5), t = 3 / sqrt(0.5) = 4.242640687
  const r = pairedTTest([1, 2, 3, 4, 5]);
  close(r.t, 4.242640687, 1e-8);
  assert.equal(r.df, 4);
  close(r.meanDiff, 3, 1e-15);
  close(r.p, 0.013236, 1e-5); // scipy.stats.ttest_1samp([1,2,3,4,5], 0).pvalue = 0.01323...
  assert.equal(pairedTTest([0, 0, 0]).p, 1);
  assert.equal(pairedTTest([0.2, 0.2]).p, 0);
  assert.equal(pairedTTest([0.5]).p, 1);
});

test('randomisation test: near the exact permutation p, seeded and reproducible', () => {
  // Exact: of the 2^3 sign patterns of (1, 2, 3), only the all-plus and all-minus reach |sum| = 6: p = 0.25.
  const r = pairedRandomisationTest([1, 2, 3], 20_000, 7);
  close(r.p, 0.25, 0.015);
  assert.deepEqual(pairedRandomisationTest([1, 2, 3], 20_000, 7), r);
  assert.notEqual(pairedRandomisationTest([1, 2, 3], 20_000, 8).p, r.p);
  assert.equal(pairedRandomisationTest([0, 0, 0, 0], 1000).p, 1);
  // A large consistent gain is significant; p cannot go below 1 / (trials + 1).
  const big = pairedRandomisationTest(Array.from({ length: 40 }, (_, i) => 0.1 + (i % 3) * 0.01), 5000, 1);
  close(big.p, 1 / 5001, 1e-12);
});
