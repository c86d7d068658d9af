/**
 * Learning-rate and regulariser schedules, as functions of the OPTIMISER step (spec §3.4, §4.1).
 *
 * - Learning rate: linear warm-up over ⌈warmupRatio · totalSteps⌉ steps, then linear decay to 0 at totalSteps
 *   (Hugging Face `get_linear_schedule_with_warmup`; optimiser step k, 0-based, uses the factor at k, so the
 *   first step of a warmed-up run has lr 0, as in the reference Trainer).
 * - FLOPS weights: λ(t) = λ · min(1, (t/T)²), T = ⌊maxSteps/3⌋, t = 1-based optimiser step.
 *   Difference from the reference code: there `t` counts micro-batches (`training_step` calls) while T counts
 *   optimiser steps, so with gradient accumulation A the ramp ends after T/A optimiser steps instead of T. Lion
 *   counts optimiser steps on both sides, which is what "the first third of training" means; with A = 1 (all 1B
 *   runs) the two agree exactly.
 */

/** Number of warm-up steps: ⌈ratio · total⌉ (transformers' `get_warmup_steps`). */
export function warmupSteps(totalSteps: number, warmupRatio: number): number {
  return Math.ceil(warmupRatio * totalSteps);
}

/** Learning rate at 0-based optimiser step `step`. @example lrAt(0, 1000, 1e-4, 0.04) === 0 */
export function lrAt(step: number, totalSteps: number, peakLr: number, warmupRatio: number): number {
  const warm = warmupSteps(totalSteps, warmupRatio);
  if (step < warm) return (peakLr * step) / Math.max(1, warm);
  return peakLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warm));
}

/** FLOPS ramp length T = ⌊maxSteps/3⌋ optimiser steps. */
export function flopsRampSteps(maxSteps: number): number {
  return Math.floor(maxSteps / 3);
}

/** λ(t) = λ·min(1, (t/T)²) at 1-based optimiser step t; T ≤ 0 means no ramp. */
export function flopsWeight(lambda: number, step: number, rampSteps: number): number {
  if (rampSteps <= 0 || step >= rampSteps) return lambda;
  const f = step / rampSteps;
  return lambda * f * f;
}
