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
import { parsePrecision } from '../../model/precision.js';
import { parseArgs, type OptTable, type Parsed } from '../args.js';
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
  negatives: { kind: 'int', default: d.negatives, help: 'hard negatives per query (KD uses one)' },
  'batch-size': { kind: 'int', default: d.batchSize, help: 'queries per micro-batch' },
  'grad-accum': { kind: 'int', default: d.gradAccum, help: 'micro-batches per optimiser step' },
  epochs: { kind: 'number', default: d.epochs, help: 'passes over the training file' },
  'max-steps': { kind: 'int', help: 'optimiser steps (overrides --epochs)' },
  lr: { kind: 'number', default: d.lr, help: 'peak learning rate' },
  'warmup-ratio': { kind: 'number', default: d.warmupRatio, help: 'fraction of steps of linear warm-up' },
  'max-grad-norm': { kind: 'number', default: d.maxGradNorm, help: 'gradient clipping (global L2 norm)' },
  'weight-decay': { kind: 'number', default: d.weightDecay, help: 'AdamW weight decay' },
  'query-max-length': { kind: 'int', default: d.queryMaxLength, help: 'query tokens (BOS included)' },
  'doc-max-length': { kind: 'int', default: d.docMaxLength, help: 'passage tokens (BOS included)' },
  'lora-r': { kind: 'int', default: d.loraR, help: 'rank of a fresh LoRA adapter' },
  'lora-alpha': { kind: 'number', default: d.loraAlpha, help: 'alpha of a fresh LoRA adapter' },
  'lora-dropout': { kind: 'number', default: d.loraDropout, help: 'dropout of a fresh LoRA adapter' },
  seed: { kind: 'int', default: d.seed, help: 'seed of sampling, LoRA init and dropout' },
  'log-every': { kind: 'int', default: d.logEvery, help: 'optimiser steps per train_log.jsonl line' },
  'save-every': { kind: 'int', default: d.saveEvery, help: 'optimiser steps per checkpoint' },
  'no-resume': { kind: 'boolean', help: 'start over even if the output directory has a checkpoint' },
  precision: { kind: 'string', default: DEFAULTS.precision.train, help: 'matmul precision: fp32, or bf16 (bf16 products, fp32 master weights, optimiser state and reductions)' },
  recompute: { kind: 'boolean', default: DEFAULTS.precision.recompute, help: 'recompute each layer\'s activations in backward (less memory, same results)' },
} satisfies OptTable;

/** The library options the shared flags stand for. */
export function commonTrainArgs(o: Parsed<typeof commonTrainOptions>) {
  return {
    model: o.model, adapter: o.adapter, full: o.full, trainFile: o.train, corpus: o.corpus, output: o.out, negatives: o.negatives,
    batchSize: o['batch-size'], gradAccum: o['grad-accum'], epochs: o.epochs, maxSteps: o['max-steps'], lr: o.lr,
    warmupRatio: o['warmup-ratio'], maxGradNorm: o['max-grad-norm'], weightDecay: o['weight-decay'],
    queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'], loraR: o['lora-r'], loraAlpha: o['lora-alpha'],
    loraDropout: o['lora-dropout'], seed: o.seed, logEvery: o['log-every'], saveEvery: o['save-every'], resume: !o['no-resume'],
    precision: parsePrecision(o.precision), recompute: o.recompute,
  };
}

const options = {
  paradigm: { kind: 'string', required: true, help: 'sparse or dense' },
  objective: { kind: 'string', required: true, help: 'cl (InfoNCE), kd (MarginMSE) or cl+kd' },
  ...commonTrainOptions,
  tau: { kind: 'number', default: d.tau, help: 'dense score temperature' },
  'lambda-q': { kind: 'number', default: d.lambdaQ, help: 'sparse FLOPS weight on queries' },
  'lambda-d': { kind: 'number', default: d.lambdaD, help: 'sparse FLOPS weight on documents' },
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
      ...commonTrainArgs(o), paradigm: o.paradigm as Paradigm, objective: o.objective as Objective,
      tau: o.tau, lambdaQ: o['lambda-q'], lambdaD: o['lambda-d'],
    });
    const from = sum.resumedFrom !== undefined ? ` (resumed at step ${sum.resumedFrom})` : '';
    process.stderr.write(`train: ${sum.steps} steps${from}, loss ${sum.firstLoss.toFixed(4)} -> ${sum.lastLoss.toFixed(4)} -> ${sum.output}\n`);
    return 0;
  },
};
