/**
 * The shipped demonstration models (models/lion-demo-sp, models/lion-demo-ds; made by
 * scripts/train-demo-models.mjs, described in models/README.md): each is a Hugging Face folder Lion loads, and
 * each retrieves on the shipped Cranfield collection close to BM25 (which they never saw in any form). The floors are set a little below the
 * scores measured when the models were committed (models/training-record.json), so a change that breaks
 * loading, tokenisation, encoding or search shows up here; random rankings score about 0.005 nDCG@10.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { neuralQuickstartSystem, quickstartSystems, runQuickstart } from '../src/quickstart.js';
import { shippedModels } from '../src/assets.js';
import { loadModel } from '../src/model/checkpoint.js';
import { loadTokenizer } from '../src/tokenizer/tokenizer.js';
import { scoreMatrix } from '../src/encoders/encode.js';
import { DEFAULTS } from '../src/defaults.js';
import { LionError } from '../src/errors.js';

/** Measured at commit time with `npm start` (nDCG@10 / R@100 on all 225 Cranfield queries), minus a margin. */
// Committed: sparse 0.3291 / 0.7110, dense 0.3245 / 0.6742, hybrid (BM25 + sparse) 0.3768 / 0.7317; BM25 0.3654 / 0.7224.
const FLOORS = {
  sparse: { ndcg10: 0.31, recall100: 0.68 },
  dense: { ndcg10: 0.30, recall100: 0.64 },
  hybrid: { ndcg10: 0.355, recall100: 0.70 },
};

function safetensorsDtypes(file: string): Set<string> {
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    const head = Buffer.alloc(n);
    readSync(fd, head, 0, n, 8);
    const h = JSON.parse(head.toString('utf8')) as Record<string, { dtype?: string }>;
    return new Set(Object.entries(h).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype!));
  } finally {
    closeSync(fd);
  }
}

for (const paradigm of ['sparse', 'dense'] as const) {
  const dir = shippedModels()[paradigm];

  test(`${paradigm}: the shipped model is a Hugging Face folder (llama config, bf16 safetensors, byte-level BPE)`, () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(join(dir, f)), `${dir}/${f}`);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg['model_type'], 'llama');
    assert.equal(cfg['vocab_size'], 32768);
    assert.equal(cfg['tie_word_embeddings'], true);
    assert.deepEqual([...safetensorsDtypes(join(dir, 'model.safetensors'))], ['BF16']);
    const tok = loadTokenizer(dir);
    assert.equal(tok.vocabSize, 32768);
    assert.equal(tok.padId, tok.eosId);
    const text = 'Supersonic flow past a slender body of revolution, 1.5 < M < 3.';
    const ids = tok.encode(text);
    assert.equal(ids[0], tok.bosId);
    assert.equal(tok.decode(ids).trim(), text.toLowerCase()); // the tokenizer lower-cases and prepends a space
    const model = loadModel(dir, { withHead: paradigm === 'sparse', trainable: 'none' });
    assert.equal(model.config.vocabSize, 32768);
    assert.equal(model.config.numLayers, 2);
  });

  test(`${paradigm}: the authors' README toy example runs and gives finite scores`, () => {
    const model = loadModel(dir, { withHead: paradigm === 'sparse', trainable: 'none' });
    const s = scoreMatrix(model, loadTokenizer(dir), ['What is the capital of France?', "Who wrote '1984'?"], ['Paris is the capital of France.', "George Orwell wrote '1984'."], paradigm);
    assert.equal(s.length, 2);
    for (const row of s) for (const x of row) assert.ok(Number.isFinite(x) && (paradigm === 'dense' || x >= 0), String(x));
  });
}

test('the shipped sparse and dense models and the hybrid score Cranfield near BM25 (measured floors)', async () => {
  const r = await runQuickstart({ systems: quickstartSystems(['bm25', 'sparse', 'dense', 'hybrid']) });
  assert.equal(r.numEvaluated, 225);
  const [bm25, sp, ds, hy] = r.rows;
  assert.equal(sp!.system, 'Lion sparse (lion-demo-sp)');
  assert.equal(ds!.system, 'Lion dense (lion-demo-ds)');
  assert.equal(hy!.system, 'Hybrid (BM25 + lion-demo-sp)');
  for (const [row, floor] of [[sp!, FLOORS.sparse], [ds!, FLOORS.dense], [hy!, FLOORS.hybrid]] as const) {
    assert.ok(row.ndcg10 > floor.ndcg10, `${row.system} nDCG@10 ${row.ndcg10} <= ${floor.ndcg10}`);
    assert.ok(row.recall100 > floor.recall100, `${row.system} R@100 ${row.recall100} <= ${floor.recall100}`);
    assert.ok(row.mrr10 >= row.ndcg10 * 0.5 && row.mrr10 <= 1);
  }
  assert.ok(hy!.ndcg10 > bm25!.ndcg10, `hybrid ${hy!.ndcg10} vs BM25 ${bm25!.ndcg10}`);
});

test('quickstart systems: names pick rows; an unknown name or a missing model is a clear error', () => {
  assert.deepEqual(quickstartSystems(['bm25', 'dense']).map((s) => s.name), ['BM25 (k1=0.9, b=0.4)', 'Lion dense (lion-demo-ds)']);
  assert.deepEqual(quickstartSystems().length, DEFAULTS.quickstart.systems.split(',').length);
  assert.throws(() => quickstartSystems(['splade']), (e: unknown) => e instanceof LionError && e.code === 'E_USAGE' && /splade/.test(e.message));
  const sys = neuralQuickstartSystem({ paradigm: 'dense', model: join(shippedModels().dense, 'no-such-folder') });
  return assert.rejects(sys.prepare([]), (e: unknown) => e instanceof LionError);
});
