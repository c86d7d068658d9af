/**
 * Lion's reduced precision against PyTorch's (scripts/make_golden.py → golden-bf16.safetensors, cases-bf16.json)
 * on the tiny Llama (tied, llama3 rope scaling) and Qwen2 (biases, sharded) fixtures, bidirectional:
 *
 *  - `precision: 'bf16'` (fp32 master weights, bf16 matmuls) against torch.autocast('cpu', bfloat16):
 *    final hidden states, logits, sparse and dense reps, the loss, and the gradient of every parameter (full
 *    fine-tuning);
 *  - bf16 weights with bf16 precision and a LoRA adapter on the frozen base against autocast: hidden states,
 *    loss and the adapter's gradients (the paper's setting);
 *  - bf16 weights for inference (`dtype: 'bf16'`) against the checkpoint run as bf16 (model.to(bfloat16)):
 *    hidden states, logits, sparse and dense reps;
 *  - int8 weights for inference against the exact answer (PyTorch has no matching int8 path to compare with).
 *
 * Each tensor is measured by its relative Frobenius error (and row / tensor cosines) against PyTorch's bf16 result
 * and against the float64 answer, with PyTorch's own bf16 error as the scale (TOL below): Lion must be within
 * 1.5× that error (+2e-3) of PyTorch, no less accurate than PyTorch against float64 (≤ 1.25× its error + 1e-3,
 * capped at 2e-2 forward and 8e-2 for gradients), and not suspiciously exact (≥ 0.2× its error: the bf16 path
 * really ran); forward rows keep a cosine ≥ 0.9995 and gradient tensors ≥ 0.997. int8: ≤ 5e-2 relative error
 * and row cosine ≥ 0.998 against float64. LION_GOLDEN_REPORT=1 prints every figure. The fp32 goldens keep their
 * 1e-5 tolerance in llama.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { denseForward } from '../../src/encoders/dense.js';
import { sparseForward } from '../../src/encoders/sparse.js';
import { peftKey } from '../../src/io/peft.js';
import { openCheckpoint, readTensor } from '../../src/io/safetensors.js';
import { loadModel, type LoadOptions } from '../../src/model/checkpoint.js';
import type { LlamaModel } from '../../src/model/llama.js';
import { backends, goldenBatch, lmLoss, loadGolden, realRows } from './golden.js';

interface Bf16Case { name: string; mode: string; causal: boolean; lora: boolean; loss: number; exactLoss?: number; grads: string[] }
interface Bf16Golden { cases: Bf16Case[]; torchErrorVsExact: Record<string, { relFrobenius: number; minRowCosine: number }> }

/**
 * Tolerances (see the file comment). PyTorch's own bf16 error against float64 (`torchErr`, from cases-bf16.json)
 * sets the scale: on these fixtures it is 0.6–2.2e-2 forward and 1.4–8.6e-2 for gradients; Lion's measured error
 * is 0.3–0.95× of it (docs/kernels.md, "Measured").
 */
const TOL = {
  vsTorchFactor: 1.5, vsTorchSlack: 2e-3, // |Lion − PyTorch bf16| ≤ 1.5·torchErr + 2e-3
  vsExactFactor: 1.25, vsExactSlack: 1e-3, // |Lion − float64| ≤ 1.25·torchErr + 1e-3: no less accurate than autocast
  forwardCap: 2e-2, gradCap: 8e-2, // and never above these
  ranBf16: 0.2, // |Lion − float64| ≥ 0.2·torchErr: the bf16 path ran (fp32 would be ~1e-6 away)
  forwardRowCosine: 0.9995, gradCosine: 0.997, // every forward row / each whole gradient tensor, against float64
  loss: 5e-3,
  int8Forward: 5e-2, int8RowCosine: 0.998, // int8 against float64 (measured ≤ 3.3e-2, ≥ 0.9990)
};

/** Relative Frobenius error and smallest row cosine of `a` against `b`, rows of `cols`. */
function errors(a: ArrayLike<number>, b: ArrayLike<number>, cols: number): { rel: number; cos: number } {
  assert.equal(a.length, b.length, 'length');
  let d = 0, n = 0, worst = 1;
  for (let r = 0; r < b.length / cols; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let c = r * cols; c < (r + 1) * cols; c++) {
      const x = a[c]!, y = b[c]!;
      d += (x - y) ** 2; n += y * y; ab += x * y; aa += x * x; bb += y * y;
    }
    if (bb > 0) worst = Math.min(worst, aa > 0 ? ab / Math.sqrt(aa * bb) : 0);
  }
  return { rel: Math.sqrt(d / Math.max(n, 1e-300)), cos: worst };
}

