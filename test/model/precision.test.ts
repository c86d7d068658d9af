/**
 * Reduced precision in the model: bf16 and int8 weights against fp32 on the golden Llama and Qwen2 (forward:
 * hidden states and logits), LoRA training on a frozen bf16 base and bf16-precision training against fp32
 * gradients, activation recomputation against stored activations (equal to 1e-6), merging an adapter into
 * bf16 weights, memory (no fp32 copy of a reduced matrix) and the refusals (full fine-tuning of reduced
 * weights, int8 training). Runs on `ref` and on the native backend when its build has the bf16/int8 kernels.
 *
 * Tolerances (measured on these fixtures with ref, in brackets): bf16 hidden states relative Frobenius error
 * ≤ 1e-2 [4.6e-3 / 5.2e-3], each element within 4e-2 of max(|x|, rms) [1.9e-2 / 2.0e-2], per-token cosine ≥
 * 0.9995 [0.99997]; int8 ≤ 6e-2 [3.2e-2 / 2.6e-2], ≥ 0.998 [0.9991 / 0.9993]. The fixtures' weights are
 * random fp32, so rounding them to bf16 is part of the error (a bf16 checkpoint loses nothing on load).
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { ref } from '../../src/kernels/index.js';
import { openCheckpoint, readTensor, readTensorBf16Into, writeSafetensors } from '../../src/io/safetensors.js';
import { loadModel, saveModel } from '../../src/model/checkpoint.js';
import type { LlamaModel } from '../../src/model/llama.js';
import { LORA_TARGETS } from '../../src/io/lora-config.js';
import { defaultDtype, hasNativeBf16, resolveDtype } from '../../src/model/precision.js';
import { tempDir } from '../helpers.js';
import { goldenBatch, lmLoss, loadGolden, realRows } from './golden.js';
import { errors, lowpBackends } from './lowp.js';

const BOUNDS = { bf16: { rel: 1e-2, worst: 4e-2, cos: 0.9995 }, int8: { rel: 6e-2, worst: 0.2, cos: 0.998 } } as const;

function grads(m: LlamaModel): Map<string, Float32Array> {
  return new Map(m.trainableParams().map((p) => [p.name, Float32Array.from(p.grad)]));
}

for (const be of lowpBackends()) {
  for (const name of ['llama', 'qwen2'] as const) {
    describe(`${name} in reduced precision on ${be.name}`, { skip: be.skip }, () => {
      const g = loadGolden(name);
      const { batch, labels } = goldenBatch(g);
      const C = 64, V = 1000, k = be.k!;
      const fp32 = loadModel(g.dir, { kernels: k });
      const h32 = realRows(Float32Array.from(fp32.forward(batch)), batch.mask, C);
      const l32 = lmLoss(fp32, batch, labels, false).logits;

      for (const dtype of ['bf16', 'int8'] as const) {
        test(`${dtype} weights: hidden states and logits close to fp32, base matrices held reduced`, (t) => {
          const m = loadModel(g.dir, { kernels: k, dtype });
          const h = realRows(Float32Array.from(m.forward(batch)), batch.mask, C);
          const e = errors(h, h32, C), b = BOUNDS[dtype];
          t.diagnostic(`${dtype} hidden: rel ${e.rel.toExponential(2)}, worst ${e.worst.toExponential(2)}, min cos ${e.minCos.toFixed(6)}`);
          assert.ok(e.rel <= b.rel, `hidden rel ${e.rel}`);
          assert.ok(e.worst <= b.worst, `hidden worst ${e.worst}`);
          assert.ok(e.minCos >= b.cos, `hidden cosine ${e.minCos}`);
          const el = errors(realRows(lmLoss(m, batch, labels, false).logits, batch.mask, V), realRows(l32, batch.mask, V), V);
          t.diagnostic(`${dtype} logits: rel ${el.rel.toExponential(2)}, min cos ${el.minCos.toFixed(6)}`);
          assert.ok(el.rel <= 2 * b.rel && el.minCos >= b.cos, `logits rel ${el.rel} cos ${el.minCos}`);
          // storage: every linear weight, the embedding (and head) reduced; norms (and biases) in the fp32 arena
          const q = 'model.layers.0.self_attn.q_proj.weight';
          assert.equal(m.weight(q).dtype, dtype);
          assert.equal(m.weight('model.layers.0.input_layernorm.weight').dtype, 'fp32');
          assert.throws(() => m.param(q), (err: unknown) => isLionError(err) && /stored as/.test(err.message));
          const embed = m.reduced.get('model.embed_tokens.weight');
          assert.ok(embed.bf16, 'the embedding table is held in bf16');
          if (dtype === 'int8') {
            const head = m.reduced.get(m.headName());
            assert.ok(head.q && head.bf16, 'the LM head has int8 for the search pass and bf16 for the exact logit');
          }
          const base = fp32.parameters().filter((p) => !p.name.includes('norm') && !p.name.endsWith('.bias'));
          const elems = base.reduce((s, p) => s + p.value.length, 0);
          if (dtype === 'bf16') assert.equal(m.reduced.bytes, 2 * elems);
          else {
            // linears: int8 + a float scale per row; embedding bf16; the head int8 (+ scales) and bf16 (tied: the embedding's)
            const lin = base.filter((p) => p.name.endsWith('_proj.weight'));
            const VC = V * C, linBytes = lin.reduce((s, p) => s + p.value.length + 4 * p.shape[0]!, 0);
            assert.equal(m.reduced.bytes, linBytes + 2 * VC + VC + 4 * V + (m.config.tieWordEmbeddings ? 0 : 2 * VC));
          }
          assert.ok(m.weights.bytes < 0.05 * fp32.weights.bytes, 'no fp32 copy of the base matrices');
        });
      }

      test('LoRA on a frozen bf16 base: gradients close to the fp32 base\'s', (t) => {
        const adapter = join(g.dir, 'adapter');
        const a = loadModel(g.dir, { kernels: k, adapter, trainable: 'lora' });
        const b = loadModel(g.dir, { kernels: k, adapter, trainable: 'lora', dtype: 'bf16' });
        a.zeroGrad(); b.zeroGrad();
        const la = lmLoss(a, batch, labels, true).loss, lb = lmLoss(b, batch, labels, true).loss;
        assert.ok(Math.abs(la - lb) / la < 5e-3, `loss ${lb} vs ${la}`);
        let worst = 0;
        const ga = grads(a);
        for (const [n, gb] of grads(b)) worst = Math.max(worst, errors(gb, ga.get(n)!, gb.length).rel);
        t.diagnostic(`LoRA gradients on a bf16 base: worst relative error ${worst.toExponential(2)}; loss ${lb} vs ${la}`);
        assert.ok(worst < 5e-2, `LoRA gradient rel error ${worst}`);
        assert.equal(b.trainableParams().length, a.trainableParams().length);
      });

      test('precision bf16 on fp32 master weights: loss and gradients close to fp32', (t) => {
        const a = loadModel(g.dir, { kernels: k, trainable: 'all' });
        const b = loadModel(g.dir, { kernels: k, trainable: 'all', precision: 'bf16' });
        a.zeroGrad(); b.zeroGrad();
        const la = lmLoss(a, batch, labels, true).loss, lb = lmLoss(b, batch, labels, true).loss;
        const ga = grads(a);
        let worst = 0, at = '';
        for (const [n, gb] of grads(b)) { const e = errors(gb, ga.get(n)!, gb.length).rel; if (e > worst) { worst = e; at = n; } }
        t.diagnostic(`precision bf16: loss ${lb} vs ${la}; worst gradient rel error ${worst.toExponential(2)} (${at})`);
        assert.ok(Math.abs(la - lb) / la < 5e-3, `loss ${lb} vs ${la}`);
        assert.ok(worst < 5e-2, `gradient rel error ${worst} at ${at}`);
        assert.ok(b.parameters().every((p) => p.value instanceof Float32Array), 'master weights stay fp32');
      });
    });
  }
}

for (const be of lowpBackends()) describe(`activation recomputation on ${be.name}`, { skip: be.skip }, () => {
  const k = be.k!;
  const g = loadGolden('llama');
  const { batch, labels } = goldenBatch(g);
  const left = goldenBatch(g, 'left');
  const lora = { r: 4, alpha: 8, dropout: 0.1, targets: LORA_TARGETS };
  const cases = [
    { what: 'full fine-tuning', opts: { trainable: 'all' as const } },
    { what: 'fresh LoRA with dropout', opts: { lora, seed: 3 } },
    { what: 'LoRA on a bf16 base at bf16 precision', opts: { lora, seed: 3, dtype: 'bf16' as const, precision: 'bf16' as const } },
  ];
  for (const c of cases) {
    test(`${c.what}: gradients equal the stored-activation path (two slots, 1e-6)`, () => {
      const run = (recompute: boolean) => {
        const m = loadModel(g.dir, { kernels: k, ...c.opts, recompute });
        m.zeroGrad();
        m.reseedDropout(7);
        const N = batch.B * batch.T, C = 64, V = 1000;
        const hs = [['a', batch, labels], ['b', left.batch, left.labels]] as const;
        const kept = hs.map(([slot, b]) => Float32Array.from(m.forward(b, { train: true, slot })));
        let loss = 0;
        hs.forEach(([slot, , lab], i) => {
          const h = kept[i]!, logits = new Float32Array(N * V), losses = new Float32Array(N), lse = new Float32Array(N);
          m.lmHeadForward(logits, h, N);
          const count = k.crossEntropyForward(losses, lse, logits, lab, N, V, -100);
          loss += losses.reduce((s, x) => s + x, 0) / count;
          const dl = new Float32Array(N * V), dh = new Float32Array(N * C);
          k.crossEntropyBackward(dl, logits, lse, lab, 1 / count, N, V, -100);
          m.lmHeadBackward(dh, dl, h, N);
          m.backward(dh, { slot });
        });
        return { loss, grads: grads(m), hidden: kept };
      };
      const a = run(false), b = run(true);
      assert.equal(b.loss, a.loss);
      a.hidden.forEach((h, i) => assert.deepEqual(b.hidden[i], h));
      for (const [n, ga] of a.grads) {
        const gb = b.grads.get(n)!;
        let worst = 0, scale = 0;
        for (let i = 0; i < ga.length; i++) { worst = Math.max(worst, Math.abs(gb[i]! - ga[i]!)); scale = Math.max(scale, Math.abs(ga[i]!)); }
        assert.ok(worst <= 1e-6 * Math.max(scale, 1e-30), `${n}: differs by ${worst} (max |g| ${scale})`);
      }
    });
  }

  test('recompute keeps one layer input per layer instead of every activation', () => {
    const m0 = loadModel(g.dir, { kernels: k, lora, recompute: false });
    const m1 = loadModel(g.dir, { kernels: k, lora, recompute: true });
    m0.forward(batch, { train: true });
    m1.forward(batch, { train: true });
    const a = m0.activationBytes(), b = m1.activationBytes();
    // per batch: the layer inputs (+ masks) only; shared by all batches: one layer's work set more scratch
    assert.ok(b.slot < 0.3 * a.slot, `recompute keeps ${b.slot} bytes per batch, stored ${a.slot}`);
    assert.ok(b.scratch - a.scratch < a.slot / 2, `the work set (${b.scratch - a.scratch} bytes) is about one layer`);
  });
});

describe('reduced weights and training', () => {
  const g = loadGolden('llama');
  test('full fine-tuning of bf16/int8 weights and int8 training are refused with a clear error', () => {
    for (const dtype of ['bf16', 'int8'] as const) {
      assert.throws(() => loadModel(g.dir, { kernels: ref, dtype, trainable: 'all' }),
        (e: unknown) => isLionError(e) && e.code === 'E_USAGE' && /full fine-tuning needs fp32 master weights/.test(e.message) && /--precision bf16/.test(e.hint ?? ''));
    }
    assert.throws(() => loadModel(g.dir, { kernels: ref, dtype: 'int8', adapter: join(g.dir, 'adapter'), trainable: 'lora' }),
      (e: unknown) => isLionError(e) && /int8 weights are for inference only/.test(e.message));
  });

  test('an adapter merged into bf16 weights: W = bf16(W + s·B·A) exactly, outputs close; int8 keeps it unmerged', (t) => {
    const { batch } = goldenBatch(g);
    const adapter = join(g.dir, 'adapter');
    const want = g.tensor('bi_lora.hidden'); // PyTorch, fp32, adapter applied
    const un = loadModel(g.dir, { kernels: ref, adapter, trainable: 'none', dtype: 'bf16' });
    const eu = errors(realRows(un.forward(batch), batch.mask, 64), want, 64);
    const name = 'model.layers.1.mlp.down_proj';
    const w = un.weight(`${name}.weight`), [out, inF] = un.paramShape(`${name}.weight`) as [number, number];
    assert.equal(w.dtype, 'bf16');
    const wide = new Float32Array(out * inF); // the merge in one piece, as the oracle
    ref.fromBf16(wide, w.w as Uint16Array, wide.length);
    ref.gemm(wide, un.param(`${name}.lora_B.weight`), un.param(`${name}.lora_A.weight`), out, inF, g.lora.r, false, false, g.lora.lora_alpha / g.lora.r, 1);
    const bits = new Uint16Array(wide.length);
    ref.toBf16(bits, wide, wide.length);
    un.mergeLora();
    assert.deepEqual(un.weight(`${name}.weight`).dtype === 'bf16' && (un.weight(`${name}.weight`) as { w: Uint16Array }).w, bits);
    const e = errors(realRows(un.forward(batch), batch.mask, 64), want, 64);
    t.diagnostic(`bf16 with the adapter against PyTorch fp32: unmerged rel ${eu.rel.toExponential(2)}, merged rel ${e.rel.toExponential(2)} (merging rounds W + s·B·A to bf16)`);
    assert.ok(eu.rel < BOUNDS.bf16.rel && eu.minCos > BOUNDS.bf16.cos, `unmerged bf16: rel ${eu.rel}, cos ${eu.minCos}`);
    assert.ok(e.rel < 2 * BOUNDS.bf16.rel && e.minCos > 0.999, `merged bf16: rel ${e.rel}, cos ${e.minCos}`);
    const i8 = loadModel(g.dir, { kernels: ref, adapter, merge: true, dtype: 'int8' });
    assert.equal(i8.merged, false);
    const ei = errors(realRows(i8.forward(batch), batch.mask, 64), realRows(loadModel(g.dir, { kernels: ref, adapter, merge: true }).forward(batch), batch.mask, 64), 64);
    assert.ok(ei.rel < BOUNDS.int8.rel && ei.minCos > BOUNDS.int8.cos, `int8 with adapter: rel ${ei.rel}, cos ${ei.minCos}`);
  });

  test('the default dtype: bf16 only where the kernels multiply bf16 natively', () => {
    assert.equal(defaultDtype(ref), 'fp32', 'ref has no native bf16 path');
    assert.equal(hasNativeBf16({ ...ref, isa: () => ({ bf16: 'avx512bf16', int8: 'avx512vnni', available: [] }) }), true);
    assert.equal(hasNativeBf16({ ...ref, isa: () => ({ bf16: 'amx', int8: 'amx', available: [] }) }), true);
    assert.equal(hasNativeBf16({ ...ref, isa: () => ({ bf16: 'avx2', int8: 'avx2', available: [] }) }), false);
    assert.equal(resolveDtype('auto', ref), 'fp32');
    assert.equal(resolveDtype(undefined, ref), 'fp32', 'the library loads fp32 unless asked');
    assert.equal(resolveDtype('int8', ref), 'int8');
  });
});

describe('loading reduced weights from BF16, F16 and F32 checkpoints', () => {
  const g = loadGolden('qwen2'); // untied head, biases, two shards
  const fp32 = loadModel(g.dir, { kernels: ref });

  /** The checkpoint's values of `name` as bf16 bits, computed independently of the loader. */
  const fileBits = (dir: string, name: string): Uint16Array => {
    const info = openCheckpoint(dir).tensors.get(name)!;
    const wide = readTensor(info), bits = new Uint16Array(wide.length);
    ref.toBf16(bits, wide, wide.length);
    return bits;
  };

  test('BF16 file → bf16 model: the file\'s bits, unchanged; saved back, the same bytes', async () => {
    const dir = tempDir();
    await saveModel(fp32, dir, 'BF16');
    const m = loadModel(dir, { kernels: ref, dtype: 'bf16' });
    for (const t of m.reduced.all()) {
      const info = openCheckpoint(dir).tensors.get(t.name)!;
      assert.equal(info.dtype, 'BF16');
      const raw = new Uint16Array(t.bf16!.length);
      readTensorBf16Into(info, raw);
      assert.deepEqual(t.bf16, raw, t.name);
    }
    assert.deepEqual(m.param('model.norm.weight'), readTensor(openCheckpoint(dir).tensors.get('model.norm.weight')!), 'norms stay fp32');
    const again = tempDir();
    await saveModel(m, again, 'BF16');
    for (const t of m.reduced.all()) assert.deepEqual(fileBits(again, t.name), fileBits(dir, t.name), `${t.name} round trip`);
    await assert.rejects(saveModel(loadModel(dir, { kernels: ref, dtype: 'int8' }), tempDir()), /held in int8/);
  });

  test('F16 and F32 files → bf16 model: each value rounded once to nearest even', async () => {
    const dir = tempDir();
    copyFileSync(join(g.dir, 'config.json'), join(dir, 'config.json'));
    await writeSafetensors(join(dir, 'model.safetensors'), fp32.parameters().map((p) => ({ name: p.name, shape: p.shape, data: p.value, dtype: 'F16' as const })));
    for (const src of [dir, g.dir]) {
      const m = loadModel(src, { kernels: ref, dtype: 'bf16' });
      for (const t of m.reduced.all()) assert.deepEqual(t.bf16, fileBits(src, t.name), `${src}: ${t.name}`);
    }
  });

  test('int8: linears quantised per row from the file\'s values as they stream in; the head from its bf16 copy', () => {
    const m = loadModel(g.dir, { kernels: ref, dtype: 'int8' });
    for (const t of m.reduced.all()) {
      if (!t.q) { assert.equal(t.name, 'model.embed_tokens.weight'); continue; }
      const [rows, K] = t.shape;
      const q = new Int8Array(rows * K), scale = new Float32Array(rows);
      const src = t.bf16 ?? readTensor(openCheckpoint(g.dir).tensors.get(t.name)!);
      if (t.bf16) assert.deepEqual(t.bf16, fileBits(g.dir, t.name));
      ref.quantizeInt8(q, scale, src, rows, K);
      assert.deepEqual(t.q, q, t.name);
      assert.deepEqual(t.scale, scale, t.name);
    }
  });
});
