/**
 * LoRA hyperparameters as peft's `adapter_config.json` states them (`r`, `lora_alpha`, `lora_dropout`,
 * `target_modules`): the config type, its target names and its checks. The file format lives beside it in
 * src/io/peft.ts; the arithmetic (initialisation, merging, dropout) in src/model/lora.ts.
 */
import { UsageError } from '../errors.js';

/** Linear layers LoRA can adapt, by peft's `target_modules` names. */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** LoRA hyperparameters (peft's `r`, `lora_alpha`, `lora_dropout`, `target_modules`). */
export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  targets: readonly LoraTarget[];
}

/** The scale s = alpha / r applied to B·A. */
export function loraScale(c: LoraConfig): number {
  return c.alpha / c.r;
}

/** Checks a LoRA config (rank ≥ 1, dropout in [0, 1), known targets). */
export function validateLora(c: LoraConfig, where = 'LoRA config'): void {
  if (!Number.isInteger(c.r) || c.r < 1) throw new UsageError(`${where}: r must be a positive integer (got ${c.r})`, { field: 'r' });
  if (!(c.alpha > 0)) throw new UsageError(`${where}: alpha must be positive (got ${c.alpha})`, { field: 'lora_alpha' });
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new UsageError(`${where}: dropout must be in [0, 1) (got ${c.dropout})`, { field: 'lora_dropout' });
  for (const t of c.targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) {
      throw new UsageError(`${where}: target module "${t}" is not one of ${LORA_TARGETS.join(', ')}`, { field: 'target_modules' });
    }
  }
}
