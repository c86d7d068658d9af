/**
 * Lion's public API: the only entry point. Everything a library user needs is re-exported here.
 *
 * @example
 * ```ts
 * import { readQrels, readRun, evaluate } from 'lion-retrieval';
 * const qrels = await readQrels('qrels.txt');
 * const run = await readRun('run.trec');
 * console.log(evaluate(qrels, run, { measures: ['ndcg_cut.10'] }).mean);
 * ```
 */
export * from './errors.js';
export * from './types.js';
export { DEFAULTS } from './defaults.js';
export { writeFileAtomic, openAtomic, withAtomicWrite } from './util/atomic.js';
export { getKernels, ref as refKernels, loadNative, ropeInvFreq, ropeTables, ropeScalingFromConfig } from './kernels/index.js';
export type { Kernels, RopeScaling } from './kernels/index.js';
export { readLines, splitWhitespace } from './io/lines.js';
export type { Line } from './io/lines.js';
export { readCorpus, readQueries, docText, detectTextFormat, collect } from './io/corpus.js';
export { readBeirCorpus, readBeirQueries } from './io/beir.js';
export { readTsvRecords, readTriples } from './io/msmarco.js';
export type { Triple } from './io/msmarco.js';
export { readQrels, readRun, readRunFile, writeRun } from './io/trec.js';
export type { RunFile, WriteRunOptions } from './io/trec.js';
export { readTrainingFile, parseTrainingLine } from './io/training.js';
export type { TrainingKind, TrainingExample, ClExample, ClKdExample, KdExample, ReadTrainingOptions } from './io/training.js';
export { compareHits, sortHits, compareCodePoints } from './eval/order.js';
export { evaluate, evaluateFiles } from './eval/evaluate.js';
export type { EvalOptions, EvalResult, EvalColumn } from './eval/evaluate.js';
export { formatTrecEval, evalToJson, fixed4 } from './eval/format.js';
export type { FormatOptions } from './eval/format.js';
export { MEASURES, NICKNAMES, resolveMeasures, MIN_GEO_MEAN } from './eval/measures.js';
export type { MeasureDef, MeasureRequest, Aggregate } from './eval/measures.js';
export { rankRels, NONPOOL, UNJUDGED } from './eval/judge.js';
export type { RankedRels, JudgeOptions } from './eval/judge.js';
