import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { adamwStep, clipGradNorm, initAdamW, type Param } from '../../src/train/optimizer.js';
import { fixtures } from '../helpers.js';

interface Golden {
  weightDecay: number; maxNorm: number; init: Record<string, number[]>;
  steps: Array<{ lr: number; grads: Record<string, number[]>; norm: number; after: Record<string, number[]> }>;
}
const g = JSON.parse(readFileSync(join(fixtures, 'golden-losses', 'adamw.json'), 'utf8')) as Golden;

test('AdamW with gradient clipping follows torch.optim.AdamW step by step', () => {
  const params: Param[] = Object.entries(g.init).map(([name, v]) => ({ name, value: Float32Array.from(v), grad: new Float32Array(v.length) }));
  const state = initAdamW(params);
  for (const s of g.steps) {
    for (const p of params) p.grad.set(s.grads[p.name]!);
    const norm = clipGradNorm(params, g.maxNorm);
    assert.ok(Math.abs(norm - s.norm) <= 1e-5 * s.norm, `norm ${norm} vs ${s.norm}`);
    adamwStep(params, state, s.lr, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: g.weightDecay });
    for (const p of params) {
      const want = s.after[p.name]!;
      for (let k = 0; k < want.length; k++) {
        assert.ok(Math.abs(p.value[k]! - want[k]!) <= 1e-6 + 1e-5 * Math.abs(want[k]!), `${p.name}[${k}] ${p.value[k]} vs ${want[k]}`);
      }
    }
  }
  assert.equal(state.step, 3);
});

test('clipping leaves small gradients alone', () => {
  const p: Param = { name: 'x', value: new Float32Array(2), grad: Float32Array.from([0.3, 0.4]) };
  assert.ok(Math.abs(clipGradNorm([p], 1) - 0.5) < 1e-7);
  assert.deepEqual(Array.from(p.grad), [Math.fround(0.3), Math.fround(0.4)]);
});
