/**
 * The loading path of the released checkpoints (spec §9), on tiny random models written in exactly that
 * layout: a Hugging Face base directory and a PEFT adapter directory whose adapter_config.json names the
 * base. Sparse (…ForCausalLM base, `base_model.model.model.layers` keys) and dense (headless LlamaBiModel
 * base saved without the `model.` prefix, `base_model.model.layers` keys). Then save/reload round trips and
 * the errors for a wrong shape, a missing tensor, an unknown dtype and an unknown tensor.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { openCheckpoint, readTensor, writeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { ref } from '../../src/kernels/index.js';
import { loadAdapterModel, loadModel, saveAdapter, saveModel } from '../../src/model/checkpoint.js';
import { tempDir } from '../helpers.js';
import { assertClose, goldenBatch, goldenDir, loadGolden, realRows } from './golden.js';

const C = 64;

function copyAdapter(from: string, to: string, base: string): void {
  mkdirSync(to, { recursive: true });
  copyFileSync(join(from, 'adapter_model.safetensors'), join(to, 'adapter_model.safetensors'));
  const cfg = JSON.parse(readFileSync(join(from, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(to, 'adapter_config.json'), JSON.stringify({ ...cfg, base_model_name_or_path: base }));
}

/** The checkpoint's tensors, renamed/filtered, as a writable list (values in float32). */
function tensorsOf(dir: string, rename: (k: string) => string | null): TensorToWrite[] {
  const out: TensorToWrite[] = [];
  for (const [k, info] of openCheckpoint(dir).tensors) {
    const n = rename(k);
    if (n !== null) out.push({ name: n, shape: info.shape, data: readTensor(info), dtype: 'BF16' });
  }
  return out;
}

test('sparse release layout: adapter dir naming a ForCausalLM base loads, merges and matches PyTorch', () => {
  const g = loadGolden('llama');
  const root = tempDir();
  const base = join(root, 'Llama-tiny');
  mkdirSync(base);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(g.dir, f), join(base, f));
  const adapter = join(root, 'Lion-SP-tiny');
  copyAdapter(join(g.dir, 'adapter'), adapter, base);
  const m = loadAdapterModel(adapter, { kernels: ref });
  assert.equal(m.merged, true);
  const { batch } = goldenBatch(g);
  assertClose(realRows(m.forward(batch), batch.mask, C), g.tensor('bi_lora.hidden'), 1e-5, 'hidden');
});

test('dense release layout: headless base without the model. prefix, dense adapter keys', async () => {
  const g = loadGolden('qwen2');
  const root = tempDir();
  const base = join(root, 'Qwen2-tiny-bimodel');
  mkdirSync(base);
  copyFileSync(join(g.dir, 'config.json'), join(base, 'config.json'));
  await writeSafetensors(join(base, 'model.safetensors'),
    tensorsOf(g.dir, (k) => (k === 'lm_head.weight' ? null : k.replace(/^model\./, ''))));
  const adapter = join(root, 'Lion-DS-tiny');
  copyAdapter(join(g.dir, 'adapter'), adapter, base);
  const m = loadAdapterModel(adapter, { kernels: ref, withHead: false });
  const { batch } = goldenBatch(g);
  assertClose(realRows(m.forward(batch), batch.mask, C), g.tensor('bi_lora.hidden'), 1e-5, 'hidden');
  // base given explicitly wins over a hub id that is not a local directory
  copyAdapter(join(g.dir, 'adapter'), adapter, 'meta-llama/Llama-3.2-1B');
  assert.throws(() => loadAdapterModel(adapter, { kernels: ref, withHead: false }),
    (e) => isLionError(e) && e.code === 'E_NOT_FOUND' && /Llama-3\.2-1B/.test(e.message));
  const m2 = loadAdapterModel(adapter, { kernels: ref, withHead: false, base });
  assertClose(realRows(m2.forward(batch), batch.mask, C), g.tensor('bi_lora.hidden'), 1e-5, 'hidden (explicit base)');
});

