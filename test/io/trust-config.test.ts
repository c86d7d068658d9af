/** Issue 12: configs from files are bounded and cannot hang or crash the process. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loraFromConfig, readPeftAdapter } from '../../src/io/peft.js';
import { loadModelConfig } from '../../src/model/registry.js';
import { fixtures, tempDir } from '../helpers.js';

const base = { peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0 };

test('target_modules patterns run on a non-backtracking matcher; malformed ones are E_MODEL', () => {
  const t0 = performance.now();
  assert.throws(() => loraFromConfig({ ...base, target_modules: '(.*.*)*X' }, 'a.json'), (e: any) => e.code === 'E_MODEL' && e.field === 'target_modules');
  assert.ok(performance.now() - t0 < 1000);
  assert.throws(() => loraFromConfig({ ...base, target_modules: '(q_proj' }, 'a.json'), (e: any) => e.code === 'E_MODEL' && /missing \)/.test(e.message));
  assert.deepEqual(loraFromConfig({ ...base, target_modules: '.*\\.(q_proj|v_proj)' }, 'a.json').targets, ['q_proj', 'v_proj']);
  assert.deepEqual(loraFromConfig({ ...base, target_modules: ['q_proj', 'k_proj'] }, 'a.json').targets, ['q_proj', 'k_proj']);
  assert.throws(() => loraFromConfig({ ...base, target_modules: [null] }, 'a.json'), (e: any) => e.code === 'E_MODEL');
  assert.throws(() => loraFromConfig({ ...base, r: 1e12, target_modules: ['q_proj'] }, 'a.json'), (e: any) => e.code === 'E_MODEL');
});

test('adapter_config.json holding null (or an array) is E_FORMAT, not a TypeError', () => {
  const d = tempDir();
  for (const body of ['null', '[]', '7']) {
    writeFileSync(join(d, 'adapter_config.json'), body);
    assert.throws(() => readPeftAdapter(d), (e: any) => e.code === 'E_FORMAT' && /not a JSON object/.test(e.message));
  }
});

test('config.json sizes are bounded before allocation: a billion layers, huge dims, eps <= 0', () => {
  const src = join(fixtures, 'golden', 'llama');
  const good = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  const d = tempDir();
  const check = (over: Record<string, unknown>, field: string) => {
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...good, ...over }));
    const t0 = performance.now();
    assert.throws(() => loadModelConfig(d), (e: any) => e.code === 'E_MODEL' && e.field === field, JSON.stringify(over));
    assert.ok(performance.now() - t0 < 1000);
  };
  check({ num_hidden_layers: 1_000_000_000 }, 'num_hidden_layers');
  check({ hidden_size: 2 ** 40, num_attention_heads: 1, num_key_value_heads: 1, head_dim: 64 }, 'hidden_size');
  check({ vocab_size: 0 }, 'vocab_size');
  check({ rms_norm_eps: -1 }, 'rms_norm_eps');
  check({ rms_norm_eps: 0 }, 'rms_norm_eps');
  check({ intermediate_size: 1 << 20, num_hidden_layers: 1000, hidden_size: 8192, num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128 }, 'num_hidden_layers');
  mkdirSync(join(d, 'ok'));
  copyFileSync(join(src, 'config.json'), join(d, 'ok', 'config.json'));
  assert.ok(loadModelConfig(join(d, 'ok')).numLayers >= 1);
});