for (const be of backends()) {
  for (const name of ['llama', 'qwen2'] as const) {
    describe(`${name} bf16 on ${be.name}`, { skip: be.skip }, () => {
      const g = loadGolden(name);
      const b16 = JSON.parse(readFileSync(join(g.dir, 'cases-bf16.json'), 'utf8')) as Bf16Golden;
      const ck = openCheckpoint(join(g.dir, 'golden-bf16.safetensors'));
      const gold = (key: string): Float32Array => { const i = ck.tensors.get(key); assert.ok(i, `golden ${key} missing`); return readTensor(i); };
      const { batch, labels } = goldenBatch(g);
      const V = 1000, C = 64;
      const open = (o: Partial<LoadOptions> & { dtype?: string; precision?: string }): LlamaModel =>
        loadModel(g.dir, { kernels: be.k!, bidirectional: true, ...o } as LoadOptions);

      /** Checks `mine` against PyTorch's reduced-precision `key` and against the float64 `exact` (see TOL). */
      const check = (mine: ArrayLike<number>, key: string, exact: ArrayLike<number>, cols: number, kind: 'forward' | 'grad'): void => {
        const t = errors(mine, gold(key), cols);
        const e = errors(mine, exact, cols);
        const whole = errors(mine, exact, mine.length).cos;
        const torchErr = b16.torchErrorVsExact[key]!.relFrobenius;
        const vsTorch = TOL.vsTorchFactor * torchErr + TOL.vsTorchSlack;
        const vsExact = Math.min(TOL.vsExactFactor * torchErr + TOL.vsExactSlack, kind === 'forward' ? TOL.forwardCap : TOL.gradCap);
        if (process.env.LION_GOLDEN_REPORT) {
          console.log(`${be.name} ${key}: vs torch ${t.rel.toExponential(2)}; vs float64 ${e.rel.toExponential(2)} (torch ${torchErr.toExponential(2)}), ` +
            `min row cosine ${e.cos.toFixed(6)} (torch ${b16.torchErrorVsExact[key]!.minRowCosine.toFixed(6)}), tensor cosine ${whole.toFixed(6)}`);
        }
        assert.ok(t.rel <= vsTorch, `${key}: relative error ${t.rel.toExponential(2)} against PyTorch bf16 > ${vsTorch.toExponential(2)}`);
        assert.ok(e.rel <= vsExact, `${key}: relative error ${e.rel.toExponential(2)} against float64 > ${vsExact.toExponential(2)} (PyTorch's own: ${torchErr.toExponential(2)})`);
        assert.ok(e.rel >= TOL.ranBf16 * torchErr, `${key}: relative error ${e.rel.toExponential(2)} against float64 is below ${TOL.ranBf16}× PyTorch's: the bf16 path did not run`);
        if (kind === 'forward') assert.ok(e.cos >= TOL.forwardRowCosine, `${key}: smallest row cosine ${e.cos.toFixed(6)} against float64 < ${TOL.forwardRowCosine}`);
        else assert.ok(whole >= TOL.gradCosine, `${key}: cosine ${whole.toFixed(6)} against float64 < ${TOL.gradCosine}`);
      };

      test('precision bf16 (fp32 weights): forward, reps, loss and full gradients match PyTorch autocast', () => {
        const c = b16.cases.find((x) => x.name === 'autocast.bi')!;
        const m = open({ trainable: 'all', precision: 'bf16' });
        assert.equal((m as unknown as { precision: string }).precision, 'bf16');
        m.zeroGrad();
        const { loss, logits } = lmLoss(m, batch, labels, true);
        const grads = new Map(m.trainableParams().map((p) => [p.name, Float32Array.from(p.grad)]));
        const hidden = realRows(Float32Array.from(m.forward(batch, { train: false })), batch.mask, C);
        check(hidden, 'autocast.bi.hidden', g.tensor('bi.hidden'), C, 'forward');
        check(realRows(logits, batch.mask, V), 'autocast.bi.logits', g.tensor('bi.logits'), V, 'forward');
        check(sparseForward(m, batch).rep, 'autocast.bi.sparse', gold('bi.sparse'), V, 'forward');
        check(denseForward(m, batch).rep, 'autocast.bi.dense', gold('bi.dense'), C, 'forward');
        assert.ok(Math.abs(loss - c.loss) <= TOL.loss * c.loss, `loss ${loss} vs autocast ${c.loss}`);
        assert.ok(Math.abs(loss - c.exactLoss!) <= TOL.loss * c.exactLoss!, `loss ${loss} vs exact ${c.exactLoss}`);
        assert.equal(grads.size, c.grads.length, 'trainable tensors = golden gradients');
        for (const k of c.grads) {
          const mine = grads.get(k);
          assert.ok(mine, `no gradient for ${k}`);
          const shape = m.paramShape(k);
          const cols = shape[shape.length - 1]!;
          check(mine, `autocast.bi.grad.${k}`, g.tensor(`bi.grad.${k}`), cols, 'grad');
        }
      });

      test('bf16 weights + precision bf16 + LoRA on the frozen base: hidden, loss and adapter gradients match autocast', () => {
        const c = b16.cases.find((x) => x.name === 'autocast.bi_lora')!;
        const m = open({ adapter: join(g.dir, 'adapter'), trainable: 'lora', dtype: 'bf16', precision: 'bf16' });
        assert.equal((m as unknown as { dtype: string }).dtype, 'bf16');
        m.zeroGrad();
        const { loss } = lmLoss(m, batch, labels, true);
        const grads = new Map(m.trainableParams().map((p) => [peftKey(p.name, g.lora.adapterKeys), Float32Array.from(p.grad)]));
        const hidden = realRows(Float32Array.from(m.forward(batch, { train: false })), batch.mask, C);
        check(hidden, 'autocast.bi_lora.hidden', g.tensor('bi_lora.hidden'), C, 'forward');
        assert.ok(Math.abs(loss - c.loss) <= TOL.loss * c.loss, `loss ${loss} vs autocast ${c.loss}`);
        assert.ok(Math.abs(loss - c.exactLoss!) <= TOL.loss * c.exactLoss!, `loss ${loss} vs exact ${c.exactLoss}`);
        for (const k of c.grads) {
          const mine = grads.get(k);
          assert.ok(mine, `no gradient for ${k}`);
          const r = g.lora.r;
          check(mine, `autocast.bi_lora.grad.${k}`, g.tensor(`bi_lora.grad.${k}`), k.includes('lora_A') ? mine.length / r : r, 'grad');
        }
      });

      test('bf16 weights (inference): hidden, logits and reps match the checkpoint run in bf16', () => {
        const m = open({ trainable: 'none', dtype: 'bf16' });
        assert.equal((m as unknown as { dtype: string }).dtype, 'bf16');
        const hidden = realRows(Float32Array.from(m.forward(batch, { train: false })), batch.mask, C);
        const logits = new Float32Array(batch.B * batch.T * V);
        m.lmHeadForward(logits, Float32Array.from(m.forward(batch, { train: false })), batch.B * batch.T);
        check(hidden, 'bf16w.bi.hidden', g.tensor('bi.hidden'), C, 'forward');
        check(realRows(logits, batch.mask, V), 'bf16w.bi.logits', g.tensor('bi.logits'), V, 'forward');
        check(sparseForward(m, batch).rep, 'bf16w.bi.sparse', gold('bi.sparse'), V, 'forward');
        check(denseForward(m, batch).rep, 'bf16w.bi.dense', gold('bi.dense'), C, 'forward');
      });

      test('int8 weights (inference): hidden states and reps within the stated int8 tolerance of the exact answer', () => {
        const m = open({ trainable: 'none', dtype: 'int8' });
        assert.equal((m as unknown as { dtype: string }).dtype, 'int8');
        const hidden = realRows(Float32Array.from(m.forward(batch, { train: false })), batch.mask, C);
        for (const [mine, want, cols, what] of [
          [hidden, g.tensor('bi.hidden'), C, 'hidden'], [sparseForward(m, batch).rep, gold('bi.sparse'), V, 'sparse'],
          [denseForward(m, batch).rep, gold('bi.dense'), C, 'dense'],
        ] as const) {
          const e = errors(mine, want, cols);
          if (process.env.LION_GOLDEN_REPORT) console.log(`${be.name} ${name} int8 ${what}: vs float64 ${e.rel.toExponential(2)}, min row cosine ${e.cos.toFixed(6)}`);
          assert.ok(e.rel <= TOL.int8Forward, `int8 ${what}: relative error ${e.rel.toExponential(2)} > ${TOL.int8Forward}`);
          assert.ok(e.cos >= TOL.int8RowCosine, `int8 ${what}: smallest row cosine ${e.cos.toFixed(6)} < ${TOL.int8RowCosine}`);
        }
      });
    });
  }
}
