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
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaModel } from '../model/llama.js';
import { describePrecision, type PrecisionRecord } from '../model/precision.js';
import { replaceDirSync, tempName, writeFileAtomic, writeFileAtomicSync } from '../util/atomic.js';
import { Progress, progressEnabled } from '../util/progress.js';
import { curvesSvg, logSeries, type BestTracker } from './validate.js';
import { adamwStep, clipGradNorm, type AdamWConfig, type AdamWState } from './optimizer.js';
import { Rng } from '../util/rng.js';
import { lrAt } from './schedule.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type WeightsForm } from './state.js';
import { checkResumeSettings, lockRunFolder, loggedLosses } from './run-folder.js';

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
  /** Resume even if the checkpoint was made under other settings (default: `config.forceResume`). */
  forceResume?: boolean;
  /** Dev-set evaluation every `every` steps with early stopping and a best checkpoint (validate.ts). */
  validation?: LoopValidation;
  /** Show the progress bar even when stderr is not a terminal (`--progress`). */
  progress?: boolean;
}

/** The loop's validation hook: what to measure, how often, and how to save the best weights. */
export interface LoopValidation {
  every: number;
  /** Metric key (as `evaluate` returns it) that picks the best checkpoint; higher is better. */
  measure: string;
  /** Stop after this many evaluations without a gain (0: never). */
  patience: number;
  evaluate(step: number): Promise<Record<string, number>>;
  /** Write the current weights, loadable as the final output is, into `dir`. */
  saveBest(dir: string): Promise<void>;
}

export interface LoopSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  resumedFrom?: number;
  /** The folder held a finished run: nothing was trained (losses come from its log). */
  finished?: boolean;
  /** With validation: the best dev value, its step, and the step training stopped early at (if it did). */
  best?: { step: number; value: number; measure: string };
  stoppedEarly?: number;
}

const DROPOUT = 0xd0;

function keptLog(path: string, upTo: number): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => {
    try { return (JSON.parse(l) as { step: number }).step <= upTo; } catch { return false; }
  });
}

/** Run (or resume) the loop to `totalSteps`; the run holds its folder's lock (src/train/run-folder.ts) meanwhile. */
export async function runLoop(o: LoopOptions): Promise<LoopSummary> {
  mkdirSync(o.output, { recursive: true });
  const release = lockRunFolder(o.output);
  try { return await runLocked(o); } finally { release(); }
}

