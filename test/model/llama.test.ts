/**
 * The trunk against PyTorch: tiny random Llama (tied, Llama-3 rope_scaling) and Qwen2 (biases, sharded)
 * loaded from their Hugging Face directories, bidirectional and causal, with and without the LoRA adapter.
 * Forward (logits, final hidden states, loss) within 1e-5 relative, gradients within 1e-4, and the losses of
 * 10 AdamW steps; on the ref backend and on the native one when it is built. Then the padding side, LoRA
 * merge/unmerge and the inference path.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { peftKey } from '../../src/io/peft.js';
import { ref } from '../../src/kernels/index.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { assertClose, backends, goldenBatch, lmLoss, loadGolden, realRows } from './golden.js';

for (const be of backends()) {
  for (const name of ['llama', 'qwen2'] as const) {
    describe(`${name} on ${be.name}`, { skip: be.skip }, () => {
      const g = loadGolden(name);
      const { batch, labels } = goldenBatch(g);
      const V = 1000, C = 64;
      for (const c of g.cases) {
        const open = (trainable: 'all' | 'lora') => loadModel(g.dir, {
          kernels: be.k!, bidirectional: !c.causal, adapter: c.lora ? join(g.dir, 'adapter') : undefined,
          trainable,
        });
        test(`${c.name}: logits, hidden states, loss and gradients match PyTorch`, () => {
          const model = open(c.lora ? 'lora' : 'all');
          model.zeroGrad();
          const { loss, logits } = lmLoss(model, batch, labels, true);
          const hidden = model.forward(batch, { train: false });
          assertClose(realRows(logits, batch.mask, V), g.tensor(`${c.name}.logits`), 1e-5, 'logits');
          assertClose(realRows(hidden, batch.mask, C), g.tensor(`${c.name}.hidden`), 1e-5, 'hidden');
          assertClose([loss], [c.loss], 1e-5, 'loss');
          const grads = new Map(model.trainableParams().map((p) => [c.lora ? peftKey(p.name, g.lora.adapterKeys) : p.name, p.grad]));
          for (const gname of c.grads) {
            const mine = grads.get(gname);
            assert.ok(mine, `no gradient for ${gname}`);
            assertClose(mine, g.tensor(`${c.name}.grad.${gname}`), 1e-4, `grad ${gname}`);
          }
          if (c.grads.length > 0) assert.equal(grads.size, c.grads.length, 'trainable tensors = golden gradients');
        });
        test(`${c.name}: 10 AdamW steps give PyTorch's losses`, () => {
          const model = open(c.lora ? 'lora' : 'all');
          const o = g.adamw;
          const params = model.trainableParams();
          for (let step = 1; step <= o.steps; step++) {
            model.zeroGrad();
            const { loss } = lmLoss(model, batch, labels, true);
            assertClose([loss], [c.adamwLosses[step - 1]!], 2e-4, `loss before step ${step}`);
            for (const p of params) {
              const { m, v } = model.moments(p.name);
              model.k.adamw(p.value, p.grad, m, v, p.value.length, o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, step);
            }
          }
        });
      }

      test('left padding gives the right-padded outputs and gradients at real tokens', () => {
        const left = goldenBatch(g, 'left');
        for (const causal of [false, true]) {
          const m = loadModel(g.dir, { kernels: be.k!, bidirectional: !causal, adapter: join(g.dir, 'adapter') });
          m.zeroGrad();
          const r = lmLoss(m, batch, labels, true);
          const gr = m.trainableParams().map((p) => Float32Array.from(p.grad));
          m.zeroGrad();
          const l = lmLoss(m, left.batch, left.labels, true);
          assertClose(realRows(l.logits, left.batch.mask, V), realRows(r.logits, batch.mask, V), 1e-5, 'logits');
          assertClose([l.loss], [r.loss], 1e-6, 'loss');
          m.trainableParams().forEach((p, i) => assertClose(p.grad, gr[i]!, 1e-4, `grad ${p.name}`));
        }
      });

      test('merged LoRA gives the adapter path\'s outputs; unmerge restores the base', () => {
        const adapter = join(g.dir, 'adapter');
        const m = loadModel(g.dir, { kernels: be.k!, adapter, trainable: 'none' });
        const base = m.parameters().map((p) => Float32Array.from(p.value));
        const want = realRows(Float32Array.from(m.forward(batch)), batch.mask, C);
        m.mergeLora();
        assert.equal(m.merged, true);
        assertClose(realRows(m.forward(batch), batch.mask, C), want, 1e-5, 'merged hidden');
        assertClose(realRows(m.forward(batch), batch.mask, C), g.tensor('bi_lora.hidden'), 1e-5, 'merged vs golden');
        m.unmergeLora();
        m.parameters().forEach((p, i) => assertClose(p.value, base[i]!, 1e-5, `unmerged ${p.name}`));
        const merged = loadModel(g.dir, { kernels: be.k!, adapter, merge: true });
        assertClose(realRows(merged.forward(batch), batch.mask, C), g.tensor('bi_lora.hidden'), 1e-5, 'loadModel merge');
      });
    });
  }
}

test('activation slots: two batches forward, then both backward, equal one batch at a time', () => {
  const g = loadGolden('qwen2');
  const right = goldenBatch(g), left = goldenBatch(g, 'left');
  const open = () => loadModel(g.dir, { kernels: ref, adapter: join(g.dir, 'adapter') });
  const seq = open();
  seq.zeroGrad();
  lmLoss(seq, right.batch, right.labels, true);
  lmLoss(seq, left.batch, left.labels, true);
  const m = open();
  m.zeroGrad();
  const N = right.batch.B * right.batch.T, C = 64;
  const hq = Float32Array.from(m.forward(right.batch, { train: true, slot: 'q' }));
  const hd = m.forward(left.batch, { train: true, slot: 'd' });
  assertClose(realRows(hd, left.batch.mask, C), realRows(hq, right.batch.mask, C), 1e-5, 'same sequences, other padding');
  // the same loss gradient as lmLoss, per slot, backpropagated in reverse order
  for (const [slot, b, h] of [['d', left, hd], ['q', right, hq]] as const) {
    const logits = new Float32Array(N * 1000), losses = new Float32Array(N), lse = new Float32Array(N);
    m.lmHeadForward(logits, h, N);
    const count = ref.crossEntropyForward(losses, lse, logits, b.labels, N, 1000, -100);
    const dlogits = new Float32Array(N * 1000), dh = new Float32Array(N * C);
    ref.crossEntropyBackward(dlogits, logits, lse, b.labels, 1 / count, N, 1000, -100);
    m.lmHeadBackward(dh, dlogits, h, N);
    m.backward(dh, { slot });
  }
  const want = seq.trainableParams();
  m.trainableParams().forEach((p, i) => assertClose(p.grad, want[i]!.grad, 1e-5, p.name));
  assert.throws(() => m.backward(new Float32Array(N * C), { slot: 'nope' }), /slot "nope"/);
});

test('edge batches: a fully padded row, one-token rows, ids outside the vocabulary, a gap in the mask', () => {
  const g = loadGolden('llama');
  const m = loadModel(g.dir, { kernels: ref, adapter: join(g.dir, 'adapter') });
  const { batch } = goldenBatch(g);
  const want = realRows(Float32Array.from(m.forward(batch)), batch.mask, 64);
  // append a row of padding: the other rows do not change, and backward runs
  const T = batch.T, B = batch.B + 1;
  const ids = new Int32Array(B * T), mask = new Uint8Array(B * T);
  ids.set(batch.ids); mask.set(batch.mask);
  const h = m.forward({ ids, mask, B, T }, { train: true });
  assertClose(realRows(h, mask, 64), want, 1e-6, 'with an empty row');
  m.zeroGrad();
  m.backward(new Float32Array(B * T * 64).fill(1e-3));
  assert.ok(m.trainableParams().every((p) => p.grad.every(Number.isFinite)));
  const one = m.forward({ ids: Int32Array.from([1, 5]), mask: Uint8Array.from([1, 1]), B: 2, T: 1 });
  assert.ok(one.every(Number.isFinite));
  assert.throws(() => m.forward({ ids: Int32Array.from([1, 1000]), mask: Uint8Array.from([1, 1]), B: 1, T: 2 }), /outside the vocabulary/);
  assert.throws(() => m.forward({ ids: Int32Array.from([1, 2, 3]), mask: Uint8Array.from([1, 0, 1]), B: 1, T: 3 }), /contiguous/);
});
