/**
 * Random initialisation of a model trained from scratch (the shipped demonstration models), as Hugging Face
 * LlamaPreTrainedModel._init_weights does: every linear and embedding weight ~ N(0, initializer_range = 0.02),
 * biases 0, RMSNorm weights 1. LoRA tensors are left as the model initialised them (peft's init).
 */
import { UsageError } from '../errors.js';
import type { LlamaModel } from '../model/llama.js';
import { Rng } from '../util/rng.js';

/** Overwrite the base weights of `model` with a seeded random initialisation. */
export function initWeights(model: LlamaModel, seed: number, std = 0.02): void {
  if (model.dtype !== 'fp32') throw new UsageError(`a model is initialised in fp32 (this one holds its weights in ${model.dtype})`, { field: 'dtype' });
  const rng = Rng.derive(seed, 0x1417);
  for (const p of model.parameters()) {
    if (p.name.includes('lora_')) continue;
    if (p.name.endsWith('norm.weight')) p.value.fill(1);
    else if (p.name.endsWith('.bias')) p.value.fill(0);
    else for (let i = 0; i < p.value.length; i++) p.value[i] = std * rng.normal();
  }
}
