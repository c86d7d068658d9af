/**
 * `lion train`: fine-tune a sparse or dense retriever with CL, KD or CL+KD (src/train/trainer.ts). Every option
 * defaults to the paper's setting (DEFAULTS.train); the resolved configuration is written to
 * `<out>/run_config.json`. Re-running the same command after a crash resumes from the last checkpoint.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import type { Paradigm } from '../../encoders/encode.js';
import type { Objective } from '../../train/losses.js';
import { trainRetriever } from '../../train/trainer.js';
import type { Precision } from '../../model/precision.js';
import { oneOf, parseArgs, type OptTable, type Parsed } from '../args.js';
import type { Command } from '../command.js';

const d = DEFAULTS.train;

/** Options `lion train` and `lion rerank train` share (model, data, optimisation, LoRA, logging). */
export const commonTrainOptions = {
  model: { kind: 'string', required: true, help: 'base model directory (Hugging Face layout, with tokenizer.json)' },
  adapter: { kind: 'string', help: 'continue training this PEFT adapter (e.g. the MNTP one); default: a fresh LoRA' },
  full: { kind: 'boolean', help: 'full fine-tuning instead of LoRA' },
  train: { kind: 'string', required: true, help: 'training file (CL, CL+KD or KD JSONL, spec §5.1)' },
  corpus: { kind: 'string', required: true, help: 'passages the training file names (TSV pid\\ttext or BEIR corpus.jsonl)' },
  out: { kind: 'string', required: true, help: 'output directory (adapter or model, log, checkpoints)' },
  negatives: { kind: 'int', min: 1, default: d.negatives, help: `hard negatives per query (KD uses one), drawn from the file's pool (\`lion mine\` keeps ${DEFAULTS.mine.negatives})` },
  'batch-size': { kind: 'int', min: 1, default: d.batchSize, help: 'queries per micro-batch' },
  'grad-accum': { kind: 'int', min: 1, default: d.gradAccum, help: 'micro-batches per optimiser step' },
  epochs: { kind: 'number', gt: 0, default: d.epochs, help: 'passes over the training file' },
  'max-steps': { kind: 'int', min: 1, help: 'optimiser steps (overrides --epochs)' },
  lr: { kind: 'number', gt: 0, default: d.lr, help: 'peak learning rate' },
  'warmup-ratio': { kind: 'number', min: 0, max: 1, default: d.warmupRatio, help: `fraction of steps of linear warm-up (the paper's; MNTP warms up ${DEFAULTS.mntp.warmupRatio})` },
  'max-grad-norm': { kind: 'number', gt: 0, default: d.maxGradNorm, help: 'gradient clipping (global L2 norm)' },
  'weight-decay': { kind: 'number', min: 0, default: d.weightDecay, help: 'AdamW weight decay' },
  'query-max-length': { kind: 'int', min: 1, default: d.queryMaxLength, help: 'query tokens (BOS included)' },
  'doc-max-length': { kind: 'int', min: 1, default: d.docMaxLength, help: `passage tokens (BOS included; the paper trains at ${d.docMaxLength} and encodes MS MARCO at ${DEFAULTS.encode.docMaxLength})` },
  'lora-r': { kind: 'int', min: 1, default: d.loraR, help: 'rank of a fresh LoRA adapter' },
  'lora-alpha': { kind: 'number', gt: 0, default: d.loraAlpha, help: 'alpha of a fresh LoRA adapter' },
  'lora-dropout': { kind: 'number', min: 0, max: 0.99, default: d.loraDropout, help: 'dropout of a fresh LoRA adapter' },
  seed: { kind: 'int', min: 0, default: d.seed, help: `seed of sampling, LoRA init and dropout (the paper's CL runs; MNTP's recipe uses ${DEFAULTS.mntp.seed})` },
  'log-every': { kind: 'int', min: 1, default: d.logEvery, help: 'optimiser steps per train_log.jsonl line' },
  'save-every': { kind: 'int', min: 1, default: d.saveEvery, help: `optimiser steps per checkpoint (MNTP runs longer and saves every ${DEFAULTS.mntp.saveEvery})` },
  'no-resume': { kind: 'boolean', help: 'start over even if the output directory has a checkpoint' },
  precision: { kind: 'choice', choices: oneOf<Precision>('fp32', 'bf16'), default: DEFAULTS.precision.train, help: 'matmul precision: fp32, or bf16 (bf16 products, fp32 master weights, optimiser state and reductions)' },
  recompute: { kind: 'boolean', default: DEFAULTS.precision.recompute, help: 'recompute each layer\'s activations in backward (less memory, same results)' },
  'force-resume': { kind: 'boolean', help: 'resume even though the checkpoint was made with other settings (they are listed when refused)' },
} satisfies OptTable;

