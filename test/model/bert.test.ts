/**
 * BERT and DistilBERT against the PyTorch goldens of scripts/make_golden_encoders.py (fp32 vs float64, 1e-5):
 * hidden states, MLM logits, SPLADE max (no scale, and d^-1/4) and sum, dense CLS / mean / mean of
 * normalised tokens / last token, normalisation and Matryoshka truncation; left and right padding agree;
 * both backends. DistilBERT is loaded from a torch.save'd pytorch_model.bin with a tied (shared) decoder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finishDense, poolDense, type DensePooling } from '../../src/encoders/pooling.js';
import { isLionError } from '../../src/errors.js';
import { loadBertModel } from '../../src/model/bert.js';
import { assertClose, backends, realRows } from './golden.js';
import { encoderGoldenDir, loadEncoderGolden, paddedBatch } from './encoder-goldens.js';

const TOL = 1e-5;

for (const arch of ['bert', 'distilbert']) {
  for (const be of backends()) {
    test(`${arch} (${be.name}): hidden, logits and every pooling match PyTorch`, { skip: be.skip }, () => {
      const g = loadEncoderGolden(arch);
      const m = loadBertModel(encoderGoldenDir(arch), { kernels: be.k! });
      const C = m.config.hiddenSize, V = m.config.vocabSize;
      for (const side of ['right', 'left'] as const) {
        const batch = paddedBatch(g, side);
        const { B, T, mask } = batch;
        const h = m.forward(batch);
        assertClose(realRows(h, mask, C), g.hidden, TOL, `${arch} ${side} hidden`);
        assertClose(realRows(m.logits(h, B * T), mask, V), g.logits, TOL, `${arch} ${side} logits`);
        assertClose(m.sparseRep(batch, 'max'), g.splade_max!, TOL, `${arch} ${side} splade max`);
        assertClose(m.sparseRep(batch, 'max', C ** -0.25), g.splade_max_scaled!, TOL, `${arch} ${side} splade max scaled`);
        assertClose(m.sparseRep(batch, 'sum'), g.splade_sum!, TOL, `${arch} ${side} splade sum`);
        const pool = (p: DensePooling) => poolDense(h, mask, B, T, C, p, m.k);
        assertClose(pool('mean'), g.mean, TOL, `${arch} mean`);
        assertClose(pool('cls'), g.cls, TOL, `${arch} cls`);
        assertClose(pool('last'), g.last, TOL, `${arch} last`);
        assertClose(pool('mean-normalized'), g.mean_of_normalized_tokens, TOL, `${arch} mean of normalised tokens`);
        assertClose(finishDense(pool('mean'), B, C, { normalize: true }), g.mean_normalized, TOL, `${arch} mean normalised`);
        assertClose(finishDense(pool('mean'), B, C, { normalize: true, dim: 8 }), g.mean_truncated8_normalized, TOL, `${arch} matryoshka 8`);
      }
    });
  }
}

test('a bare encoder has no MLM head; a wrong model_type is refused', () => {
  const m = loadBertModel(encoderGoldenDir('bert'), { withHead: false });
  assert.equal(m.withHead, false);
  assert.throws(() => m.headTransform(new Float32Array(32), 1), /without its MLM head/);
  assert.throws(() => loadBertModel(encoderGoldenDir('mistral')), (e) => isLionError(e) && /not a BERT-family encoder/.test(e.message));
});
