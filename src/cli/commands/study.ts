/**
 * `lion study plan | run | report`: the scaling study of src/study — the grid of sizes × paradigms × objectives
 * under the fixed compute budget (plan), training and evaluating every cell resumably (run), and the markdown
 * table plus SVG plots of the results (report). See docs/study.md.
 */
import { join } from 'node:path';
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import type { Paradigm } from '../../encoders/encode.js';
import type { Objective } from '../../train/losses.js';
import { formatPlan, OBJECTIVES, PARADIGMS } from '../../study/grid.js';
import { prepareStudy, readStudyFile, runStudy } from '../../study/run.js';
import { writeStudyReport } from '../../study/report.js';
import { readFileSync } from 'node:fs';
import { DEFAULT_CPU_STUDY, runCpuStudy, type CpuStudyFile, type CpuStudySettings } from '../../study/cpu.js';
import { writeCpuReport } from '../../study/report-cpu.js';
import { parseArgs, type OptTable, type Parsed } from '../args.js';
import type { Command } from '../command.js';

const d = DEFAULTS.study;

const planOptions = {
  sizes: { kind: 'string', default: d.sizes, help: 'comma-separated sizes: 1b,3b,8b (the paper) or h<hidden>l<layers> (toy, from scratch)' },
  models: { kind: 'string', help: 'comma-separated base model directories, one per size (instead of from scratch)' },
  adapters: { kind: 'string', help: 'comma-separated PEFT adapters (e.g. MNTP), one per --models entry, continued by every cell' },
  tokenizer: { kind: 'string', help: 'tokenizer folder of the from-scratch sizes (vocabulary, BOS/EOS)' },
  train: { kind: 'string', help: 'training file (CL, or CL+KD for KD cells); its example count is the epoch' },
  examples: { kind: 'int', min: 1, help: 'examples per epoch when no --train is given (MS MARCO: 532751)' },
  paradigms: { kind: 'string', default: PARADIGMS.join(','), help: 'sparse,dense' },
  objectives: { kind: 'string', default: OBJECTIVES.join(','), help: 'cl,kd,cl+kd' },
  budget: { kind: 'number', gt: 0, help: 'parameter·document-passes per training query (default: one CL epoch of the largest size)' },
  batch: { kind: 'int', min: 1, default: d.batch, help: 'CL / CL+KD queries per step of toy sizes (paper sizes carry their own)' },
  'kd-batch-factor': { kind: 'number', gt: 0, default: d.kdBatchFactor, help: 'KD batch = CL batch × this (toy sizes)' },
  negatives: { kind: 'int', min: 1, default: d.negatives, help: 'hard negatives per query for CL and CL+KD' },
  lr: { kind: 'number', gt: 0, default: d.lr, help: 'learning rate of every cell' },
  'fractional-epochs': { kind: 'boolean', help: 'keep fractional epochs instead of rounding them as the paper does' },
} satisfies OptTable;

const list = <T extends string>(raw: string, allowed: readonly T[], field: string): T[] => raw.split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
  if (!allowed.includes(x as T)) throw new UsageError(`--${field}: '${x}' is not one of ${allowed.join(', ')}`, { field });
  return x as T;
});

function planArgs(o: Parsed<typeof planOptions>) {
  return {
    sizes: o.sizes, tokenizer: o.tokenizer, models: o.models ? o.models.split(',') : undefined,
    adapters: o.adapters ? o.adapters.split(',') : undefined, trainFile: o.train,
    examples: o.examples, paradigms: list<Paradigm>(o.paradigms, PARADIGMS, 'paradigms'), objectives: list<Objective>(o.objectives, OBJECTIVES, 'objectives'),
    budget: o.budget, batch: o.batch, kdBatchFactor: o['kd-batch-factor'], negatives: o.negatives, lr: o.lr, integerEpochs: !o['fractional-epochs'],
  };
}