/** The library options the shared flags stand for. */
export function commonTrainArgs(o: Parsed<typeof commonTrainOptions>) {
  return {
    model: o.model, adapter: o.adapter, full: o.full, trainFile: o.train, corpus: o.corpus, output: o.out, negatives: o.negatives,
    batchSize: o['batch-size'], gradAccum: o['grad-accum'], epochs: o.epochs, maxSteps: o['max-steps'], lr: o.lr,
    warmupRatio: o['warmup-ratio'], maxGradNorm: o['max-grad-norm'], weightDecay: o['weight-decay'],
    queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'], loraR: o['lora-r'], loraAlpha: o['lora-alpha'],
    loraDropout: o['lora-dropout'], seed: o.seed, logEvery: o['log-every'], saveEvery: o['save-every'], resume: !o['no-resume'], forceResume: o['force-resume'],
    precision: o.precision, recompute: o.recompute,
  };
}

const options = {
  paradigm: { kind: 'choice', choices: oneOf<Paradigm>('sparse', 'dense'), required: true, help: 'sparse or dense' },
  objective: { kind: 'choice', choices: oneOf<Objective>('cl', 'kd', 'cl+kd'), required: true, help: 'cl (InfoNCE), kd (MarginMSE) or cl+kd' },
  ...commonTrainOptions,
  tau: { kind: 'number', gt: 0, default: d.tau, help: 'dense score temperature' },
  'score-scale': { kind: 'number', gt: 0, help: 'multiplier of query·document scores in the losses (default: the head\'s, sparse 1, dense 1/tau); the lexical sparse start (scores 10–50) fine-tunes at 0.1' },
  freeze: { kind: 'string', help: 'comma-separated name parts of weights kept fixed, e.g. embed_tokens,model.norm (default: none)' },
  'lambda-q': { kind: 'number', min: 0, default: d.lambdaQ, help: 'sparse FLOPS weight on queries' },
  'lambda-d': { kind: 'number', min: 0, default: d.lambdaD, help: 'sparse FLOPS weight on documents' },
  'eval-queries': { kind: 'string', help: 'dev queries (BEIR queries.jsonl or TSV) evaluated during training' },
  'eval-qrels': { kind: 'string', help: 'dev judgements (a train/dev split, never test): nDCG@10, MRR@10, recall@100' },
  'eval-corpus': { kind: 'string', help: 'corpus searched by the dev queries (encoded at every evaluation)' },
  'eval-every': { kind: 'int', help: 'optimiser steps between evaluations (default: a tenth of the run)' },
  'eval-measure': { kind: 'string', default: DEFAULTS.validate.measure, help: 'metric that picks <out>/best/: ndcg_cut.10, recip_rank_10 or recall.100' },
  'early-stop': { kind: 'int', default: DEFAULTS.validate.patience, help: 'stop after this many evaluations without a gain (0: never)' },
  progress: { kind: 'boolean', help: 'show loss, dev metric and ETA even when stderr is not a terminal' },
} satisfies OptTable;

export const trainCommand: Command = {
  name: 'train',
  summary: 'fine-tune a sparse or dense retriever (CL, KD or CL+KD)',
  usage: 'lion train --paradigm sparse --objective cl+kd --model Llama-3.2-1B --adapter mntp --train train.jsonl --corpus collection.tsv --out lion-sp',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'train');
    if (o._.length) throw new UsageError(`train: unexpected argument '${o._[0]}'`);
    const sum = await trainRetriever({
      ...commonTrainArgs(o), paradigm: o.paradigm, objective: o.objective,
      tau: o.tau, lambdaQ: o['lambda-q'], lambdaD: o['lambda-d'], scoreScale: o['score-scale'] as number | undefined,
      freeze: o.freeze === undefined ? undefined : String(o.freeze).split(',').map((x) => x.trim()).filter(Boolean),
      evalQueries: o['eval-queries'], evalQrels: o['eval-qrels'], evalCorpus: o['eval-corpus'], evalEvery: o['eval-every'] as number | undefined,
      evalMeasure: o['eval-measure'], earlyStop: o['early-stop'], progress: o.progress,
    });
    const from = sum.resumedFrom !== undefined ? ` (resumed at step ${sum.resumedFrom})` : '';
    process.stderr.write(`train: ${sum.steps} steps${from}, loss ${sum.firstLoss.toFixed(4)} -> ${sum.lastLoss.toFixed(4)} -> ${sum.output}\n`);
    if (sum.best) process.stderr.write(`train: best dev ${sum.best.measure} ${sum.best.value.toFixed(4)} at step ${sum.best.step} -> ${sum.output}/best${sum.stoppedEarly !== undefined ? `; stopped early at step ${sum.stoppedEarly}` : ''}; curves in ${sum.output}/curves.svg\n`);
    return 0;
  },
};
