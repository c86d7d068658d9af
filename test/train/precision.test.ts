/**
 * Training precision: `--recompute` gives the same loss curve as stored activations (fp32 and bf16), a bf16
 * run records its precision, base dtype and kernel path in run_config.json and every log line, resumes
 * exactly within its precision, and refuses to resume in another one.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { isLionError } from '../../src/errors.js';
import { ref } from '../../src/kernels/ref/index.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { trainRetriever, type RetrievalTrainOptions } from '../../src/train/trainer.js';
import { tempDir } from '../helpers.js';
import { tinySetup } from './setup.js';

type Line = Record<string, unknown>;
function logOf(dir: string): Line[] {
  return readFileSync(join(dir, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}

async function common(): Promise<Omit<RetrievalTrainOptions, 'output'>> {
  const s = await tinySetup();
  return {
    paradigm: 'sparse', objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, tokenizer: loadTokenizer(s.model), kernels: ref,
    batchSize: 3, negatives: 2, maxSteps: 4, lr: 2e-3, logEvery: 1, saveEvery: 2, queryMaxLength: 12, docMaxLength: 16, loraR: 2, loraAlpha: 4,
  };
}

const KEYS = ['step', 'loss', 'rank', 'flopsQ', 'flopsD', 'gradNorm', 'nnzQ', 'nnzD'];

for (const precision of ['fp32', 'bf16'] as const) {
  test(`${precision}: --recompute gives the stored-activation run's loss curve and adapter`, async () => {
    const c = await common();
    const a = tempDir(), b = tempDir();
    await trainRetriever({ ...c, output: a, precision });
    await trainRetriever({ ...c, output: b, precision, recompute: true });
    const la = logOf(a), lb = logOf(b);
    assert.equal(lb.length, 4);
    la.forEach((l, i) => { for (const k of KEYS) assert.equal(lb[i]![k], l[k], `step ${i + 1} ${k}`); });
    assert.deepEqual(readFileSync(join(b, 'adapter_model.safetensors')), readFileSync(join(a, 'adapter_model.safetensors')));
    const cfg = JSON.parse(readFileSync(join(b, 'run_config.json'), 'utf8')) as Line;
    assert.equal(cfg['precision'], precision);
    assert.equal(cfg['dtype'], precision === 'bf16' ? 'bf16' : 'fp32', 'LoRA at bf16 precision holds its frozen base in bf16');
    assert.equal(cfg['recompute'], true);
    for (const l of lb) {
      assert.equal(l['precision'], precision);
      assert.deepEqual(l['isa'], { bf16: 'ref', int8: 'ref' });
    }
  });
}

test('a bf16 run resumes exactly in bf16 and refuses to resume in fp32', async () => {
  const c = await common();
  const straight = tempDir(), broken = tempDir();
  await trainRetriever({ ...c, output: straight, precision: 'bf16' });
  await assert.rejects(trainRetriever({ ...c, output: broken, precision: 'bf16', onStep: (s) => { if (s === 3) throw new Error('killed'); } }), /killed/);
  await assert.rejects(trainRetriever({ ...c, output: broken, precision: 'fp32' }), (e: unknown) =>
    // the run folder's settings check (src/train/run-folder.ts) refuses first, naming the precision it differs in
    isLionError(e) && e.code === 'E_USAGE' && /precision: "bf16" -> "fp32"/.test(e.message) && /--force-resume/.test(e.hint ?? ''));
  const sum = await trainRetriever({ ...c, output: broken, precision: 'bf16' });
  assert.equal(sum.resumedFrom, 2);
  const a = logOf(straight), b = logOf(broken);
  assert.equal(b.length, 4);
  a.forEach((l, i) => { for (const k of KEYS) assert.equal(b[i]![k], l[k], `step ${i + 1} ${k}`); });
  assert.deepEqual(readFileSync(join(broken, 'adapter_model.safetensors')), readFileSync(join(straight, 'adapter_model.safetensors')));
});
