/**
 * Fuzz suite over every binary format and JSON config this code reads: `.lsv`, `.f32`, `.lvec` (f32 and int8),
 * the HNSW graph and its binding, training checkpoints, `.lbm25`, `config.json` and `adapter_config.json`.
 * Each seeded mutation must give a correct result or a LionError with a code (see harness.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildBm25Index } from '../../src/bm25/build.js';
import { readBm25Index, writeBm25Index } from '../../src/bm25/format.js';
import { buildDenseIndex, loadVectorIndex, searchDense } from '../../src/index/vector/flat.js';
import { buildHnsw, loadHnsw, saveHnsw, searchHnsw } from '../../src/index/vector/hnsw.js';
import { readCorpus } from '../../src/io/corpus.js';
import { loraFromConfig } from '../../src/io/peft.js';
import { readDenseShard, readShardInfo, readSparseShard, SparseShardWriter, writeDenseShard } from '../../src/io/vectors.js';
import { CONFIG_LIMITS, loadModelConfig } from '../../src/model/registry.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/state.js';
import { ref } from '../../src/kernels/ref/index.js';
import { LlamaModel } from '../../src/model/llama.js';
import { tinyConfig, tinyModel } from '../encoders/tiny.js';
import { fixtures, tempDir } from '../helpers.js';
import { assertMemoryBelow, expectSafe, fuzzFile, RUNS, SEED, type Field } from './harness.js';

const enc = { model: '0123456789abcdef', name: 'fuzz', head: 'sparse' as const, vocab: 50, dtype: 'f32' };
const base = process.memoryUsage().rss;
const u32 = (...offs: number[]): Field[] => offs.map((off) => ({ off, type: 'u32' }));
const f64 = (...offs: number[]): Field[] => offs.map((off) => ({ off, type: 'f64' }));

function denseRows(rows: number, dim: number): Float32Array {
  return Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i * 0.37));
}

test('fuzz .lsv sparse shards', async () => {
  const p = join(tempDir(), 'v.lsv');
  const w = new SparseShardWriter(p, 50, enc);
  for (let r = 0; r < 20; r++) w.add(`d${r}`, { terms: Uint32Array.from({ length: r % 7 }, (_, i) => i * 7 + (r % 5)), weights: Float32Array.from({ length: r % 7 }, (_, i) => 0.5 + i) });
  w.close();
  const seen = await fuzzFile(p, [...u32(8, 12, 16, 20), ...f64(24, 32, 40, 48)], () => { readShardInfo(p); for (const _ of readSparseShard(p)) { /* read all */ } });
  assert.ok(seen.size > 1, JSON.stringify([...seen]));
});

test('fuzz .f32 dense shards', async () => {
  const p = join(tempDir(), 'v.f32');
  writeDenseShard(p, { data: denseRows(12, 6), rows: 12, dim: 6, ids: Array.from({ length: 12 }, (_, i) => `d${i}`) }, { ...enc, head: 'dense', vocab: undefined, dim: 6 });
  await fuzzFile(p, [...u32(8, 12, 16, 20), ...f64(24, 32, 40)], () => readDenseShard(p));
});

for (const dtype of ['f32', 'i8'] as const) {
  test(`fuzz .lvec dense indexes (${dtype}), searched after loading`, async () => {
    const d = tempDir();
    writeDenseShard(join(d, 'v.f32'), { data: denseRows(40, 8), rows: 40, dim: 8, ids: Array.from({ length: 40 }, (_, i) => `d${i}`) });
    const p = join(d, 'x.lvec');
    buildDenseIndex([join(d, 'v.f32')], p, { dtype });
    const q = denseRows(2, 8);
    await fuzzFile(p, [...u32(8, 12, 16, 20), ...f64(32, 40, 48, 56, 64, 72, 80, 88)], () => searchDense(loadVectorIndex(p), q, { k: 5 }));
  });
}