async function runLocked(o: LoopOptions): Promise<LoopSummary> {
  const { model } = o;
  const previous = o.resume ? latestCheckpoint(o.output) : undefined;
  if (previous) {
    let state: { step?: unknown; config?: Record<string, unknown> } = {};
    try { state = JSON.parse(readFileSync(join(previous, 'trainer_state.json'), 'utf8')) as typeof state; } catch { /* loadCheckpoint reports it */ }
    checkResumeSettings(o.output, state.config, o.config, o.forceResume ?? o.config['forceResume'] === true);
    if (typeof state.step === 'number' && state.step >= o.totalSteps) {
      loadCheckpoint(previous, model, o.form);
      const { first, last } = loggedLosses(o.output);
      process.stderr.write(`${o.label}: ${o.output} already holds the finished run (step ${state.step} of ${o.totalSteps}); nothing to do\n`);
      return { steps: o.totalSteps, firstLoss: first, lastLoss: last, resumedFrom: state.step, finished: true };
    }
  }
  await writeFileAtomic(join(o.output, 'run_config.json'), `${JSON.stringify(o.config, null, 2)}\n`);
  let start = 0;
  let resumedFrom: number | undefined;
  const ckpt = o.resume ? latestCheckpoint(o.output) : undefined;
  if (ckpt) { start = loadCheckpoint(ckpt, model, o.form).step; resumedFrom = start; }
  const logPath = join(o.output, 'train_log.jsonl');
  const kept = keptLog(logPath, start);
  writeFileAtomicSync(logPath, kept.length ? `${kept.join('\n')}\n` : '');

  const extra = o.form.extra;
  const params = [...model.trainableParams(), ...(extra?.params ?? [])];
  const adam: AdamWState = { step: start, m: new Map(extra?.m), v: new Map(extra?.v) };
  for (const p of model.trainableParams()) { const mv = model.moments(p.name); adam.m.set(p.name, mv.m); adam.v.set(p.name, mv.v); }
  if (o.precision) process.stderr.write(`${o.label}: ${describePrecision(o.precision)}${model.recompute ? ', recompute' : ''}\n`);
  const prec = o.precision ? { dtype: o.precision.dtype, precision: o.precision.precision, isa: o.precision.isa } : {};
  const progress = new Progress(o.label, o.totalSteps, 'steps', o.progress);
  progress.tick(start);
  const v = o.validation;
  const evalPath = join(o.output, 'eval_log.jsonl');
  const tracker: BestTracker = { best: -Infinity, bestStep: 0, bad: 0 };
  let stoppedEarly: number | undefined;
  if (v) {
    // Resume: the evaluations up to the checkpoint decide the best so far and the patience left.
    const keptEval = keptLog(evalPath, start);
    writeFileAtomicSync(evalPath, keptEval.length ? `${keptEval.join('\n')}\n` : '');
    for (const l of keptEval) {
      const j = JSON.parse(l) as Record<string, number>;
      if (j[v.measure]! > tracker.best) { tracker.best = j[v.measure]!; tracker.bestStep = j.step!; tracker.bad = 0; } else tracker.bad++;
    }
    if (v.patience > 0 && tracker.bad >= v.patience) stoppedEarly = start;
  }
  const validateAt = async (step: number, loss: number): Promise<boolean> => {
    const m = await v!.evaluate(step);
    const value = m[v!.measure];
    if (value === undefined) throw new Error(`validation returned no '${v!.measure}'`);
    const improved = value > tracker.best;
    if (improved) {
      tracker.best = value; tracker.bestStep = step; tracker.bad = 0;
      const best = join(o.output, 'best');
      const tmp = tempName(best);
      try {
        await v!.saveBest(tmp);
        await writeFileAtomic(join(tmp, 'best.json'), `${JSON.stringify({ step, measure: v!.measure, ...m }, null, 2)}\n`);
        replaceDirSync(tmp, best);
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        throw e;
      }
    } else tracker.bad++;
    appendFileSync(evalPath, `${JSON.stringify({ step, ...m, best: tracker.best, bestStep: tracker.bestStep })}\n`);
    await writeFileAtomic(join(o.output, 'curves.svg'), curvesSvg(logSeries(logPath, 'loss'), logSeries(evalPath, v!.measure), v!.measure, tracker.bestStep));
    progress.setNote(`loss ${loss.toFixed(4)} dev ${v!.measure} ${value.toFixed(4)} (best ${tracker.best.toFixed(4)} @${tracker.bestStep})`);
    if (!progressEnabled(o.progress)) return v!.patience > 0 && tracker.bad >= v!.patience;
    process.stderr.write(`${progress.line()}\n`);
    return v!.patience > 0 && tracker.bad >= v!.patience;
  };
  let firstLoss = NaN, lastLoss = NaN;
  let window: Record<string, number>[] = [];
  let t0 = Date.now(), items = 0, tokens = 0;
  for (let step = start; step < o.totalSteps && stoppedEarly === undefined; step++) {
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
    const evalNow = v !== undefined && v.every > 0 && ((step + 1) % v.every === 0 || step + 1 === o.totalSteps);
    const stop = evalNow ? await validateAt(step + 1, stats['loss'] ?? NaN) : false;
    if (stop) stoppedEarly = step + 1;
    if ((step + 1) % o.saveEvery === 0 || step + 1 === o.totalSteps || stop) {
      await saveCheckpoint(o.output, model, { step: step + 1, config: o.config }, o.form);
    }
    if (!evalNow && stats['loss'] !== undefined) progress.setNote(`loss ${stats['loss'].toFixed(4)}${v && tracker.bestStep ? ` (dev best ${tracker.best.toFixed(4)} @${tracker.bestStep})` : ''}`);
    progress.tick();
    o.onStep?.(step + 1, stats);
  }
  progress.finish();
  if (v && !existsSync(join(o.output, 'curves.svg'))) {
    await writeFileAtomic(join(o.output, 'curves.svg'), curvesSvg(logSeries(logPath, 'loss'), logSeries(evalPath, v.measure), v.measure, tracker.bestStep || undefined));
  }
  return {
    steps: stoppedEarly ?? o.totalSteps, firstLoss, lastLoss, resumedFrom,
    ...(v && tracker.bestStep ? { best: { step: tracker.bestStep, value: tracker.best, measure: v.measure } } : {}),
    ...(stoppedEarly !== undefined ? { stoppedEarly } : {}),
  };
}
