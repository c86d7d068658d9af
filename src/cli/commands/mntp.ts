/**
 * `lion mntp`: masked next-token prediction (src/train/mntp-trainer.ts), adapting a base model with LoRA (the
 * paper's recipe, DEFAULTS.mntp) or full fine-tuning, or training a small model from scratch from a config.json
 * and a tokenizer directory. The resolved configuration is written to `<out>/run_config.json`.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { normaliseConfig } from '../../model/registry.js';
import { readHfConfig } from '../../io/hfconfig.js';
import { loadTokenizer } from '../../tokenizer/tokenizer.js';
import { trainMntp } from '../../train/mntp-trainer.js';
import type { Precision } from '../../model/precision.js';
import { oneOf, parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const d = DEFAULTS.mntp;
const t = DEFAULTS.train;
const options = {
  model: { kind: 'string', help: 'base model directory to adapt (Hugging Face layout)' },
  config: { kind: 'string', help: 'config.json of a new model to train from scratch (with --tokenizer)' },
  tokenizer: { kind: 'string', help: 'directory with tokenizer.json (default: --model)' },
  'bpe-vocab': { kind: 'int', min: 1, help: 'from scratch: train a byte-level BPE of this many ids on the corpus (instead of --tokenizer)' },
  full: { kind: 'boolean', help: 'full fine-tuning of --model instead of LoRA' },
  corpus: { kind: 'string', required: true, help: 'passages (TSV pid\\ttext or BEIR corpus.jsonl)' },
  out: { kind: 'string', required: true, help: 'output directory' },
  'block-length': { kind: 'int', min: 2, default: d.blockLength, help: 'tokens per packed block' },
  'batch-size': { kind: 'int', min: 1, default: d.batchSize, help: `blocks per step (MNTP's recipe; retrieval training takes ${DEFAULTS.train.batchSize} queries)` },
  'max-steps': { kind: 'int', min: 1, default: d.maxSteps, help: 'optimiser steps (retrieval training runs --epochs instead)' },
  epochs: { kind: 'number', gt: 0, help: 'passes over the blocks (overrides --max-steps)' },
  'max-passages': { kind: 'int', min: 1, help: 'read at most this many passages' },
  lr: { kind: 'number', gt: 0, default: d.lr, help: `peak learning rate (MNTP's recipe; retrieval training uses ${DEFAULTS.train.lr})` },
  'warmup-ratio': { kind: 'number', min: 0, max: 1, default: d.warmupRatio, help: `fraction of steps of linear warm-up (MNTP's recipe has none; retrieval training warms up ${DEFAULTS.train.warmupRatio})` },
  probability: { kind: 'number', gt: 0, max: 1, default: d.probability, help: 'fraction of tokens masked' },
  'lora-r': { kind: 'int', min: 1, default: t.loraR, help: 'LoRA rank' },
  'lora-alpha': { kind: 'number', gt: 0, default: t.loraAlpha, help: 'LoRA alpha' },
  'lora-dropout': { kind: 'number', min: 0, max: 0.99, default: t.loraDropout, help: 'LoRA dropout' },
  seed: { kind: 'int', min: 0, default: d.seed, help: `seed of initialisation, order, masking and dropout (MNTP's recipe; retrieval training uses ${DEFAULTS.train.seed})` },
  'log-every': { kind: 'int', min: 1, default: d.logEvery, help: 'steps per train_log.jsonl line' },
  'save-every': { kind: 'int', min: 1, default: d.saveEvery, help: `steps per checkpoint (MNTP runs ${d.maxSteps} steps; retrieval training saves every ${DEFAULTS.train.saveEvery})` },
  'no-resume': { kind: 'boolean', help: 'start over even if the output directory has a checkpoint' },
  precision: { kind: 'choice', choices: oneOf<Precision>('fp32', 'bf16'), default: DEFAULTS.precision.train, help: 'matmul precision: fp32, or bf16 (bf16 products, fp32 master weights, optimiser state and reductions)' },
  recompute: { kind: 'boolean', default: DEFAULTS.precision.recompute, help: 'recompute each layer\'s activations in backward (less memory, same results)' },
  'force-resume': { kind: 'boolean', help: 'resume even though the checkpoint was made with other settings (they are listed when refused)' },
} satisfies OptTable;

export const mntpCommand: Command = {
  name: 'mntp',
  summary: 'masked next-token prediction: adapt a decoder to bidirectional attention, or train one from scratch',
  usage: 'lion mntp --model Llama-3.2-1B --corpus raw.train.tsv --out mntp   |   lion mntp --config tiny.json --tokenizer tok/ --corpus text.tsv --out tiny',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'mntp');
    if (o._.length) throw new UsageError(`mntp: unexpected argument '${o._[0]}'`);
    if (!o.model === !o.config) throw new UsageError('mntp: pass exactly one of --model (adapt) or --config (from scratch)');
    if (o.config && !o.tokenizer === !o['bpe-vocab']) throw new UsageError('mntp: --config (from scratch) needs one of --tokenizer or --bpe-vocab');
    const sum = await trainMntp({
      model: o.model, scratch: o.config ? normaliseConfig(readHfConfig(o.config)) : undefined, full: o.full,
      tokenizer: o.tokenizer ? loadTokenizer(o.tokenizer) : undefined, tokenizerDir: o.tokenizer, bpeVocab: o['bpe-vocab'], corpus: o.corpus, output: o.out,
      blockLength: o['block-length'], batchSize: o['batch-size'], maxSteps: o['max-steps'], epochs: o.epochs, maxPassages: o['max-passages'],
      lr: o.lr, warmupRatio: o['warmup-ratio'], probability: o.probability, loraR: o['lora-r'], loraAlpha: o['lora-alpha'],
      loraDropout: o['lora-dropout'], seed: o.seed, logEvery: o['log-every'], saveEvery: o['save-every'], resume: !o['no-resume'], forceResume: o['force-resume'],
      precision: o.precision, recompute: o.recompute,
    });
    process.stderr.write(`mntp: ${sum.blocks} blocks, ${sum.steps} steps, loss ${sum.firstLoss.toFixed(4)} -> ${sum.lastLoss.toFixed(4)} -> ${sum.output}\n`);
    return 0;
  },
};
