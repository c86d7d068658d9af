import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { ref } from '../../src/kernels/ref/index.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { mntpBlocks, trainMntp, type MntpOptions } from '../../src/train/mntp-trainer.js';
import { tempDir } from '../helpers.js';
import { tinyConfig } from '../encoders/tiny.js';
import { tinySetup } from './setup.js';

function logOf(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

test('corpus passages are packed into blocks that start with BOS', async () => {
  const s = await tinySetup();
  const tok = loadTokenizer(s.model);
  const blocks = await mntpBlocks(s.corpus, tok, 64, 20);
  assert.ok(blocks.length > 10);
  assert.equal(blocks[0]![0], tok.bosId);
  assert.ok(blocks.every((b) => b.length === 64));
});

test('MNTP from scratch: the masked-token loss falls and the saved model loads', async () => {
  const s = await tinySetup();
  const tok = loadTokenizer(s.model);
  const output = tempDir();
  const sum = await trainMntp({
    scratch: tinyConfig({ vocabSize: 384, bosTokenId: tok.bosId, eosTokenId: tok.eosId }), corpus: s.corpus, output, tokenizer: tok,
    kernels: ref, maxPassages: 60, blockLength: 32, batchSize: 4, maxSteps: 40, lr: 1e-2, warmupRatio: 0.05, logEvery: 10, saveEvery: 20, probability: 0.3,
  });
  const log = logOf(output);
  assert.equal(log.length, 4);
  assert.ok(log[3]!['loss']! < log[0]!['loss']! - 0.5, `loss ${log[0]!['loss']} -> ${log[3]!['loss']}`);
  assert.ok(log.every((l) => l['predicted']! > 0 && l['accuracy']! >= 0 && l['accuracy']! <= 1));
  assert.ok(sum.blocks > 10);
  const m = loadModel(output, { kernels: ref });
  assert.equal(m.config.vocabSize, 384);
  assert.ok(existsSync(join(output, 'tokenizer.json')));
});

test('MNTP with LoRA resumes after a failure and reproduces the uninterrupted run', async () => {
  const s = await tinySetup();
  const tok = loadTokenizer(s.model);
  const common: Omit<MntpOptions, 'output'> = {
    model: s.model, corpus: s.corpus, tokenizer: tok, kernels: ref, maxPassages: 40, blockLength: 24, batchSize: 3, maxSteps: 6,
    lr: 5e-3, logEvery: 1, saveEvery: 3, loraR: 2, loraAlpha: 4,
  };
  const a = tempDir(), b = tempDir();
  await trainMntp({ ...common, output: a });
  await assert.rejects(trainMntp({ ...common, output: b, onStep: (st) => { if (st === 5) throw new Error('power cut'); } }), /power cut/);
  const sum = await trainMntp({ ...common, output: b });
  assert.equal(sum.resumedFrom, 3);
  assert.deepEqual(logOf(b).map((l) => [l['step'], l['loss'], l['gradNorm']]), logOf(a).map((l) => [l['step'], l['loss'], l['gradNorm']]));
  assert.ok(existsSync(join(b, 'adapter_config.json')));
  loadModel(s.model, { adapter: b, merge: true, kernels: ref });
});

test('MNTP rejects impossible setups before training', async () => {
  const s = await tinySetup();
  const tok = loadTokenizer(s.model);
  const base = { corpus: s.corpus, output: tempDir(), tokenizer: tok, kernels: ref };
  await assert.rejects(trainMntp({ ...base }), /exactly one of/);
  await assert.rejects(trainMntp({ ...base, model: s.model, maxPassages: 2, blockLength: 512, batchSize: 4 }), /fewer than one batch/);
});

test('a from-scratch (full-weight) run resumes from its checkpoint and matches the uninterrupted run', async () => {
  const s = await tinySetup();
  const tok = loadTokenizer(s.model);
  const common: Omit<MntpOptions, 'output'> = {
    scratch: tinyConfig({ vocabSize: 384, numLayers: 1 }), corpus: s.corpus, tokenizer: tok, kernels: ref, maxPassages: 30,
    blockLength: 16, batchSize: 2, maxSteps: 5, lr: 5e-3, logEvery: 1, saveEvery: 2,
  };
  const a = tempDir(), b = tempDir();
  await trainMntp({ ...common, output: a });
  await assert.rejects(trainMntp({ ...common, output: b, onStep: (st) => { if (st === 3) throw new Error('killed'); } }), /killed/);
  assert.ok(existsSync(join(b, 'checkpoint-2', 'model.safetensors')));
  const sum = await trainMntp({ ...common, output: b });
  assert.equal(sum.resumedFrom, 2);
  assert.deepEqual(logOf(b).map((l) => [l['loss'], l['gradNorm']]), logOf(a).map((l) => [l['loss'], l['gradNorm']]));
  assert.deepEqual(readFileSync(join(b, 'model.safetensors')), readFileSync(join(a, 'model.safetensors')));
});
