/**
 * Mistral and Qwen3 decoders against the PyTorch goldens of scripts/make_golden_encoders.py (fp32 vs float64,
 * 1e-5): final hidden states, LM-head logits, bidirectional and causal, and the decoder-embedder poolings
 * (last token, normalised; mean; SPLADE max with d^-1/4), on both backends.
 */
import { test } from 'node:test';
import { finishDense, poolDense } from '../../src/encoders/pooling.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { assertClose, backends, realRows } from './golden.js';
import { encoderGoldenDir, loadEncoderGolden, paddedBatch, type Pooled } from './encoder-goldens.js';

type DecoderGolden = { ids: number[][]; lengths: number[] } & Record<'bidirectional' | 'causal', { hidden: number[]; logits: number[] } & Pooled>;
const TOL = 1e-5;

for (const arch of ['mistral', 'qwen3']) {
  for (const be of backends()) {
    for (const mode of ['bidirectional', 'causal'] as const) {
      test(`${arch} ${mode} (${be.name}): hidden, logits and poolings match PyTorch`, { skip: be.skip }, () => {
        const g = loadEncoderGolden<DecoderGolden>(arch);
        const m = loadModel(encoderGoldenDir(arch), { bidirectional: mode === 'bidirectional', kernels: be.k! });
        const { hiddenSize: C, vocabSize: V } = m.config;
        const want = g[mode];
        // causal attention is only padding-invariant with left padding when positions start at each row's first token
        for (const side of ['right', 'left'] as const) {
          const batch = paddedBatch(g, side);
          const { B, T, mask } = batch;
          const h = m.forward(batch, { train: false });
          assertClose(realRows(h, mask, C), want.hidden, TOL, `${arch} ${mode} ${side} hidden`);
          const logits = new Float32Array(B * T * V);
          m.lmHeadForward(logits, h, B * T);
          assertClose(realRows(logits, mask, V), want.logits, TOL, `${arch} ${mode} ${side} logits`);
          assertClose(finishDense(poolDense(h, mask, B, T, C, 'last'), B, C, { normalize: true }), want.last_normalized, TOL, `${arch} last`);
          assertClose(poolDense(h, mask, B, T, C, 'mean'), want.mean, TOL, `${arch} mean`);
          const rep = new Float32Array(B * V);
          m.k.sparseHeadForward(rep, new Int32Array(B * V), h, m.param(m.headName()), mask, B, T, C, V, C ** -0.25);
          assertClose(rep, want.splade_max_scaled!, TOL, `${arch} splade max scaled`);
        }
      });
    }
  }
}

for (const arch of ['mistral', 'qwen3']) {
  for (const be of backends()) {
    for (const recompute of [false, true]) test(`${arch} (${be.name}${recompute ? ', recompute' : ''}): gradients of <hidden, R> match PyTorch (q/k norms included)`, { skip: be.skip }, () => {
      const g = loadEncoderGolden<DecoderGolden & { grads: Record<string, number[]> }>(arch);
      const m = loadModel(encoderGoldenDir(arch), { bidirectional: true, kernels: be.k!, trainable: 'all', recompute });
      const C = m.config.hiddenSize;
      const batch = paddedBatch(g, 'left');
      const { B, T } = batch;
      const h = m.forward(batch, { train: true });
      assertClose(realRows(h, batch.mask, C), g.bidirectional.hidden, TOL, `${arch} train-mode hidden`);
      // R indexed by the right-padded position of each real token, zero at padding
      const dh = new Float32Array(B * T * C);
      g.lengths.forEach((n, b) => {
        for (let t = 0; t < n; t++) for (let j = 0; j < C; j++) dh[(b * T + (T - n) + t) * C + j] = Math.sin(1 + b * T * C + t * C + j);
      });
      m.zeroGrad();
      m.backward(dh);
      const grads = new Map(m.trainableParams().map((p) => [p.name, p.grad]));
      for (const [name, want] of Object.entries(g.grads)) assertClose(grads.get(name)!, want, 1e-4, `${arch} grad ${name}`);
    });
  }
}
