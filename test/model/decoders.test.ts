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

for (const arch of ['mistral']) {
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
