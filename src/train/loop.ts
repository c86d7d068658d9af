/**
 * The optimisation loop both trainers (retrieval fine-tuning, MNTP) share: resume from the output directory's
 * last checkpoint, then per optimiser step zero the gradients, let the trainer accumulate them over its
 * micro-batches, clip the global norm, step AdamW at the scheduled learning rate, log, checkpoint.
 *
 * Log (`train_log.jsonl`): one JSON line every `logEvery` steps (and at the last step) with the mean of each
 * statistic over those steps (`epoch`: the last step's), `step`, `lr`, the gradient norm before clipping, items (queries or blocks) and
 * tokens per second. A resumed run first drops log lines after its checkpoint, so the file reads as one run.
 * Parameters outside the model (`form.extra`, e.g. a score head) are clipped, stepped and checkpointed with it.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaModel } from '../model/llama.js';
import { describePrecision, type PrecisionRecord } from '../model/precision.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { adamwStep, clipGradNorm, type AdamWConfig, type AdamWState } from './optimizer.js';
import { Rng } from './rng.js';
import { lrAt } from './schedule.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type WeightsForm } from './state.js';

/** What one optimiser step's micro-batches report. */
export interface StepResult {
  /** Statistics averaged into the log (loss terms, FLOPS, non-zeros, ...). */
  stats: Record<string, number>;
  /** Work done, for throughput. */
  items: number;
  tokens: number;
}

export interface LoopOptions {
  model: LlamaModel;
  output: string;
  totalSteps: number;
  lr: number;
  warmupRatio: number;
  maxGradNorm: number;
  adamw: AdamWConfig;
  logEvery: number;
  saveEvery: number;
  form: WeightsForm;
  /** The resolved configuration, recorded as run_config.json and in every checkpoint. */
  config: Record<string, unknown>;
  resume: boolean;
  /** Run seed; LoRA dropout of step t draws from a stream derived from (seed, t), so resuming needs no RNG state. */
  seed: number;
  label: string;
  /** What the run computes with (dtype, precision, kernel path): printed once and recorded in every log line. */
  precision?: PrecisionRecord;
  /** Accumulate the gradients of 0-based optimiser step `step`; the loop has zeroed them. */
  step(step: number): StepResult;
  onStep?: (step: number, stats: Record<string, number>) => void;
}

export interface LoopSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  resumedFrom?: number;
}

const DROPOUT = 0xd0;

function keptLog(path: string, upTo: number): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => {
    try { return (JSON.parse(l) as { step: number }).step <= upTo; } catch { return false; }
  });
}

/** Run (or resume) the loop to `totalSteps`. */
export async function runLoop(o: LoopOptions): Promise<LoopSummary> {
  const { model } = o;
  mkdirSync(o.output, { recursive: true });
  await writeFileAtomic(join(o.output, 'run_config.json'), `${JSON.stringify(o.config, null, 2)}\n`);
  let start = 0;
  let resumedFrom: number | undefined;
  const ckpt = o.resume ? latestCheckpoint(o.output) : undefined;
  if (ckpt) { start = loadCheckpoint(ckpt, model, o.form).step; resumedFrom = start; }
  const logPath = join(o.output, 'train_log.jsonl');
  const kept = keptLog(logPath, start);
  writeFileSync(logPath, kept.length ? `${kept.join('\n')}\n` : '');

  const extra = o.form.extra;
  const params = [...model.trainableParams(), ...(extra?.params ?? [])];
  const adam: AdamWState = { step: start, m: new Map(extra?.m), v: new Map(extra?.v) };
  for (const p of model.trainableParams()) { const mv = model.moments(p.name); adam.m.set(p.name, mv.m); adam.v.set(p.name, mv.v); }
  if (o.precision) process.stderr.write(`${o.label}: ${describePrecision(o.precision)}${model.recompute ? ', recompute' : ''}\n`);
  const prec = o.precision ? { dtype: o.precision.dtype, precision: o.precision.precision, isa: o.precision.isa } : {};
  const progress = new Progress(o.label, o.totalSteps, 'steps');
  progress.tick(start);
  let firstLoss = NaN, lastLoss = NaN;
  let window: Record<string, number>[] = [];
  let t0 = Date.now(), items = 0, tokens = 0;
  for (let step = start; step < o.totalSteps; step++) {
    model.zeroGrad();
    model.reseedDropout(Rng.derive(o.seed, DROPOUT, step).u32());
    for (const p of extra?.params ?? []) p.grad.fill(0);
    const r = o.step(step);
    items += r.items;
    tokens += r.tokens;
    const gradNorm = clipGradNorm(params, o.maxGradNorm);
    const lr = lrAt(step, o.totalSteps, o.lr, o.warmupRatio);
    adamwStep(params, adam, lr, o.adamw);
    const stats: Record<string, number> = { ...r.stats, lr, gradNorm };
    if (step === start) firstLoss = stats['loss'] ?? NaN;
    lastLoss = stats['loss'] ?? NaN;
    window.push(stats);
    if ((step + 1) % o.logEvery === 0 || step + 1 === o.totalSteps) {
      const secs = Math.max((Date.now() - t0) / 1000, 1e-9);
      const mean: Record<string, number> = {};
      for (const k of Object.keys(stats)) mean[k] = k === 'epoch' ? stats[k]! : window.reduce((s, x) => s + (x[k] ?? 0), 0) / window.length;
      appendFileSync(logPath, `${JSON.stringify({ step: step + 1, ...mean, lr, itemsPerSec: items / secs, tokensPerSec: tokens / secs, ...prec })}\n`);
      window = []; t0 = Date.now(); items = 0; tokens = 0;
    }
    if ((step + 1) % o.saveEvery === 0 || step + 1 === o.totalSteps) {
      await saveCheckpoint(o.output, model, { step: step + 1, config: o.config }, o.form);
    }
    progress.tick();
    o.onStep?.(step + 1, stats);
  }
  progress.finish();
  return { steps: o.totalSteps, firstLoss, lastLoss, resumedFrom };
}