export const studyPlanCommand: Command = {
  name: 'study plan',
  summary: 'print the scaling grid resolved under the fixed compute budget',
  usage: 'lion study plan --sizes 1b,3b,8b --examples 532751 --budget 1.45e11',
  options: planOptions,
  async run(argv) {
    const o = parseArgs(argv, planOptions, 'study plan');
    if (o._.length) throw new UsageError(`study plan: unexpected argument '${o._[0]}'`);
    const { plan } = await prepareStudy(planArgs(o));
    process.stdout.write(`${formatPlan(plan)}\n`);
    return 0;
  },
};

const runOptions = {
  ...planOptions,
  collection: { kind: 'string', required: true, help: 'BEIR folder to evaluate on (corpus.jsonl, queries.jsonl, qrels/test.tsv)' },
  corpus: { kind: 'string', help: 'passages the training file names (default: the collection corpus)' },
  work: { kind: 'string', default: d.work, help: 'work folder: bases, cells, results.json (re-run to continue)' },
  full: { kind: 'boolean', help: 'full fine-tuning of given base models (from-scratch sizes always train fully)' },
  tau: { kind: 'number', gt: 0, default: DEFAULTS.train.tau, help: 'dense score temperature' },
  'query-max-length': { kind: 'int', min: 1, default: DEFAULTS.train.queryMaxLength, help: 'query tokens in training' },
  'doc-max-length': { kind: 'int', min: 1, default: DEFAULTS.train.docMaxLength, help: `passage tokens in training (CPU scale; lion train uses ${DEFAULTS.train.docMaxLength})` },
  'eval-doc-max-length': { kind: 'int', min: 1, default: d.evalDocMaxLength, help: 'document tokens at evaluation' },
  seed: { kind: 'int', min: 0, default: DEFAULTS.train.seed, help: 'seed of initialisation and sampling' },
} satisfies OptTable;

export const studyRunCommand: Command = {
  name: 'study run',
  summary: 'train and evaluate every cell of the scaling grid (resumable)',
  usage: 'lion study run --sizes h32l1,h48l2 --tokenizer tok --train train.clkd.jsonl --collection beir/scifact --work study',
  options: runOptions,
  async run(argv) {
    const o = parseArgs(argv, runOptions, 'study run');
    if (o._.length) throw new UsageError(`study run: unexpected argument '${o._[0]}'`);
    if (!o.train) throw new UsageError('study run needs --train (a CL or CL+KD training file)', { field: 'train' });
    const { sizes, plan } = await prepareStudy(planArgs(o));
    process.stderr.write(`${formatPlan(plan)}\n\n`);
    const f = await runStudy({
      plan, sizes, collection: o.collection, trainFile: o.train, trainCorpus: o.corpus, work: o.work, tokenizer: o.tokenizer,
      full: o.full || undefined, tau: o.tau, queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'],
      evalDocMaxLength: o['eval-doc-max-length'], seed: o.seed, onCell: (m) => process.stderr.write(`study: ${m}\n`),
    });
    process.stderr.write(`study: ${f.cells.length} cells in ${join(o.work, 'results.json')}\n`);
    return 0;
  },
};

const reportOptions = {
  results: { kind: 'string', required: true, help: 'results.json of a study work folder' },
  out: { kind: 'string', required: true, help: 'folder for study.md and the SVG plots' },
} satisfies OptTable;

export const studyReportCommand: Command = {
  name: 'study report',
  summary: 'markdown table and SVG plots of a scaling study',
  usage: 'lion study report --results study/results.json --out study/report',
  options: reportOptions,
  async run(argv) {
    const o = parseArgs(argv, reportOptions, 'study report');
    if (o._.length) throw new UsageError(`study report: unexpected argument '${o._[0]}'`);
    const f = readStudyFile(o.results);
    if (!f) throw new UsageError(`results file not found: ${o.results}`, { file: o.results });
    for (const p of await writeStudyReport(f, o.out)) process.stderr.write(`study report: wrote ${p}\n`);
    return 0;
  },
};

