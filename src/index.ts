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
export { readJsonLines } from './io/jsonl.js';
export type { JsonLine } from './io/jsonl.js';
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
export { createEnglishAnalyzer, tokenizeStandard, ENGLISH_STOP_WORDS, analyzerName } from './bm25/analyzer.js';
export type { Analyzer, AnalyzerOptions } from './bm25/analyzer.js';
export { buildBm25Index, docIdOf, termIdOf, termOf } from './bm25/build.js';
export type { Bm25Index, Bm25IndexMeta, BuildOptions as Bm25BuildOptions } from './bm25/build.js';
export { readBm25Index, writeBm25Index, BM25_MAGIC, BM25_FORMAT_VERSION } from './bm25/format.js';
export { createBm25Searcher, searchBm25, searchBm25All, queryTerms as bm25QueryTerms, topK as bm25TopK } from './bm25/search.js';
export type { Bm25Searcher, QueryTerm as Bm25QueryTerm, SearchManyOptions as Bm25SearchOptions } from './bm25/search.js';
export { bm25Idf, bm25TermScore, bm25NormInverse, bm25Reference, intToByte4, byte4ToInt } from './bm25/similarity.js';
export type { Bm25Params } from './bm25/similarity.js';
export { indexCorpusFile, searchIndexFile } from './bm25/pipeline.js';
export type { IndexFileOptions, IndexFileResult, SearchFileOptions, SearchFileResult } from './bm25/pipeline.js';
export { runQuickstart, formatQuickstart, bm25QuickstartSystem, shippedCranfield } from './quickstart.js';
export type { QuickstartSystem, QuickstartRow, QuickstartResult, QuickstartOptions, QuickstartCollection } from './quickstart.js';
export { openCheckpoint, readSafetensorsHeader, readTensor, readTensorInto, writeSafetensors } from './io/safetensors.js';
export type { TensorInfo, SafetensorsIndex, TensorToWrite } from './io/safetensors.js';
export { readHfConfig } from './io/hfconfig.js';
export { readPeftAdapter, writePeftAdapter, peftKey } from './io/peft.js';
export type { PeftAdapter, AdapterLayout } from './io/peft.js';
export { Arena } from './model/arena.js';
export { LlamaModel, realStarts } from './model/llama.js';
export type { TokenBatch, ModelOptions, ModelParam, Trainable } from './model/llama.js';
export { LORA_TARGETS, loraScale } from './model/lora.js';
export type { LoraConfig, LoraTarget } from './model/lora.js';
export { normaliseConfig, loadModelConfig, parameterSpecs, SUPPORTED_MODEL_TYPES } from './model/registry.js';
export type { ModelConfig } from './model/registry.js';
export { loadModel, loadAdapterModel, resolveAdapterBase, saveModel, saveAdapter } from './model/checkpoint.js';
export type { LoadOptions } from './model/checkpoint.js';
export { loadTokenizer, llama3Tokenizer } from './tokenizer/tokenizer.js';
export type { LionTokenizer } from './tokenizer/tokenizer.js';
