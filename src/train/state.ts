/**
 * Training checkpoints: everything a killed run needs to continue the same loss curve.
 *
 * Layout under the output directory:
 *   checkpoint-<step>/            one complete checkpoint, written before it is published
 *     adapter_config.json + adapter_model.safetensors   (LoRA: a PEFT adapter)  or
 *     config.json + model.safetensors                   (full fine-tuning / from scratch)
 *     optimizer.safetensors       AdamW moments, keys `m:<param>` and `v:<param>` (float32)
 *     trainer_state.json          {step, config}
 *   latest.json                   {"checkpoint": "checkpoint-<step>", "step": n}, replaced atomically
 * A checkpoint becomes current only when latest.json (written through src/util/atomic.ts) names it, after all
 * its files are complete; older checkpoints are deleted afterwards. A kill at any moment leaves latest.json
 * naming a complete checkpoint (or no latest.json, and the run starts over).
 */
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactError, UsageError } from '../errors.js';
import { openCheckpoint, readTensorInto, writeSafetensors } from '../io/safetensors.js';
import { readPeftAdapter } from '../io/peft.js';
import { loadAdapterInto, saveAdapter, saveModel } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import type { AdapterLayout } from '../io/peft.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Param } from './optimizer.js';

/** Saved with every checkpoint; `config` is the run's resolved configuration. */
export interface TrainerState {
  /** Optimiser steps completed. */
  step: number;
  config: Record<string, unknown>;
}

/** Where the model weights of a checkpoint live and in which form. */
export interface WeightsForm {
  /** LoRA: save only the adapter, in this key layout, naming this base. Absent: save the full model. */
  adapter?: { layout: AdapterLayout; baseModel: string };
  /** Trained tensors outside the model (the reranker's score head), saved with their AdamW moments. */
  extra?: { params: Param[]; m: Map<string, Float32Array>; v: Map<string, Float32Array> };
}

/** Write checkpoint `step` and publish it; returns its directory. */
export async function saveCheckpoint(out: string, model: LlamaModel, state: TrainerState, form: WeightsForm): Promise<string> {
  const name = `checkpoint-${state.step}`;
  const dir = join(out, name);
  await fsp.rm(dir, { recursive: true, force: true });
  if (form.adapter) await saveAdapter(model, dir, form.adapter);
  else await saveModel(model, dir);
  const moments = model.trainableParams().flatMap((p) => {
    const { m, v } = model.moments(p.name);
    const shape = [p.value.length];
    return [{ name: `m:${p.name}`, shape, data: m }, { name: `v:${p.name}`, shape, data: v }];
  });
  for (const p of form.extra?.params ?? []) {
    const shape = [p.value.length];
    moments.push({ name: `extra:${p.name}`, shape, data: p.value }, { name: `m:${p.name}`, shape, data: form.extra!.m.get(p.name)! },
      { name: `v:${p.name}`, shape, data: form.extra!.v.get(p.name)! });
  }
  await writeSafetensors(join(dir, 'optimizer.safetensors'), moments);
  await writeFileAtomic(join(dir, 'trainer_state.json'), `${JSON.stringify(state, null, 2)}\n`);
  await writeFileAtomic(join(out, 'latest.json'), `${JSON.stringify({ checkpoint: name, step: state.step })}\n`);
  for (const e of await fsp.readdir(out)) {
    if (e.startsWith('checkpoint-') && e !== name) await fsp.rm(join(out, e), { recursive: true, force: true });
  }
  return dir;
}

/** The published checkpoint directory of `out`, or undefined when there is none. */
export function latestCheckpoint(out: string): string | undefined {
  const p = join(out, 'latest.json');
  if (!existsSync(p)) return undefined;
  let name: unknown;
  try { name = (JSON.parse(readFileSync(p, 'utf8')) as { checkpoint?: unknown }).checkpoint; } catch { name = undefined; }
  if (typeof name !== 'string' || !existsSync(join(out, name, 'trainer_state.json'))) {
    throw new ArtifactError('latest.json does not name a complete checkpoint', { file: p, hint: 'remove the output directory or pass a fresh --output' });
  }
  return join(out, name);
}

/**
 * A run resumes exactly only in the precision and base dtype it was started with (checkpoints from before
 * precisions were recorded are fp32); anything else is refused rather than silently continued differently.
 */
function checkPrecision(state: TrainerState, model: LlamaModel, dir: string): void {
  const saved = { precision: String(state.config['precision'] ?? 'fp32'), dtype: String(state.config['dtype'] ?? 'fp32') };
  for (const key of ['precision', 'dtype'] as const) {
    if (saved[key] !== model[key]) {
      throw new UsageError(`the checkpoint was trained with ${key} ${saved[key]}, this run uses ${model[key]}; a run resumes only in its own precision`, {
        file: join(dir, 'trainer_state.json'), field: key,
        hint: key === 'precision' ? `pass --precision ${saved[key]} to resume it, or --no-resume (or a fresh --out) to start over` : 'resume with the settings the run started with, or start over with --no-resume',
      });
    }
  }
}

/** Load weights and AdamW moments of checkpoint `dir` into `model` (and `form.extra`); returns its state. */
export function loadCheckpoint(dir: string, model: LlamaModel, form: WeightsForm): TrainerState {
  const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as TrainerState;
  checkPrecision(state, model, dir);
  if (form.adapter) {
    loadAdapterInto(model, readPeftAdapter(dir));
  } else {
    const ckpt = openCheckpoint(dir);
    for (const p of model.parameters()) {
      const info = ckpt.tensors.get(p.name);
      if (!info) throw new ArtifactError(`checkpoint lacks tensor ${p.name}`, { file: dir, field: p.name });
      readTensorInto(info, p.value);
    }
  }
  const opt = openCheckpoint(join(dir, 'optimizer.safetensors'));
  for (const p of model.trainableParams()) {
    const { m, v } = model.moments(p.name);
    const im = opt.tensors.get(`m:${p.name}`), iv = opt.tensors.get(`v:${p.name}`);
    if (!im || !iv) throw new ArtifactError(`optimizer state lacks the moments of ${p.name}`, { file: join(dir, 'optimizer.safetensors'), field: p.name });
    readTensorInto(im, m);
    readTensorInto(iv, v);
  }
  for (const p of form.extra?.params ?? []) {
    for (const [key, dst] of [[`extra:${p.name}`, p.value], [`m:${p.name}`, form.extra!.m.get(p.name)!], [`v:${p.name}`, form.extra!.v.get(p.name)!]] as const) {
      const info = opt.tensors.get(key);
      if (!info) throw new ArtifactError(`checkpoint lacks ${key}`, { file: join(dir, 'optimizer.safetensors'), field: key });
      readTensorInto(info, dst);
    }
  }
  return state;
}