const cpuDefaults = DEFAULT_CPU_STUDY;
const cpuOptions = {
  data: { kind: 'string', default: '../shared/data', help: 'shared data folder (scifact/, cranfield/beir/, med/beir/, trec-dl-2019/, trec-dl-2020/)' },
  'pretrain-corpus': { kind: 'string', required: true, help: 'MNTP pretraining text (jsonl or tsv)' },
  tokenizer: { kind: 'string', required: true, help: 'tokenizer folder of every size (must have a mask token)' },
  work: { kind: 'string', default: 'lion-study-cpu', help: 'work folder (re-run the same command to continue after an interruption)' },
  out: { kind: 'string', help: 'also write the report (study-cpu.md + SVG plots) to this folder when done' },
  collections: { kind: 'string', default: 'scifact,cranfield,med,dl19,dl20', help: 'evaluation collections' },
  sizes: { kind: 'string', default: cpuDefaults.sizes, help: 'h<hidden>l<layers> sizes, from scratch' },
  'mntp-tokens-per-param': { kind: 'number', gt: 0, default: cpuDefaults.mntpTokensPerParam, help: 'MNTP tokens = this × parameters (tied embeddings counted once)' },
  'mntp-block-length': { kind: 'int', min: 8, default: cpuDefaults.mntpBlockLength, help: 'MNTP block length' },
  'mntp-batch': { kind: 'int', min: 1, default: cpuDefaults.mntpBatch, help: 'MNTP blocks per step' },
  'mntp-lr': { kind: 'number', gt: 0, default: cpuDefaults.mntpLr, help: 'MNTP learning rate' },
  'largest-epochs': { kind: 'number', gt: 0, default: cpuDefaults.largestEpochs, help: 'CL epochs of the largest size (sets the fixed budget)' },
  batch: { kind: 'int', min: 1, default: cpuDefaults.batch, help: 'CL / CL+KD queries per step' },
  'kd-batch-factor': { kind: 'number', gt: 0, default: cpuDefaults.kdBatchFactor, help: 'KD batch = batch × this' },
  negatives: { kind: 'int', min: 1, default: cpuDefaults.negatives, help: `hard negatives per query (CL, CL+KD; small models at CPU scale: lion train uses ${DEFAULTS.train.negatives})` },
  lr: { kind: 'number', gt: 0, default: cpuDefaults.lr, help: `fine-tuning learning rate (CPU scale; lion train uses ${DEFAULTS.train.lr})` },
  tau: { kind: 'number', gt: 0, default: cpuDefaults.tau, help: `dense temperature (CPU scale; lion train uses ${DEFAULTS.train.tau})` },
  'query-max-length': { kind: 'int', min: 1, default: cpuDefaults.queryMaxLength, help: `query tokens (CPU scale; lion train uses ${DEFAULTS.train.queryMaxLength})` },
  'doc-max-length': { kind: 'int', min: 1, default: cpuDefaults.docMaxLength, help: `passage tokens in training (CPU scale; lion train uses ${DEFAULTS.train.docMaxLength})` },
  'eval-doc-max-length': { kind: 'int', min: 1, default: cpuDefaults.evalDocMaxLength, help: 'document tokens at evaluation' },
  'mine-negatives': { kind: 'int', min: 1, default: cpuDefaults.mineNegatives, help: 'hard negatives kept per training query' },
  'mine-depth': { kind: 'int', min: 1, default: cpuDefaults.mineDepth, help: 'BM25 depth mined for negatives and teacher candidates' },
  noise: { kind: 'number', min: 0, max: 0.99, default: cpuDefaults.noise, help: 'fraction of corrupted labels in the robustness cells (0: none)' },
  'noise-sizes': { kind: 'string', default: cpuDefaults.noiseSizes, help: 'sizes of the robustness cells' },
  seed: { kind: 'int', min: 0, default: cpuDefaults.seed, help: `seed (lion train uses ${DEFAULTS.train.seed})` },
  'lambda-q': { kind: 'number', min: 0, default: cpuDefaults.lambdaQ, help: 'FLOPS weight on sparse queries (paper 0.05)' },
  'lambda-d': { kind: 'number', min: 0, default: cpuDefaults.lambdaD, help: 'FLOPS weight on sparse documents (paper 0.04)' },
  'max-pretrain-passages': { kind: 'int', min: 1, help: 'read at most this many pretraining passages' },
} satisfies OptTable;

