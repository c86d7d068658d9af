/**
 * LoRA beyond the goldens (which use dropout 0): dropout's backward against central differences with the
 * same masks, dropout off outside training, peft's initialisation (B = 0 leaves the base model unchanged),
 * and LoRA-only training leaving every base weight untouched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ref } from '../../src/kernels/index.js';
import { LlamaModel } from '../../src/model/llama.js';
import { applyMask, fillDropoutMask } from '../../src/model/lora.js';
import { LORA_TARGETS } from '../../src/io/lora-config.js';
import { Rng } from '../../src/util/rng.js';
import { loadModelConfig } from '../../src/model/registry.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { join } from 'node:path';
import { assertClose, goldenBatch, lmLoss, loadGolden, realRows } from './golden.js';

const g = loadGolden('llama');
const { batch, labels } = goldenBatch(g);
const lora = { r: 4, alpha: 8, dropout: 0.3, targets: [...LORA_TARGETS] };

function withDropout(): LlamaModel {
  const m = loadModel(g.dir, { kernels: ref, adapter: join(g.dir, 'adapter') });
  const d = new LlamaModel(m.config, { kernels: ref, lora, seed: 3 });
  for (const p of m.parameters()) d.param(p.name).set(p.value);
  return d;
}

test('dropout: gradients of the A and B matrices match central differences under fixed masks', () => {
  const m = withDropout();
  const loss = () => { m.reseedDropout(11); return lmLoss(m, batch, labels, false, true).loss; };
  m.zeroGrad();
  m.reseedDropout(11);
  lmLoss(m, batch, labels, true);
  const checks = [['model.layers.0.self_attn.q_proj.lora_A.weight', 5], ['model.layers.1.mlp.down_proj.lora_B.weight', 17],
    ['model.layers.0.mlp.up_proj.lora_A.weight', 100], ['model.layers.1.self_attn.v_proj.lora_B.weight', 3]] as const;
  for (const [name, i] of checks) {
    const p = m.param(name);
    const grad = m.trainableParams().find((q) => q.name === name)!.grad[i]!;
    const h = 1e-2, x = p[i]!;
    p[i] = x + h; const up = loss();
    p[i] = x - h; const down = loss();
    p[i] = x;
    const fd = (up - down) / (2 * h);
    assert.ok(Math.abs(fd - grad) <= 2e-3 + 2e-2 * Math.abs(fd), `${name}[${i}]: backward ${grad}, finite difference ${fd}`);
  }
  // a different seed draws different masks, so the loss changes
  const a = loss();
  m.reseedDropout(12);
  assert.notEqual(lmLoss(m, batch, labels, false, true).loss, a);
});

test('dropout is off outside training: inference equals the golden adapter output', () => {
  const m = withDropout();
  assertClose(realRows(m.forward(batch, { train: false }), batch.mask, 64), g.tensor('bi_lora.hidden'), 1e-5, 'hidden');
});

test('a fresh adapter starts as the base model (B = 0) and LoRA training moves only A and B', () => {
  const cfg = loadModelConfig(g.dir);
  const base = loadModel(g.dir, { kernels: ref });
  const m = new LlamaModel(cfg, { kernels: ref, lora: { ...lora, dropout: 0 }, seed: 5 });
  for (const p of base.parameters()) m.param(p.name).set(p.value);
  assertClose(realRows(m.forward(batch, { train: false }), batch.mask, 64), g.tensor('bi.hidden'), 1e-5, 'fresh adapter = base');
  const a = m.param('model.layers.0.self_attn.q_proj.lora_A.weight');
  const bound = 1 / Math.sqrt(64);
  assert.ok(a.every((x) => Math.abs(x) <= bound) && a.some((x) => x !== 0), 'A ~ U(-1/sqrt(in), 1/sqrt(in))');
  const before = m.parameters().filter((p) => !p.name.includes('lora_')).map((p) => Float32Array.from(p.value));
  for (let step = 1; step <= 3; step++) {
    m.zeroGrad();
    lmLoss(m, batch, labels, true);
    for (const p of m.trainableParams()) {
      const { m: mm, v } = m.moments(p.name);
      ref.adamw(p.value, p.grad, mm, v, p.value.length, 1e-2, 0.9, 0.999, 1e-8, 0, step);
    }
  }
  assert.ok(m.trainableParams().every((p) => p.name.includes('.lora_')));
  m.parameters().filter((p) => !p.name.includes('lora_')).forEach((p, i) => assert.deepEqual(p.value, before[i], p.name));
  assert.ok(m.param('model.layers.1.mlp.down_proj.lora_B.weight').some((x) => x !== 0), 'B moved');
});

test('dropout masks drop a fraction p and scale the kept inputs by 1/(1-p)', () => {
  const mask = new Uint8Array(200_000);
  fillDropoutMask(mask, 0.05, new Rng(9));
  const dropped = mask.reduce((a, x) => a + (x ? 0 : 1), 0) / mask.length;
  assert.ok(Math.abs(dropped - 0.05) < 0.003, `dropped ${dropped}`);
  const again = new Uint8Array(mask.length);
  fillDropoutMask(again, 0.05, new Rng(9));
  assert.deepEqual(again, mask, 'a function of the generator state');
  const out = new Float32Array(4);
  applyMask(out, Float32Array.from([1, 2, 3, 4]), Uint8Array.from([1, 0, 1, 0]), 2, 4);
  assert.deepEqual([...out], [2, 0, 6, 0]);
});
