import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { ref } from '../../src/kernels/ref/index.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { prepareRetrievalTraining, trainRetriever, type RetrievalTrainOptions } from '../../src/train/trainer.js';
import { tempDir } from '../helpers.js';
import { tinySetup } from './setup.js';

const here = dirname(fileURLToPath(import.meta.url));

function logOf(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

test('invalid combinations fail before any work', async () => {
  const s = await tinySetup();
  const tokenizer = loadTokenizer(s.model);
  const base = { model: s.model, corpus: s.corpus, output: tempDir(), tokenizer, kernels: ref } as const;
  await assert.rejects(prepareRetrievalTraining({ ...base, paradigm: 'sparse', objective: 'kd', trainFile: s.cl }), /KD needs teacher scores/);
  await assert.rejects(prepareRetrievalTraining({ ...base, paradigm: 'dense', objective: 'cl+kd', trainFile: s.cl }), /CL\+KD needs teacher scores/);
  await assert.rejects(prepareRetrievalTraining({ ...base, paradigm: 'dense', objective: 'cl', trainFile: s.cl, negatives: 7 }), /has 6 negatives, fewer than the 7/);
  await assert.rejects(prepareRetrievalTraining({ ...base, paradigm: 'sparse', objective: 'cl', trainFile: s.cl, negatives: 3, batchSize: 41 }), /larger than the 40/);
  await assert.rejects(prepareRetrievalTraining({ ...base, paradigm: 'sparse', objective: 'cl', trainFile: join(s.dir, 'nope.jsonl') }), /not found/);
  await assert.rejects(prepareRetrievalTraining({ ...base, paradigm: 'sparse', objective: 'cl', trainFile: s.cl, full: true, adapter: s.model }), /cannot also continue/);
});

for (const [paradigm, objective, file] of [['sparse', 'cl', 'cl'], ['dense', 'cl+kd', 'clkd'], ['sparse', 'kd', 'kd']] as const) {
  test(`${paradigm} ${objective}: the loss falls and a loadable adapter is written`, async () => {
    const s = await tinySetup();
    const output = tempDir();
    const sum = await trainRetriever({
      paradigm, objective, model: s.model, trainFile: s[file], corpus: s.corpus, output, tokenizer: loadTokenizer(s.model),
      kernels: ref, batchSize: 4, negatives: 3, maxSteps: 24, lr: 3e-3, warmupRatio: 0.1, logEvery: 4, saveEvery: 12,
      queryMaxLength: 16, docMaxLength: 24, loraR: 4, loraAlpha: 8,
    });
    const log = logOf(output);
    assert.equal(log.length, 6);
    const first = log[0]!, last = log.at(-1)!;
    assert.ok(last['rank']! < first['rank']! * 0.8, `rank loss ${first['rank']} -> ${last['rank']}`);
    for (const l of log) {
      for (const k of ['loss', 'rank', 'lr', 'gradNorm', 'itemsPerSec', 'tokensPerSec', 'flopsQ', 'flopsD', 'nnzQ', 'nnzD']) assert.ok(Number.isFinite(l[k]), `${k} logged`);
      if (objective === 'cl+kd') assert.ok(Number.isFinite(l['cl']) && Number.isFinite(l['kl']));
    }
    if (paradigm === 'sparse') {
      assert.ok(last['lambdaQ']! > first['lambdaQ']!, 'FLOPS weight ramps up');
      assert.ok(last['nnzQ']! > 0);
    }
    assert.equal(sum.steps, 24);
    assert.ok(existsSync(join(output, 'adapter_config.json')) && existsSync(join(output, 'tokenizer.json')));
    assert.ok(existsSync(join(output, 'checkpoint-24', 'optimizer.safetensors')));
    assert.ok(!existsSync(join(output, 'checkpoint-12')), 'older checkpoints are removed');
    const cfg = JSON.parse(readFileSync(join(output, 'run_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg['objective'], objective);
    assert.equal(cfg['lambdaQ'], 0.05);
    const trained = loadModel(s.model, { adapter: output, merge: true, withHead: paradigm === 'sparse', kernels: ref });
    assert.ok(trained.merged);
  });
}

test('a killed run resumes from its last checkpoint and continues the same loss curve', async () => {
  const s = await tinySetup();
  const common: Omit<RetrievalTrainOptions, 'tokenizer' | 'output'> = {
    paradigm: 'sparse', objective: 'cl+kd', model: s.model, trainFile: s.clkd, corpus: s.corpus, batchSize: 3, negatives: 2,
    gradAccum: 2, maxSteps: 7, lr: 2e-3, logEvery: 1, saveEvery: 3, queryMaxLength: 12, docMaxLength: 16, loraR: 2, loraAlpha: 4,
  };
  const straight = tempDir();
  await trainRetriever({ ...common, output: straight, tokenizer: loadTokenizer(s.model), kernels: ref });
  const killed = tempDir();
  const child = spawnSync(process.execPath, [join(here, 'resume-child.js'), JSON.stringify({ ...common, output: killed, killAt: 5 })], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  assert.equal(JSON.parse(readFileSync(join(killed, 'latest.json'), 'utf8')).step, 3);
  assert.equal(logOf(killed).length, 5);
  const sum = await trainRetriever({ ...common, output: killed, tokenizer: loadTokenizer(s.model), kernels: ref });
  assert.equal(sum.resumedFrom, 3);
  const a = logOf(straight), b = logOf(killed);
  assert.equal(b.length, 7);
  for (let i = 0; i < 7; i++) {
    for (const k of ['step', 'loss', 'rank', 'cl', 'kl', 'flopsQ', 'flopsD', 'lr', 'gradNorm', 'nnzQ']) {
      assert.equal(b[i]![k], a[i]![k], `step ${i + 1} ${k}`);
    }
  }
  assert.deepEqual(readFileSync(join(killed, 'adapter_model.safetensors')), readFileSync(join(straight, 'adapter_model.safetensors')));
});

test('--freeze keeps the named weights bit-identical while the rest train; a name matching nothing is refused', async () => {
  const s = await tinySetup();
  const output = tempDir();
  const common = {
    paradigm: 'sparse', objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, tokenizer: loadTokenizer(s.model),
    kernels: ref, batchSize: 4, negatives: 3, maxSteps: 3, lr: 1e-2, logEvery: 1, queryMaxLength: 12, docMaxLength: 16, full: true,
  } as const;
  await trainRetriever({ ...common, output, freeze: ['embed_tokens', 'model.norm.weight', 'layers.0.'] });
  const before = loadModel(s.model, { kernels: ref }), after = loadModel(output, { kernels: ref });
  let changed = 0, frozen = 0;
  for (const p of before.parameters()) {
    const a = after.param(p.name);
    const same = p.value.every((x, i) => x === a[i]);
    if (p.name.includes('embed_tokens') || p.name === 'model.norm.weight' || p.name.includes('layers.0.')) {
      assert.ok(same, `${p.name} is frozen`);
      frozen++;
    } else if (!same) changed++;
  }
  assert.ok(frozen >= 3 && changed >= 3, `frozen ${frozen}, changed ${changed}`);
  await assert.rejects(trainRetriever({ ...common, output: tempDir(), freeze: ['no_such_weight'] }), /freeze: 'no_such_weight' names no trainable parameter/);
  const cfg = JSON.parse(readFileSync(join(output, 'run_config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(cfg['freeze'], ['embed_tokens', 'model.norm.weight', 'layers.0.']);
});

test('--score-scale multiplies the scores inside InfoNCE (the logged loss changes with it)', async () => {
  const s = await tinySetup();
  const common = {
    paradigm: 'sparse', objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, tokenizer: loadTokenizer(s.model),
    kernels: ref, batchSize: 4, negatives: 3, maxSteps: 1, lr: 1e-9, logEvery: 1, queryMaxLength: 12, docMaxLength: 16, lambdaQ: 0, lambdaD: 0,
  } as const;
  const a = tempDir(), b = tempDir();
  await trainRetriever({ ...common, output: a });
  await trainRetriever({ ...common, output: b, scoreScale: 1e-6 });
  // at a vanishing scale every candidate scores ~0, so the loss is ln(candidates) = ln(4 · (1 + 3))
  assert.ok(Math.abs(logOf(b)[0]!['rank']! - Math.log(16)) < 1e-3, `loss at scale 1e-6: ${logOf(b)[0]!['rank']}`);
  assert.ok(Math.abs(logOf(a)[0]!['rank']! - Math.log(16)) > 1e-3, `loss at scale 1: ${logOf(a)[0]!['rank']}`);
  await assert.rejects(trainRetriever({ ...common, output: tempDir(), scoreScale: -1 }), /--score-scale must be a positive number/);
});
