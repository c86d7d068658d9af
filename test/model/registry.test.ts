/**
 * The registry: config.json normalisation for llama and qwen2 (defaults, head_dim, biases, Llama-3
 * rope_scaling), the weight list per config, and errors for unknown or unsupported configs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { checkpointKeys, loadModelConfig, normaliseConfig, parameterSpecs } from '../../src/model/registry.js';
import { goldenDir } from './golden.js';

const llama32_1b = {
  model_type: 'llama', vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
  num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, rms_norm_eps: 1e-5, rope_theta: 500000,
  max_position_embeddings: 131072, tie_word_embeddings: true, bos_token_id: 128000, eos_token_id: 128001,
  rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
};

test('Llama-3.2-1B config: sizes, GQA, tied head, llama3 rope scaling; 1.24B parameters', () => {
  const c = normaliseConfig({ file: 'config.json', raw: llama32_1b });
  assert.equal(c.headDim, 64);
  assert.equal(c.numKvHeads, 8);
  assert.equal(c.tieWordEmbeddings, true);
  assert.equal(c.qkvBias, false);
  assert.deepEqual(c.ropeScaling, { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  const specs = parameterSpecs(c);
  const n = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  assert.equal(n, 1_235_814_400);
  assert.ok(!specs.some((s) => s.name === 'lm_head.weight'));
  assert.equal(specs.length, 1 + 16 * 9 + 1);
});

test('Qwen2: q/k/v biases and no o_proj bias; head_dim derived; untied head listed', () => {
  const c = loadModelConfig(join(goldenDir, 'qwen2'));
  assert.equal(c.modelType, 'qwen2');
  assert.equal(c.headDim, 16);
  assert.equal(c.qkvBias, true);
  assert.equal(c.oBias, false);
  assert.equal(c.rmsNormEps, 1e-6);
  const names = parameterSpecs(c).map((s) => s.name);
  assert.ok(names.includes('model.layers.1.self_attn.k_proj.bias'));
  assert.ok(!names.includes('model.layers.1.self_attn.o_proj.bias'));
  assert.equal(names.at(-1), 'lm_head.weight');
  assert.ok(!parameterSpecs(c, false).some((s) => s.name === 'lm_head.weight'));
  assert.deepEqual(checkpointKeys('model.norm.weight'), ['model.norm.weight', 'norm.weight']);
});

test('unknown model_type, unsupported features and bad fields are ModelErrors naming the field', () => {
  const bad = (raw: Record<string, unknown>, field: string) => assert.throws(() => normaliseConfig({ file: '/m/config.json', raw }),
    (e) => isLionError(e) && e.code === 'E_MODEL' && e.field === field && e.file === '/m/config.json', field);
  bad({ ...llama32_1b, model_type: 'gpt2' }, 'model_type');
  bad({ ...llama32_1b, model_type: undefined }, 'model_type');
  bad({ ...llama32_1b, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'rope_scaling');
  bad({ ...llama32_1b, hidden_act: 'gelu' }, 'hidden_act');
  bad({ ...llama32_1b, num_key_value_heads: 5 }, 'num_key_value_heads');
  bad({ ...llama32_1b, hidden_size: '2048' }, 'hidden_size');
  bad({ ...llama32_1b, model_type: 'qwen2', use_sliding_window: true }, 'use_sliding_window');
});
