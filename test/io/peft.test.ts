/**
 * PEFT adapters: peft's key layouts (sparse `base_model.model.model.layers…`, dense
 * `base_model.model.layers…`) read from the golden fixtures, a write/read round trip, and the errors for
 * legacy pickled .bin adapters and LoRA variants Lion does not compute.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { peftKey, readPeftAdapter, writePeftAdapter, loraFromConfig } from '../../src/io/peft.js';
import { readSafetensorsHeader, readTensor } from '../../src/io/safetensors.js';
import { fixtures, tempDir } from '../helpers.js';

test('sparse and dense key layouts map to the same Lion names', () => {
  const sp = readPeftAdapter(join(fixtures, 'golden', 'llama', 'adapter'));
  const de = readPeftAdapter(join(fixtures, 'golden', 'qwen2', 'adapter'));
  assert.equal(sp.layout, 'sparse');
  assert.equal(de.layout, 'dense');
  const name = 'model.layers.1.mlp.down_proj.lora_B.weight';
  assert.ok(sp.tensors.has(name) && de.tensors.has(name));
  assert.equal(sp.tensors.get(name)!.name, 'base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
  assert.equal(de.tensors.get(name)!.name, 'base_model.model.layers.1.mlp.down_proj.lora_B.weight');
  assert.deepEqual(sp.lora, { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
  assert.equal(sp.tensors.size, 2 * 7 * 2);
  assert.equal(sp.baseModel, '..');
});

test('write then read: keys, config and values survive', async () => {
  const dir = tempDir();
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]), b = Float32Array.from([0.5, -1, 2, 7]);
  const lora = { r: 2, alpha: 4, dropout: 0.05, targets: ['q_proj'] as const };
  for (const layout of ['sparse', 'dense'] as const) {
    const d = join(dir, layout);
    await writePeftAdapter(d, {
      layout, baseModel: 'meta-llama/Llama-3.2-1B', lora: { ...lora, targets: [...lora.targets] },
      tensors: [
        { name: 'model.layers.0.self_attn.q_proj.lora_A.weight', value: a, shape: [2, 3] },
        { name: 'model.layers.0.self_attn.q_proj.lora_B.weight', value: b, shape: [2, 2] },
      ],
    });
    const keys = [...readSafetensorsHeader(join(d, 'adapter_model.safetensors')).tensors.keys()];
    assert.deepEqual(keys, [peftKey('model.layers.0.self_attn.q_proj.lora_A.weight', layout), peftKey('model.layers.0.self_attn.q_proj.lora_B.weight', layout)]);
    assert.equal(keys[0], layout === 'dense' ? 'base_model.model.layers.0.self_attn.q_proj.lora_A.weight' : 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    const back = readPeftAdapter(d);
    assert.equal(back.layout, layout);
    assert.equal(back.baseModel, 'meta-llama/Llama-3.2-1B');
    assert.deepEqual(back.lora, { r: 2, alpha: 4, dropout: 0.05, targets: ['q_proj'] });
    assert.deepEqual(readTensor(back.tensors.get('model.layers.0.self_attn.q_proj.lora_A.weight')!), a);
  }
});

test('a legacy (non-zip) pickled adapter_model.bin is refused with a way out; unsupported LoRA variants are errors', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 16, lora_alpha: 32, target_modules: ['q_proj'] }));
  writeFileSync(join(dir, 'adapter_model.bin'), Buffer.from([0x80, 0x02, 0x7d, 0x2e]));
  assert.throws(() => readPeftAdapter(dir), (e) => isLionError(e) && e.code === 'E_MODEL' && /pickle/.test(e.message) && /adapter_model\.bin/.test(e.message) && /safetensors/.test(e.hint));
  const f = 'adapter_config.json';
  const base = { peft_type: 'LORA', r: 16, lora_alpha: 32, target_modules: ['q_proj', 'v_proj'] };
  assert.deepEqual(loraFromConfig(base, f).targets, ['q_proj', 'v_proj']);
  assert.deepEqual(loraFromConfig({ ...base, target_modules: '.*\\.(q_proj|down_proj)' }, f).targets, ['q_proj', 'down_proj']);
  for (const [k, v] of [['use_dora', true], ['use_rslora', true], ['bias', 'all'], ['peft_type', 'IA3'], ['target_modules', ['lm_head']], ['rank_pattern', { q_proj: 8 }]] as const) {
    assert.throws(() => loraFromConfig({ ...base, [k]: v }, f), (e) => isLionError(e) && e.field === k, k);
  }
  mkdirSync(join(dir, 'empty'));
  assert.throws(() => readPeftAdapter(join(dir, 'empty')), (e) => isLionError(e) && e.code === 'E_NOT_FOUND');
});