test('save and reload: base weights (F32, BF16, sharded) and the adapter in both layouts', async () => {
  const g = loadGolden('llama');
  const { batch } = goldenBatch(g);
  const m = loadModel(g.dir, { kernels: ref, adapter: join(g.dir, 'adapter') });
  const want = realRows(Float32Array.from(m.forward(batch, { train: false })), batch.mask, C);
  const root = tempDir();
  await saveModel(m, join(root, 'f32'));
  await saveModel(m, join(root, 'bf16'), 'BF16'); // the golden weights are bf16-exact: nothing is lost
  await saveModel(m, join(root, 'shards'), { dtype: 'BF16', maxShardBytes: 100_000 });
  const shards = openCheckpoint(join(root, 'shards')).files;
  assert.equal(shards.length, 3, '128 kB embedding, then layers in ≤ 100 kB shards');
  assert.ok(shards[2]!.endsWith('model-00003-of-00003.safetensors'));
  for (const layout of ['sparse', 'dense'] as const) {
    const ad = join(root, `adapter-${layout}`);
    await saveAdapter(m, ad, { layout, baseModel: join(root, 'f32') });
    for (const b of ['f32', 'bf16', 'shards']) {
      const back = loadModel(join(root, b), { kernels: ref, adapter: ad });
      assertClose(realRows(back.forward(batch, { train: false }), batch.mask, C), want, 1e-6, `${b} + ${layout}`);
    }
  }
  const cfg = JSON.parse(readFileSync(join(root, 'f32', 'config.json'), 'utf8'));
  assert.equal(cfg.model_type, 'llama');
  assert.equal(cfg.rope_scaling.rope_type, 'llama3');
});

test('errors name the tensor and the file: wrong shape, missing tensor, unknown dtype, stray tensor, model_type', async () => {
  const root = tempDir();
  const src = join(goldenDir, 'llama');
  const make = async (name: string, edit: (t: TensorToWrite[]) => TensorToWrite[], cfgEdit: (c: Record<string, unknown>) => void = () => {}) => {
    const d = join(root, name);
    mkdirSync(d);
    const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    cfgEdit(cfg);
    writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    await writeSafetensors(join(d, 'model.safetensors'), edit(tensorsOf(src, (k) => k)));
    return d;
  };
  const file = (d: string) => join(d, 'model.safetensors');
  const wrong = await make('shape', (t) => t, (c) => { c['intermediate_size'] = 96; });
  assert.throws(() => loadModel(wrong, { kernels: ref }),
    (e) => isLionError(e) && e.code === 'E_MODEL' && /model\.layers\.0\.mlp\.gate_proj\.weight/.test(e.message) && /\[128, 64\]/.test(e.message) && e.file === file(wrong));
  const missing = await make('missing', (t) => t.filter((x) => x.name !== 'model.layers.1.self_attn.v_proj.weight'));
  assert.throws(() => loadModel(missing, { kernels: ref }),
    (e) => isLionError(e) && e.code === 'E_MODEL' && /model\.layers\.1\.self_attn\.v_proj\.weight/.test(e.message) && /missing/.test(e.message) && e.file === file(missing));
  const stray = await make('stray', (t) => [...t, { name: 'model.layers.0.self_attn.q_norm.weight', shape: [16], data: new Float32Array(16) }]);
  assert.throws(() => loadModel(stray, { kernels: ref }),
    (e) => isLionError(e) && /q_norm/.test(e.message) && e.file === file(stray));
  const inv = await make('invfreq', (t) => [...t, { name: 'model.layers.0.self_attn.rotary_emb.inv_freq', shape: [8], data: new Float32Array(8) }]);
  loadModel(inv, { kernels: ref }); // buffers old checkpoints carry are ignored
  const typed = await make('dtype', (t) => t);
  // rewrite the header of one tensor as I16 (same byte size as BF16; same header length)
  const buf = readFileSync(file(typed));
  const n = Number(buf.readBigUInt64LE(0));
  const hdr = buf.subarray(8, 8 + n).toString('utf8').replace('"model.norm.weight":{"dtype":"BF16"', '"model.norm.weight":{"dtype":"I16" ');
  writeFileSync(file(typed), Buffer.concat([buf.subarray(0, 8), Buffer.from(hdr), buf.subarray(8 + n)]));
  assert.throws(() => loadModel(typed, { kernels: ref }),
    (e) => isLionError(e) && e.code === 'E_MODEL' && /model\.norm\.weight/.test(e.message) && /I16/.test(e.message) && e.file === file(typed));
  const gpt2 = await make('type', (t) => t, (c) => { c['model_type'] = 'gpt2'; });
  assert.throws(() => loadModel(gpt2, { kernels: ref }),
    (e) => isLionError(e) && e.code === 'E_MODEL' && /gpt2/.test(e.message) && e.file === join(gpt2, 'config.json'));
});
