/**
 * `lion rerank train` and `lion rerank score`: the cross-encoder teacher (src/train/rerank.ts). Training reads
 * a CL training file (e.g. from `lion mine`); scoring writes the CL+KD or KD training format for `lion train`.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { scoreTrainingFile, trainReranker } from '../../train/rerank.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const d = DEFAULTS.train;
const trainOptions = {
  model: { kind: 'string', required: true, help: 'base model directory (Hugging Face layout, with tokenizer.json)' },
  adapter: { kind: 'string', help: 'continue this PEFT adapter (e.g. the MNTP one); default: a fresh LoRA' },
  full: { kind: 'boolean', help: 'full fine-tuning instead of LoRA' },
  train: { kind: 'string', required: true, help: 'CL training file (question, pos_pid, neg_pids)' },
  corpus: { kind: 'string', required: true, help: 'passages (TSV pid\\ttext or BEIR corpus.jsonl)' },
  out: { kind: 'string', required: true, help: 'output directory (adapter or model + score_head.safetensors)' },
  negatives: { kind: 'int', default: d.negatives, help: 'negatives per query in the softmax' },
  'batch-size': { kind: 'int', default: d.batchSize, help: 'queries per micro-batch' },
  'grad-accum': { kind: 'int', default: d.gradAccum, help: 'micro-batches per optimiser step' },
  epochs: { kind: 'number', default: d.epochs, help: 'passes over the training file' },
  'max-steps': { kind: 'int', help: 'optimiser steps (overrides --epochs)' },
  lr: { kind: 'number', default: d.lr, help: 'peak learning rate' },
  'warmup-ratio': { kind: 'number', default: d.warmupRatio, help: 'fraction of steps of linear warm-up' },
  'query-max-length': { kind: 'int', default: d.queryMaxLength, help: 'query tokens (BOS included)' },
  'doc-max-length': { kind: 'int', default: d.docMaxLength, help: 'passage tokens' },
  'lora-r': { kind: 'int', default: d.loraR, help: 'rank of a fresh LoRA adapter' },
  'lora-alpha': { kind: 'number', default: d.loraAlpha, help: 'alpha of a fresh LoRA adapter' },
  'lora-dropout': { kind: 'number', default: d.loraDropout, help: 'dropout of a fresh LoRA adapter' },
  seed: { kind: 'int', default: d.seed, help: 'seed of sampling, initialisation and dropout' },
  'log-every': { kind: 'int', default: d.logEvery, help: 'optimiser steps per train_log.jsonl line' },
  'save-every': { kind: 'int', default: d.saveEvery, help: 'optimiser steps per checkpoint' },
  'no-resume': { kind: 'boolean', help: 'start over even if the output directory has a checkpoint' },
} satisfies OptTable;

export const rerankTrainCommand: Command = {
  name: 'rerank train',
  summary: 'train a cross-encoder teacher (softmax CE over a positive and its negatives)',
  usage: 'lion rerank train --model base --train train.jsonl --corpus collection.tsv --out reranker',
  options: trainOptions,
  async run(argv) {
    const o = parseArgs(argv, trainOptions, 'rerank train');
    if (o._.length) throw new UsageError(`rerank train: unexpected argument '${o._[0]}'`);
    const sum = await trainReranker({
      model: o.model, adapter: o.adapter, full: o.full, trainFile: o.train, corpus: o.corpus, output: o.out, negatives: o.negatives,
      batchSize: o['batch-size'], gradAccum: o['grad-accum'], epochs: o.epochs, maxSteps: o['max-steps'], lr: o.lr,
      warmupRatio: o['warmup-ratio'], queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'], loraR: o['lora-r'],
      loraAlpha: o['lora-alpha'], loraDropout: o['lora-dropout'], seed: o.seed, logEvery: o['log-every'], saveEvery: o['save-every'],
      resume: !o['no-resume'],
    });
    process.stderr.write(`rerank train: ${sum.steps} steps, loss ${sum.firstLoss.toFixed(4)} -> ${sum.lastLoss.toFixed(4)} -> ${sum.output}\n`);
    return 0;
  },
};

const scoreOptions = {
  reranker: { kind: 'string', required: true, help: 'directory written by `lion rerank train`' },
  model: { kind: 'string', help: 'base model (needed when the reranker is a LoRA adapter)' },
  input: { kind: 'string', required: true, help: 'CL training file whose pairs to score' },
  corpus: { kind: 'string', required: true, help: 'passages (TSV pid\\ttext or BEIR corpus.jsonl)' },
  out: { kind: 'string', required: true, help: 'training file to write' },
  format: { kind: 'string', default: 'clkd', help: 'clkd (question, pos_pid, neg_pids, pos_score, neg_scores) or kd (query, docids, scores)' },
  'query-max-length': { kind: 'int', default: d.queryMaxLength, help: 'query tokens (BOS included)' },
  'doc-max-length': { kind: 'int', default: d.docMaxLength, help: 'passage tokens' },
} satisfies OptTable;

export const rerankScoreCommand: Command = {
  name: 'rerank score',
  summary: 'score a CL training file with a cross-encoder, writing the CL+KD or KD format',
  usage: 'lion rerank score --reranker reranker --model base --input train.jsonl --corpus collection.tsv --out train_teacher.jsonl',
  options: scoreOptions,
  async run(argv) {
    const o = parseArgs(argv, scoreOptions, 'rerank score');
    if (o._.length) throw new UsageError(`rerank score: unexpected argument '${o._[0]}'`);
    if (o.format !== 'clkd' && o.format !== 'kd') throw new UsageError(`--format must be clkd or kd, got '${o.format}'`);
    const n = await scoreTrainingFile({
      reranker: o.reranker, model: o.model, input: o.input, corpus: o.corpus, out: o.out, format: o.format,
      queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'],
    });
    process.stderr.write(`rerank score: ${n} examples -> ${o.out}\n`);
    return 0;
  },
};
