import { strict as assert } from 'node:assert';
import test from 'node:test';
import { flopsRampSteps, flopsWeight, lrAt, warmupSteps } from '../../src/train/schedule.js';

test('linear warm-up over ceil(4%) of the steps, then linear decay to zero', () => {
  // 1B sparse CL: 33,250 steps, 1,330 warm-up steps (spec §4.2).
  assert.equal(warmupSteps(33250, 0.04), 1330);
  assert.equal(lrAt(0, 100, 1e-4, 0.04), 0);
  assert.equal(lrAt(2, 100, 1e-4, 0.04), 0.5e-4);
  assert.equal(lrAt(4, 100, 1e-4, 0.04), 1e-4);
  assert.ok(Math.abs(lrAt(52, 100, 1e-4, 0.04) - 0.5e-4) < 1e-18);
  assert.equal(lrAt(100, 100, 1e-4, 0.04), 0);
  assert.equal(lrAt(5, 10, 1e-3, 0), 0.5e-3);
});

test('FLOPS weight ramps quadratically over the first third of optimiser steps', () => {
  assert.equal(flopsRampSteps(33250), 11083);
  assert.equal(flopsWeight(0.05, 0, 30), 0);
  assert.ok(Math.abs(flopsWeight(0.05, 15, 30) - 0.0125) < 1e-15);
  assert.equal(flopsWeight(0.04, 30, 30), 0.04);
  assert.equal(flopsWeight(0.04, 1000, 30), 0.04);
  assert.equal(flopsWeight(0.04, 1, 0), 0.04);
});
