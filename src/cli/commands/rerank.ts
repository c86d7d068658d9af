/**
 * `lion rerank train` and `lion rerank score`: the cross-encoder teacher (src/train/rerank.ts). Training reads
 * a CL training file (e.g. from `lion mine`); scoring writes the CL+KD or KD training format for `lion train`.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { scoreTrainingFile, trainReranker } from '../../train/rerank.js';
import { describePrecision, parseDtype } from '../../model/precision.js';
import { compareRuns, formatComparison, type RunComparison } from '../../eval/compare.js';
import { sortHits } from '../../order.js';
import { docText, readCorpus, readQueries } from '../../io/corpus.js';
import { readQrels, readRun, writeRun } from '../../io/trec.js';
import { openReranker, rerankRun } from '../../rerank/run.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
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
  'query-max-length': { kind: 'int', min: 1, default: d.queryMaxLength, help: 'query tokens (BOS included)' },
  'doc-max-length': { kind: 'int', min: 1, default: d.docMaxLength, help: 'passage tokens' },
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

const runOptions = {
  model: { kind: 'string', required: true, help: 'cross-encoder directory written by `lion rerank train`' },
  base: { kind: 'string', help: 'base model (needed when the cross-encoder is a LoRA adapter)' },
  run: { kind: 'string', required: true, help: 'first-stage TREC run to re-rank' },
  corpus: { kind: 'string', required: true, help: 'documents (BEIR corpus.jsonl or folder, or TSV pid\\ttext)' },
  queries: { kind: 'string', required: true, help: 'queries (BEIR queries.jsonl or TSV qid\\ttext)' },
  out: { kind: 'string', required: true, help: 'TREC run to write' },
  depth: { kind: 'int', default: DEFAULTS.rerank.depth, help: 'hits per query re-scored (the rest keep their first-stage order below them)' },
  'query-max-length': { kind: 'int', default: d.queryMaxLength, help: 'query tokens (BOS included)' },
  'doc-max-length': { kind: 'int', default: DEFAULTS.rerank.maxLength, help: 'document tokens' },
  qrels: { kind: 'string', help: 'judgements: report the gain over the first stage with paired significance tests' },
  measure: { kind: 'string', default: 'ndcg_cut.10', help: 'with --qrels: measure of the report' },
  tag: { kind: 'string', default: 'lion-rerank', help: 'run tag' },
  progress: { kind: 'boolean', help: 'show progress even when stderr is not a terminal' },
} satisfies OptTable;

export const rerankRunCommand: Command = {
  name: 'rerank run',
  summary: 're-rank a first-stage run with a cross-encoder (and report the gain with significance)',
  usage: 'lion rerank run --model ce-model --run bm25.trec --corpus scifact --queries scifact --depth 100 --out reranked.trec [--qrels scifact/qrels/test.tsv]',
  options: runOptions,
  async run(argv) {
    const o = parseArgs(argv, runOptions, 'rerank run');
    if (o._.length) throw new UsageError(`rerank run: unexpected argument '${o._[0]}'`);
    const first = await readRun(o.run);
    const queries = new Map<string, string>();
    for await (const q of readQueries(o.queries)) if (first.has(q.id)) queries.set(q.id, q.text);
    const wanted = new Set<string>();
    for (const hits of first.values()) for (const h of sortHits(hits).slice(0, o.depth)) wanted.add(h.docid);
    const texts = new Map<string, string>();
    for await (const r of readCorpus(o.corpus)) if (wanted.has(r.id)) texts.set(r.id, docText(r));
    const rr = openReranker(o.model, o.base);
    const bar = new Progress('rerank', first.size, 'queries', o.progress);
    const t0 = performance.now();
    const run = rerankRun(rr, first, queries, (id) => texts.get(id), {
      depth: o.depth, queryMaxLength: o['query-max-length'], docMaxLength: o['doc-max-length'], onProgress: () => bar.tick(),
    });
    bar.finish();
    await writeRun(o.out, run, { tag: o.tag });
    const seconds = (performance.now() - t0) / 1000;
    let report: RunComparison | undefined;
    if (o.qrels) {
      report = compareRuns(await readQrels(o.qrels), first, run, o.measure);
      process.stdout.write(`${formatComparison(report, [o.run, o.out])}\n`);
    }
    await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ command: 'rerank run', options: { ...o, _: undefined }, pairs: [...first.values()].reduce((a, h) => a + Math.min(h.length, o.depth), 0), seconds, ...(report ? { report } : {}) }, null, 2)}\n`);
    process.stderr.write(`rerank run: ${first.size} queries, depth ${o.depth}, ${seconds.toFixed(1)} s -> ${o.out}\n`);
    return 0;
  },
};