export const studyCpuCommand: Command = {
  name: 'study cpu',
  summary: 'the scaling study at CPU scale: MNTP per size, the grid, robustness, fits and findings (resumable)',
  usage: 'lion study cpu --pretrain-corpus corpus.jsonl --tokenizer bpe-8k --work study-cpu --out docs/study-cpu',
  options: cpuOptions,
  async run(argv) {
    const o = parseArgs(argv, cpuOptions, 'study cpu');
    if (o._.length) throw new UsageError(`study cpu: unexpected argument '${o._[0]}'`);
    const settings: CpuStudySettings = {
      sizes: o.sizes, mntpTokensPerParam: o['mntp-tokens-per-param'], mntpBlockLength: o['mntp-block-length'], mntpBatch: o['mntp-batch'], mntpLr: o['mntp-lr'],
      largestEpochs: o['largest-epochs'], batch: o.batch, kdBatchFactor: o['kd-batch-factor'], negatives: o.negatives, lr: o.lr, tau: o.tau,
      queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'], evalDocMaxLength: o['eval-doc-max-length'],
      mineNegatives: o['mine-negatives'], mineDepth: o['mine-depth'], noise: o.noise, noiseSizes: o['noise-sizes'], seed: o.seed,
      lambdaQ: o['lambda-q'], lambdaD: o['lambda-d'],
    };
    const t0 = performance.now();
    const f = await runCpuStudy({
      settings, data: o.data, pretrainCorpus: o['pretrain-corpus'], tokenizer: o.tokenizer, work: o.work,
      collections: o.collections.split(',').map((x) => x.trim()).filter(Boolean), maxPretrainPassages: o['max-pretrain-passages'],
      say: (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] study cpu: ${m}\n`),
    });
    process.stderr.write(`study cpu: ${f.cells.length} cells in ${join(o.work, 'results.json')} (${((performance.now() - t0) / 1000).toFixed(0)} s this run)\n`);
    if (o.out) for (const p of await writeCpuReport(f, o.out)) process.stderr.write(`study cpu: wrote ${p}\n`);
    return 0;
  },
};

const cpuReportOptions = {
  results: { kind: 'string', required: true, help: 'results.json of a `lion study cpu` work folder' },
  out: { kind: 'string', required: true, help: 'folder for study-cpu.md and the SVG plots' },
} satisfies OptTable;

export const studyCpuReportCommand: Command = {
  name: 'study cpu-report',
  summary: 'tables, power-law fits, robustness and findings of a CPU study (works on partial results)',
  usage: 'lion study cpu-report --results study-cpu/results.json --out docs/study-cpu',
  options: cpuReportOptions,
  async run(argv) {
    const o = parseArgs(argv, cpuReportOptions, 'study cpu-report');
    if (o._.length) throw new UsageError(`study cpu-report: unexpected argument '${o._[0]}'`);
    let f: CpuStudyFile;
    try {
      f = JSON.parse(readFileSync(o.results, 'utf8')) as CpuStudyFile;
    } catch (e) {
      throw new UsageError(`cannot read the study results: ${(e as Error).message}`, { file: o.results });
    }
    if (!Array.isArray(f.cells)) throw new UsageError('results file has no "cells" array', { file: o.results, field: 'cells' });
    for (const p of await writeCpuReport(f, o.out)) process.stderr.write(`study cpu-report: wrote ${p}\n`);
    return 0;
  },
};
