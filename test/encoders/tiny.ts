/** A tiny random bidirectional Llama for encoder and trainer tests (ref kernels, a few thousand weights). */
import { ref } from '../../src/kernels/ref/index.js';
import { LlamaModel, type ModelOptions } from '../../src/model/llama.js';
import type { ModelConfig } from '../../src/model/registry.js';
import { initWeights } from '../../src/train/init.js';

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    modelType: 'llama', vocabSize: 61, hiddenSize: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 4,
    intermediateSize: 24, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 128,
    tieWordEmbeddings: true, qkvBias: false, oBias: false, mlpBias: false, bosTokenId: 1, eosTokenId: 2, ...over,
  };
}

export function tinyModel(opts: ModelOptions = {}, seed = 5, over: Partial<ModelConfig> = {}): LlamaModel {
  const m = new LlamaModel(tinyConfig(over), { kernels: ref, ...opts });
  initWeights(m, seed, 0.3);
  return m;
}
