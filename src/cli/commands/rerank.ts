/**
 * `lion rerank train` and `lion rerank score`: the cross-encoder teacher (src/train/rerank.ts). Training reads
 * a CL training file (e.g. from `lion mine`); scoring writes the CL+KD or KD training format for `lion train`.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { scoreTrainingFile, trainReranker } from '../../train/rerank.js';
import { describePrecision, parseDtype } from '../../model/precision.js';
import { parseArgs, type OptTable } from '../args.js';
import { commonTrainArgs, commonTrainOptions } from './train.js';
import type { Command } from '../command.js';

const d = DEFAULTS.train;
const trainOptions = {
  ...commonTrainOptions,
  train: { kind: 'string', required: true, help: 'CL training file (question, pos_pid, neg_pids), e.g. from `lion mine`' },
  out: { kind: 'string', required: true, help: 'output directory (adapter or model + score_head.safetensors)' },
} satisfies OptTable;

export const rerankTrainCommand: Command = {
  name: 'rerank train',
  summary: 'train a cross-encoder teacher (softmax CE over a positive and its negatives)',
  usage: 'lion rerank train --model base --train train.jsonl --corpus collection.tsv --out reranker',
  options: trainOptions,
  async run(argv) {
    const o = parseArgs(argv, trainOptions, 'rerank train');
    if (o._.length) throw new UsageError(`rerank train: unexpected argument '${o._[0]}'`);
    const sum = await trainReranker(commonTrainArgs(o));
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
  dtype: { kind: 'string', default: DEFAULTS.precision.inference, help: 'reranker weights and products: fp32, bf16, int8, or auto (bf16 where the CPU multiplies bf16 natively, else fp32)' },
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
    const dtype = parseDtype(o.dtype);
    const n = await scoreTrainingFile({
      dtype, onLoad: (r) => process.stderr.write(`rerank score: ${describePrecision(r, dtype)}\n`),
      reranker: o.reranker, model: o.model, input: o.input, corpus: o.corpus, out: o.out, format: o.format,
      queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'],
    });
    process.stderr.write(`rerank score: ${n} examples -> ${o.out}\n`);
    return 0;
  },
};