test('fuzz the HNSW graph and its binding: nothing damaged reaches usearch', async () => {
  const d = tempDir();
  writeDenseShard(join(d, 'v.f32'), { data: denseRows(200, 8), rows: 200, dim: 8, ids: Array.from({ length: 200 }, (_, i) => `d${i}`) });
  const p = join(d, 'x.lvec');
  const ix = buildDenseIndex([join(d, 'v.f32')], p);
  saveHnsw(buildHnsw(ix, { threads: 1 }), `${p}.usearch`, ix);
  const q = denseRows(1, 8);
  const open = () => { const v = loadVectorIndex(p); searchHnsw(loadHnsw(`${p}.usearch`, v), q, 5, 1); };
  await fuzzFile(`${p}.usearch`, u32(0, 4, 8, 16, 24, 32, 40, 48, 56, 64), open);
  await fuzzFile(`${p}.usearch.json`, [], open, { runs: Math.ceil(RUNS / 2), detect: false }); // its values are what is checked
});

test('fuzz training checkpoints (weights, optimiser state, trainer state, checksums)', async () => {
  const out = tempDir();
  const model = tinyModel();
  const dir = await saveCheckpoint(out, model, { step: 3, config: { lr: 1 } }, {});
  const fresh = new LlamaModel(tinyConfig(), { kernels: ref });
  for (const f of ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'checksums.json']) {
    await fuzzFile(join(dir, f), f.endsWith('.safetensors') ? [{ off: 0, type: 'f64' }] : [], () => loadCheckpoint(dir, fresh, {}), { runs: Math.ceil(RUNS / 2), detect: f !== 'checksums.json' });
    // checksums.json itself may change harmlessly (whitespace); any change to what it says fails the files' checks.
  }
});

test('fuzz .lbm25 BM25 indexes', async () => {
  const p = join(tempDir(), 'c.lbm25');
  async function* docs() { let n = 0; for await (const r of readCorpus(join(fixtures, 'cranfield'))) { if (n++ >= 30) return; yield r; } }
  await writeBm25Index(p, await buildBm25Index(docs()));
  await fuzzFile(p, [...u32(8, 12, 16, 20, 24, 28, 40, 44, 48, 52), ...f64(32)], () => readBm25Index(p), { detect: false });
});

test('fuzz config.json: byte mutations and hostile values are bounded ModelErrors or sane configs', async () => {
  const d = tempDir();
  const good = readFileSync(join(fixtures, 'golden', 'llama', 'config.json'));
  writeFileSync(join(d, 'config.json'), good);
  await fuzzFile(join(d, 'config.json'), [], () => loadModelConfig(d), { detect: false });
  const obj = JSON.parse(good.toString()) as Record<string, unknown>;
  const keys = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'intermediate_size', 'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'model_type', 'rope_scaling', 'tie_word_embeddings'];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...keys), fc.oneof(fc.jsonValue(), fc.constantFrom(1e9, -1, 0, 2 ** 40, 1e300, 0.5)), async (key, value) => {
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...obj, [key]: value }));
    let cfg: ReturnType<typeof loadModelConfig> | undefined;
    await expectSafe(() => { cfg = loadModelConfig(d); }, false, false, `config ${key}=${JSON.stringify(value)}`);
    if (cfg) {
      assert.ok(cfg.numLayers <= CONFIG_LIMITS.num_hidden_layers && cfg.hiddenSize <= CONFIG_LIMITS.hidden_size && cfg.vocabSize <= CONFIG_LIMITS.vocab_size);
      assert.ok(cfg.rmsNormEps > 0);
    }
  }), { numRuns: RUNS * 2, seed: SEED });
});

test('fuzz adapter_config.json: any JSON, and target_modules patterns, never hang or throw raw errors', async () => {
  const pattern = fc.stringMatching(/^[a-z_.*+?()|\[\]\\^$]{0,30}$/);
  await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ r: fc.oneof(fc.integer(), fc.double()), lora_alpha: fc.double(), target_modules: fc.oneof(pattern, fc.array(fc.string())) }, { requiredKeys: [] })), async (raw) => {
    await expectSafe(() => loraFromConfig(raw as Record<string, unknown>, 'adapter_config.json'), false, false, `adapter ${JSON.stringify(raw)}`);
  }), { numRuns: RUNS * 4, seed: SEED });
  const t0 = performance.now();
  await expectSafe(() => loraFromConfig({ r: 4, target_modules: `(${'.*'.repeat(40)})*X` }, 'a.json'), false, false, 'catastrophic pattern');
  assert.ok(performance.now() - t0 < 500);
});

test('memory stayed bounded over the whole fuzz run', () => {
  assertMemoryBelow(base, 1024);
});
