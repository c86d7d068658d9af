import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../src/cli/main.js';
import { crossBackward, crossForward, newScoreHead } from '../../src/encoders/cross.js';
import { readTrainingFile } from '../../src/io/training.js';
import { ref } from '../../src/kernels/ref/index.js';
import { loadReranker, scorePairs, trainReranker } from '../../src/train/rerank.js';
import { prepareRetrievalTraining } from '../../src/train/trainer.js';
import { tempDir } from '../helpers.js';
import { tinyModel } from '../encoders/tiny.js';
import { tinySetup } from './setup.js';

test('cross-encoder backward agrees with finite differences (head and trunk)', () => {
  const model = tinyModel({ trainable: 'all' });
  const head = newScoreHead(model.config.hiddenSize, 1);
  const pairs = [[1, 5, 9, 2, 7, 8], [1, 4, 2, 30, 31, 32, 33]];
  const R = Float32Array.from([0.7, -1.3]);
  const lossOf = () => crossForward(model, head, pairs, 2, false).scores.reduce((s, x, i) => s + x * R[i]!, 0);
  model.zeroGrad();
  crossBackward(model, head, crossForward(model, head, pairs, 2, true), R);
  const p = model.trainableParams().find((x) => x.name === 'model.layers.0.self_attn.v_proj.weight')!;
  for (const [buf, grad, k] of [[head.weight.value, head.weight.grad, 3], [head.bias.value, head.bias.grad, 0], [p.value, p.grad, 5], [p.value, p.grad, 17]] as const) {
    const x = buf[k]!, h = 1e-2;
    buf[k] = x + h; const up = lossOf();
    buf[k] = x - h; const dn = lossOf();
    buf[k] = x;
    const fd = (up - dn) / (2 * h);
    assert.ok(Math.abs(fd - grad[k]!) < 2e-3 + 2e-2 * Math.abs(fd), `grad ${grad[k]} vs fd ${fd}`);
  }
});

test('a trained reranker ranks positives first more often and writes CL+KD and KD files the trainer accepts', async () => {
  const s = await tinySetup();
  const out = tempDir();
  const sum = await trainReranker({
    model: s.model, trainFile: s.cl, corpus: s.corpus, output: out, kernels: ref, negatives: 3, batchSize: 6, maxSteps: 25,
    lr: 1e-2, warmupRatio: 0.1, logEvery: 5, saveEvery: 25, queryMaxLength: 12, docMaxLength: 20, loraR: 4, loraAlpha: 8,
  });
  assert.ok(sum.lastLoss < sum.firstLoss, `loss ${sum.firstLoss} -> ${sum.lastLoss}`);
  const log = readFileSync(join(out, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { accuracy: number });
  assert.ok(log.at(-1)!.accuracy > log[0]!.accuracy, `accuracy ${log[0]!.accuracy} -> ${log.at(-1)!.accuracy}`);
  const rr = loadReranker(out, s.model, ref);
  const sc = scorePairs(rr, [{ query: 'a', doc: 'b' }, { query: 'a much longer query', doc: 'and a document' }], { queryMaxLength: 12, docMaxLength: 20 });
  assert.equal(sc.length, 2);
  assert.ok(sc.every(Number.isFinite));
  for (const format of ['clkd', 'kd'] as const) {
    const file = join(out, `${format}.jsonl`);
    const code = await main(['rerank', 'score', '--reranker', out, '--model', s.model, '--input', s.cl, '--corpus', s.corpus, '--out', file,
      '--format', format, '--query-max-length', '12', '--doc-max-length', '20']);
    assert.equal(code, 0);
    const ex = [];
    for await (const e of readTrainingFile(file)) ex.push(e);
    assert.equal(ex.length, 40);
    assert.equal(ex[0]!.kind, format);
    const p = await prepareRetrievalTraining({ paradigm: 'dense', objective: format === 'kd' ? 'kd' : 'cl+kd', model: s.model, trainFile: file, corpus: s.corpus, output: tempDir(), negatives: 3 });
    assert.equal(p.examples.length, 40);
  }
});
