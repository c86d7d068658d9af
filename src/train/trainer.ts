/**
 * Retrieval fine-tuning (spec §3–§4): sparse or dense, CL / KD / CL+KD, LoRA on a frozen base (continuing an
 * existing adapter such as the MNTP one, or a fresh r16/α32/p0.05 adapter) or full fine-tuning.
 *
 * One optimiser step = `gradAccum` micro-batches. A micro-batch runs its B queries and its B·(1+n) contexts
 * (rows [positives, negatives]) through the trunk as two padded batches in two activation slots, computes the
 * loss and its gradient w.r.t. both sets of reps (weighted 1/A), and backpropagates each through head and trunk.
 * Then: clip the global gradient norm to 1.0, AdamW at the scheduled learning rate (linear warm-up 4 %, linear
 * decay), FLOPS weights ramped by optimiser step (schedule.ts documents the difference from the reference).
 *
 * Reproducibility: batches and negatives are pure functions of (seed, micro-batch index) (batching.ts); LoRA
 * init and dropout come from the model's seeded generators, saved in checkpoints (state.ts). A killed run
 * restarted with the same command continues from its last checkpoint and produces the same loss curve.
 *
 * Output directory: config.json of the run (`run_config.json`), `train_log.jsonl` (one line every `logEvery`
 * steps: loss terms, FLOPS, mean non-zeros, lr, grad norm, throughput), `checkpoint-<step>/` + `latest.json`,
 * and at the end the trained adapter (PEFT) or model (safetensors) with the tokenizer files.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import { tokenBatch, type EncoderTokenizer } from '../encoders/batch.js';
import type { Encoder } from '../encoders/contract.js';
import type { Paradigm } from '../encoders/encode.js';
import { encoderFor } from '../encoders/registry.js';
import type { TrainingExample } from '../io/training.js';
import type { Kernels } from '../kernels/types.js';
import { loadModel, saveAdapter, saveModel } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import { LORA_TARGETS, type LoraConfig } from '../io/lora-config.js';
import { parsePrecision, precisionRecord, trainingDtype, type Precision, type WeightDtype } from '../model/precision.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import {
  loadPassageTokens, loadTrainingSet, microBatch, microBatchesPerEpoch, negativesFor, referencedIds, type BatchPlan, type TrainBatch,
} from './batching.js';
import { meanNonZeros, retrievalLoss, type Objective, type RetrievalLossTerms } from './losses.js';
import { runLoop, type LoopSummary, type LoopValidation } from './loop.js';
import { evaluateModel, loadValidationSet } from './validate.js';
import { flopsRampSteps, flopsWeight } from './schedule.js';
import type { WeightsForm } from './state.js';

type Widen<T> = T extends number ? number : T extends string ? string : T extends boolean ? boolean : T;
type TrainDefaults = { -readonly [K in keyof typeof DEFAULTS.train]: Widen<(typeof DEFAULTS.train)[K]> };

/** Options of `trainRetriever`; every numeric field defaults to DEFAULTS.train (the paper's setting). */
export interface RetrievalTrainOptions extends Partial<TrainDefaults> {
  /** The head type: 'sparse', 'dense', or another registered with `registerEncoder`. */
  paradigm: Paradigm;
  objective: Objective;
  /** Base model directory (Hugging Face layout). */
  model: string;
  /** Continue training this PEFT adapter (e.g. the MNTP one, as the paper does). */
  adapter?: string;
  /** Full fine-tuning instead of LoRA. */
  full?: boolean;
  trainFile: string;
  corpus: string;
  output: string;
  /** Default: the tokenizer.json of `model`. */
  tokenizer?: EncoderTokenizer;
  /** Optimiser steps; default ⌊epochs · micro-batches per epoch / gradAccum⌋. */
  maxSteps?: number;
  /** Continue from the output directory's last checkpoint when there is one (default true). */
  resume?: boolean;
  /** Resume under changed settings (refused by default, naming the differences). */
  forceResume?: boolean;
  kernels?: Kernels;
  /** Matmul precision: fp32 (default) or bf16 (bf16 products on fp32 master weights; src/model/precision.ts). */
  precision?: Precision;
  /** Recompute each layer's activations in backward instead of keeping them (less memory, same results). */
  recompute?: boolean;
  /** Storage of the frozen base (default: bf16 for LoRA at bf16 precision, else fp32; see `trainingDtype`). */
  dtype?: WeightDtype;
  /** Called after every optimiser step (after its checkpoint, if any) with the step's statistics. */
  onStep?: (step: number, stats: Record<string, number>) => void;
  /** Validation during training (validate.ts): dev queries, their qrels and the corpus to search. */
  evalQueries?: string;
  evalQrels?: string;
  evalCorpus?: string;
  /** Evaluate every N optimiser steps (and at the last); default: 10 evaluations per run. */
  evalEvery?: number;
  /** Stop after this many evaluations without a gain in `evalMeasure` (0: never). */
  earlyStop?: number;
  /** Metric choosing the best checkpoint: ndcg_cut_10, recip_rank_10 or recall_100 (default ndcg_cut_10). */
  evalMeasure?: string;
  /** Show progress (loss, dev metric) even when stderr is not a terminal. */
  progress?: boolean;
  /**
   * Multiplier of query·document scores inside the losses; default the head's (sparse 1, dense 1/τ). A sparse
   * model whose scores are large (a lexical start scores sums of IDF, 10–50) saturates InfoNCE at scale 1.
   */
  scoreScale?: number;
  /** Parameters kept fixed: those whose names contain one of these strings (`ModelOptions.freeze`). */
  freeze?: string[];
}

/** A finished (or resumed and finished) run. */
export interface TrainSummary extends LoopSummary {
  output: string;
}

export type Resolved = Omit<RetrievalTrainOptions, keyof TrainDefaults | 'tokenizer'> & TrainDefaults & { tokenizer: EncoderTokenizer };

function resolveOptions(o: RetrievalTrainOptions): Resolved {
  const r = { ...DEFAULTS.train, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as Resolved;
  encoderFor(r.paradigm); // a registered head type, or a UsageError naming those there are
  if (!['cl', 'kd', 'cl+kd'].includes(r.objective)) throw new UsageError(`--objective must be cl, kd or cl+kd, got '${r.objective}'`);
  for (const k of ['batchSize', 'gradAccum', 'queryMaxLength', 'docMaxLength', 'logEvery', 'saveEvery'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new UsageError(`${k} must be a positive integer, got ${r[k]}`, { field: k });
  }
  r.precision = parsePrecision(r.precision ?? DEFAULTS.precision.train);
  r.recompute ??= DEFAULTS.precision.recompute;
  if (r.full && r.adapter) throw new UsageError('--full trains every weight; it cannot also continue an adapter (--adapter)');
  for (const [what, p] of [['model', r.model], ['training file', r.trainFile], ['corpus', r.corpus]] as const) {
    if (!existsSync(p)) throw new UsageError(`${what} not found: ${p}`, { file: p });
  }
  if (r.scoreScale !== undefined && !(r.scoreScale > 0 && Number.isFinite(r.scoreScale))) throw new UsageError(`--score-scale must be a positive number, got ${r.scoreScale}`, { field: 'score-scale' });
  r.tokenizer ??= loadTokenizer(r.model);
  return r;
}

/** Build the model to train: base (+ adapter to continue | + fresh LoRA | all weights trainable). */
export function buildModel(r: Resolved): LlamaModel {
  const withHead = encoderFor(r.paradigm).needsLmHead;
  const precision = r.precision ?? 'fp32';
  const common = {
    withHead, kernels: r.kernels, seed: r.seed, bidirectional: true, precision, recompute: r.recompute, freeze: r.freeze,
    dtype: trainingDtype(precision, Boolean(r.full), r.dtype),
  };
  if (r.full) return loadModel(r.model, { ...common, trainable: 'all' });
  if (r.adapter) return loadModel(r.model, { ...common, adapter: r.adapter, trainable: 'lora' });
  const lora: LoraConfig = { r: r.loraR, alpha: r.loraAlpha, dropout: r.loraDropout, targets: LORA_TARGETS };
  return loadModel(r.model, { ...common, lora, trainable: 'lora' }); // a fresh adapter on the base
}

/** Everything loaded and checked before the first step. */
export interface Prepared {
  r: Resolved;
  /** The head type trained (from `r.paradigm`). */
  head: Encoder;
  examples: TrainingExample[];
  plan: BatchPlan;
  totalSteps: number;
  tokens: (text: string) => number[];
  passages: Map<string, Int32Array>;
}

/** Load and validate data (all errors about files, formats and combinations surface here). */
export async function prepareRetrievalTraining(o: RetrievalTrainOptions): Promise<Prepared> {
  const r = resolveOptions(o);
  const n = negativesFor(r.objective, r.negatives);
  const examples = await loadTrainingSet(r.trainFile, r.objective, r.negatives);
  const plan: BatchPlan = { examples: examples.length, batchSize: r.batchSize, n, seed: r.seed };
  const perEpoch = microBatchesPerEpoch(plan);
  const totalSteps = r.maxSteps ?? Math.floor((r.epochs * perEpoch) / r.gradAccum);
  if (!(totalSteps >= 1)) throw new UsageError(`the run has no optimiser steps (${examples.length} examples, batch ${r.batchSize}, accumulation ${r.gradAccum}); lower them or raise --epochs`);
  const passages = await loadPassageTokens(r.corpus, referencedIds(examples), (t) => r.tokenizer.encode(t), r.docMaxLength);
  // Every query is tokenised once here, as the passages are: a step only looks token ids up.
  const qtok = new Map<string, number[]>();
  const encodeQuery = (q: string) => r.tokenizer.encode(q).slice(0, r.queryMaxLength);
  for (const ex of examples) if (!qtok.has(ex.query)) qtok.set(ex.query, encodeQuery(ex.query));
  const tokens = (q: string) => qtok.get(q) ?? encodeQuery(q);
  return { r, head: encoderFor(r.paradigm), examples, plan, totalSteps, tokens, passages };
}

/** One micro-batch: forward, loss, backward (gradients × weight accumulate in the model). */
function microStep(model: LlamaModel, p: Prepared, batch: TrainBatch, weight: number, lq: number, ld: number): RetrievalLossTerms & { nnzQ: number; nnzD: number; tokens: number } {
  const { r, head } = p;
  const B = batch.queries.length, n = p.plan.n, Nc = batch.contextIds.length;
  // Queries and contexts run as two batches in two activation slots, each padded to its own longest row.
  const qb = tokenBatch(batch.queries.map(p.tokens), r.tokenizer.padId, r.queryMaxLength);
  const cb = tokenBatch(batch.contextIds.map((id) => p.passages.get(id)!), r.tokenizer.padId, r.docMaxLength);
  const fq = head.forward(model, qb, true, 'queries'), fc = head.forward(model, cb, true, 'contexts');
  const dim = head.dimension(model.config);
  const grads = { dq: new Float32Array(B * dim), dc: new Float32Array(Nc * dim) }; // (B, dim), (Nc, dim)
  const t = batch.teacher;
  const teacher = r.objective === 'kd' && t
    ? { margin: Float64Array.from({ length: B }, (_, b) => t[2 * b]! - t[2 * b + 1]!) }
    : { scores: t };
  const terms = retrievalLoss(r.objective, { q: fq.rep, c: fc.rep, B, n, dim, scale: r.scoreScale ?? head.scoreScale(r.tau) }, teacher, grads, {
    lambdaQ: head.flops ? lq : 0, lambdaD: head.flops ? ld : 0, weight, kernels: model.k,
  });
  head.backward(model, fc, grads.dc);
  head.backward(model, fq, grads.dq);
  const real = (m: Uint8Array) => m.reduce((s, x) => s + x, 0);
  return {
    ...terms,
    nnzQ: head.flops ? meanNonZeros(fq.rep, B, dim) : 0,
    nnzD: head.flops ? meanNonZeros(fc.rep, Nc, dim) : 0,
    tokens: real(qb.mask) + real(cb.mask),
  };
}

/**
 * Fine-tune a retriever. Validates everything first, resumes from `output`'s last checkpoint when present.
 * @example await trainRetriever({ paradigm: 'sparse', objective: 'cl', model, trainFile, corpus, output, tokenizer });
 */
export async function trainRetriever(o: RetrievalTrainOptions): Promise<TrainSummary> {
  const p = await prepareRetrievalTraining(o);
  const { r, totalSteps } = p;
  const model = buildModel(r);
  const form: WeightsForm = r.full ? {} : { adapter: { layout: p.head.adapterLayout, baseModel: resolve(r.model) } };
  const { tokenizer: _t, kernels: _k, onStep: _s, ...recorded } = r;
  const config = { ...recorded, ...precisionRecord(model), recompute: model.recompute, totalSteps, negativesUsed: p.plan.n, examples: p.examples.length };
  const ramp = flopsRampSteps(totalSteps);
  const flops = p.head.flops;
  const validation = await validationHook(o, r, model, form, totalSteps);
  const sum = await runLoop({
    validation, progress: o.progress,
    model, output: r.output, totalSteps, lr: r.lr, warmupRatio: r.warmupRatio, maxGradNorm: r.maxGradNorm,
    adamw: { beta1: r.beta1, beta2: r.beta2, eps: r.eps, weightDecay: r.weightDecay },
    logEvery: r.logEvery, saveEvery: r.saveEvery, form, config, resume: r.resume !== false, seed: r.seed,
    label: `train ${r.paradigm} ${r.objective}`, precision: precisionRecord(model),
    step(step) {
      const lq = flopsWeight(r.lambdaQ, step + 1, ramp), ld = flopsWeight(r.lambdaD, step + 1, ramp);
      const acc: Record<string, number> = { loss: 0, rank: 0, flopsQ: 0, flopsD: 0, nnzQ: 0, nnzD: 0 };
      if (r.objective === 'cl+kd') { acc['cl'] = 0; acc['kl'] = 0; }
      let items = 0, tokens = 0, epoch = 0;
      for (let a = 0; a < r.gradAccum; a++) {
        const batch = microBatch(p.examples, p.plan, step * r.gradAccum + a);
        const t = microStep(model, p, batch, 1 / r.gradAccum, lq, ld) as unknown as Record<string, number>;
        for (const k of Object.keys(acc)) acc[k]! += (t[k] ?? 0) / r.gradAccum;
        items += batch.queries.length;
        tokens += t['tokens']!;
        epoch = batch.epoch;
      }
      return { stats: { ...acc, lambdaQ: flops ? lq : 0, lambdaD: flops ? ld : 0, epoch }, items, tokens };
    },
    onStep: r.onStep,
  });
  await saveFinal(model, r, form);
  return { ...sum, output: r.output };
}

/** The trained adapter or model in the output directory, loadable as is, with the base's tokenizer files. */
async function saveFinal(model: LlamaModel, r: Resolved, form: WeightsForm, dir: string = r.output): Promise<void> {
  if (form.adapter) await saveAdapter(model, dir, form.adapter);
  else await saveModel(model, dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(join(r.model, f))) copyFileSync(join(r.model, f), join(dir, f));
  }
}

/** The loop's validation hook when dev queries are given (all three files, or none). */
async function validationHook(o: RetrievalTrainOptions, r: Resolved, model: LlamaModel, form: WeightsForm, totalSteps: number): Promise<LoopValidation | undefined> {
  const given = [o.evalQueries, o.evalQrels, o.evalCorpus].filter((x) => x !== undefined).length;
  if (given === 0) {
    if (o.earlyStop) throw new UsageError('--early-stop needs a dev set: --eval-queries, --eval-qrels and --eval-corpus', { field: 'early-stop' });
    return undefined;
  }
  if (given !== 3) throw new UsageError('validation needs all of --eval-queries, --eval-qrels and --eval-corpus', { field: 'eval-queries' });
  const every = o.evalEvery ?? Math.max(1, Math.floor(totalSteps / 10));
  if (!Number.isInteger(every) || every < 1) throw new UsageError(`--eval-every must be a positive integer, got ${every}`, { field: 'eval-every' });
  const patience = o.earlyStop ?? DEFAULTS.validate.patience;
  if (!Number.isInteger(patience) || patience < 0) throw new UsageError(`--early-stop must be a non-negative integer, got ${patience}`, { field: 'early-stop' });
  const measure = (o.evalMeasure ?? DEFAULTS.validate.measure).replace('.', '_');
  const known = ['ndcg_cut_10', 'recip_rank_10', `recall_${DEFAULTS.validate.k}`];
  if (!known.includes(measure)) throw new UsageError(`--eval-measure must be one of ${known.join(', ')}, got '${o.evalMeasure}'`, { field: 'eval-measure' });
  const set = await loadValidationSet(o.evalQueries!, o.evalQrels!, o.evalCorpus!);
  return {
    every, measure, patience,
    evaluate: () => evaluateModel(model, r.tokenizer, set, { paradigm: r.paradigm, queryMaxLength: r.queryMaxLength, docMaxLength: r.docMaxLength }),
    saveBest: (dir) => saveFinal(model, r, form, dir),
  };
}
