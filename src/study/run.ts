/**
 * Runs the scaling study: every cell of a plan (grid.ts) is trained with `trainRetriever`, then its corpus
 * encoded, indexed (inverted index for sparse, flat inner-product index for dense), searched and evaluated
 * with the quickstart's pipeline (`neuralQuickstartSystem` + `runQuickstart`) on one BEIR collection.
 *
 * Work folder layout:
 *   bases/<size>/        from-scratch base models (seeded `initWeights`, saved with the tokenizer)
 *   cells/<cell id>/     the trainer's output (checkpoints, train_log.jsonl, final model or adapter)
 *   train.kd.jsonl       the KD view of the CL+KD training file (docids[0] = positive, aligned scores)
 *   results.json         { plan, cells: StudyResult[] }, rewritten atomically after every cell
 * Resumable: a cell already in results.json is skipped; a cell killed mid-training resumes from its last
 * checkpoint (the trainer's own resume). Teacher scores for KD and CL+KD come from the CL+KD training file the
 * user gives (`lion rerank score --format clkd` makes one from a CL file); CL reads the same file.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readTrainingFile } from '../io/training.js';
import type { Kernels } from '../kernels/types.js';
import { saveModel } from '../model/checkpoint.js';
import { LlamaModel } from '../model/llama.js';
import { neuralQuickstartSystem, runQuickstart } from '../quickstart.js';
import { initWeights } from '../train/init.js';
import { trainRetriever } from '../train/trainer.js';
import { writeFileAtomic } from '../util/atomic.js';
import { formatSeconds } from '../util/progress.js';
import { loadModelConfig } from '../model/registry.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import type { Paradigm } from '../encoders/encode.js';
import type { Objective } from '../train/losses.js';
import { countParams, parseSizes, planStudy, type StudyCell, type StudyPlan, type StudySize } from './grid.js';

/** One finished cell: its plan entry, what training did, and the retrieval metrics. */
export interface StudyResult extends StudyCell {
  ndcg10: number;
  mrr10: number;
  recall100: number;
  firstLoss: number;
  lastLoss: number;
  trainSeconds: number;
  evalSeconds: number;
  numQueries: number;
}

export interface StudyFile {
  collection: string;
  plan: StudyPlan;
  cells: StudyResult[];
}

export interface RunStudyOptions {
  plan: StudyPlan;
  /** The sizes the plan was made from (their `model` or `config` say where each base comes from). */
  sizes: readonly StudySize[];
  /** BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv (the evaluation collection). */
  collection: string;
  /** Training file: CL, or CL+KD (needed when the plan has KD or CL+KD cells). */
  trainFile: string;
  /** Corpus the training file's passage ids refer to (default: the collection's corpus.jsonl). */
  trainCorpus?: string;
  /** Work folder (see the file comment). */
  work: string;
  /** Tokenizer folder for from-scratch sizes. */
  tokenizer?: string;
  /** Full fine-tuning (default true for from-scratch sizes; LoRA on given base models otherwise). */
  full?: boolean;
  /** Trainer settings shared by every cell. */
  seed?: number;
  tau?: number;
  queryMaxLength?: number;
  docMaxLength?: number;
  warmupRatio?: number;
  /** Tokens per document at evaluation (default docMaxLength). */
  evalDocMaxLength?: number;
  kernels?: Kernels;
  onCell?: (message: string) => void;
}

/** Read a results file (missing -> undefined). */
export function readStudyFile(path: string): StudyFile | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: StudyFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as StudyFile;
  } catch (e) {
    throw new UsageError(`study results file is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  if (!Array.isArray(parsed.cells)) throw new UsageError('study results file has no "cells" array', { file: path, field: 'cells' });
  return parsed;
}

/** The training file's kind, from its first example. */
async function trainingKind(path: string): Promise<string> {
  for await (const ex of readTrainingFile(path)) return ex.kind;
  throw new UsageError('the training file holds no examples', { file: path });
}

/** Write the KD view of a CL+KD file: {"query", "docids": [pos, ...negs], "scores": [pos_score, ...neg_scores]}. */
async function kdView(clkd: string, out: string): Promise<void> {
  if (existsSync(out)) return;
  const lines: string[] = [];
  for await (const ex of readTrainingFile(clkd)) {
    if (ex.kind !== 'clkd') throw new UsageError('KD cells need teacher scores: give a CL+KD training file (`lion rerank score --format clkd`)', { file: clkd });
    lines.push(JSON.stringify({ query: ex.query, docids: [ex.posId, ...ex.negIds], scores: [ex.posScore, ...ex.negScores] }));
  }
  await writeFileAtomic(out, `${lines.join('\n')}\n`);
}

/** The base model directory of a size: the given one, or a seeded from-scratch model built once. */
async function baseModel(s: StudySize, o: RunStudyOptions): Promise<string> {
  if (s.model) return s.model;
  if (!s.config) throw new UsageError(`size ${s.name} has neither a base model nor a configuration`, { field: 'sizes' });
  if (!o.tokenizer) throw new UsageError(`size ${s.name} is built from scratch and needs a tokenizer folder`, { field: 'tokenizer' });
  const dir = join(o.work, 'bases', s.name);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  const m = new LlamaModel(s.config, { kernels: o.kernels, withHead: true });
  initWeights(m, o.seed ?? 42);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(join(o.tokenizer, f))) copyFileSync(join(o.tokenizer, f), join(dir, f));
  }
  await saveModel(m, dir);
  return dir;
}

/**
 * Run (or continue) the study; returns the results file's content. Cells already in `<work>/results.json`
 * are not run again.
 */
export async function runStudy(o: RunStudyOptions): Promise<StudyFile> {
  const say = o.onCell ?? (() => {});
  for (const [what, p] of [['collection corpus', join(o.collection, 'corpus.jsonl')], ['training file', o.trainFile]] as const) {
    if (!existsSync(p)) throw new UsageError(`${what} not found: ${p}`, { file: p });
  }
  mkdirSync(o.work, { recursive: true });
  const resultsPath = join(o.work, 'results.json');
  const prior = readStudyFile(resultsPath);
  const file: StudyFile = { collection: o.collection, plan: o.plan, cells: prior?.cells ?? [] };
  const done = new Set(file.cells.map((c) => c.id));
  // A finished cell is reused only when the plan still asks for the same training; otherwise say so.
  for (const c of o.plan.cells) {
    const prev = file.cells.find((x) => x.id === c.id);
    const changed = prev && (['params', 'epochs', 'batch', 'negatives', 'steps', 'lr'] as const).find((k) => prev[k] !== c[k]);
    if (changed) {
      throw new UsageError(`cell ${c.id} in ${resultsPath} was run with ${changed} ${prev![changed]}, the plan now asks for ${c[changed]}`, {
        file: resultsPath, field: changed, hint: 'use a new --work folder for a different plan',
      });
    }
  }
  const kind = await trainingKind(o.trainFile);
  const needsTeacher = o.plan.cells.some((c) => c.objective !== 'cl');
  if (needsTeacher && kind !== 'clkd') {
    throw new UsageError(`the plan has KD or CL+KD cells but ${o.trainFile} is a ${kind.toUpperCase()} file`, {
      file: o.trainFile, hint: 'score it with `lion rerank score --format clkd`, or run only --objectives cl',
    });
  }
  const kdFile = join(o.work, 'train.kd.jsonl');
  if (o.plan.cells.some((c) => c.objective === 'kd')) await kdView(o.trainFile, kdFile);
  const corpus = o.trainCorpus ?? join(o.collection, 'corpus.jsonl');
  // Progress: cells done of the plan, and an ETA from the steps trained so far in this process.
  const totalSteps = o.plan.cells.filter((c) => !done.has(c.id)).reduce((a, c) => a + c.steps, 0);
  let stepsDone = 0, secondsSoFar = 0, cellNo = 0;
  const eta = () => (stepsDone > 0 ? ` (ETA ${formatSeconds((secondsSoFar / stepsDone) * (totalSteps - stepsDone))})` : '');
  for (const cell of o.plan.cells) {
    cellNo++;
    if (done.has(cell.id)) { say(`${cell.id}: done already`); continue; }
    const cellStart = performance.now();
    const size = o.sizes.find((s) => s.name === cell.size);
    if (!size) throw new UsageError(`plan cell ${cell.id} names size ${cell.size}, which is not among the sizes given`, { field: 'sizes' });
    const model = await baseModel(size, o);
    const full = !size.adapter && (o.full ?? !size.model);
    const output = join(o.work, 'cells', cell.id);
    say(`${cell.id}: cell ${cellNo}/${o.plan.cells.length}, training ${cell.steps} steps (batch ${cell.batch}, ${cell.negatives} negatives)${eta()}`);
    const t0 = performance.now();
    const sum = await trainRetriever({
      paradigm: cell.paradigm, objective: cell.objective, model, adapter: size.adapter, full, trainFile: cell.objective === 'kd' ? kdFile : o.trainFile,
      corpus, output, maxSteps: cell.steps, batchSize: cell.batch, gradAccum: 1, negatives: cell.negatives, lr: cell.lr,
      seed: o.seed, tau: o.tau, queryMaxLength: o.queryMaxLength, docMaxLength: o.docMaxLength, warmupRatio: o.warmupRatio,
      saveEvery: Math.max(1, Math.ceil(cell.steps / 5)), logEvery: Math.max(1, Math.ceil(cell.steps / 20)), kernels: o.kernels,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    say(`${cell.id}: evaluating`);
    const t1 = performance.now();
    const system = full
      ? neuralQuickstartSystem({ paradigm: cell.paradigm, model: output, name: cell.id, docMaxLength: o.evalDocMaxLength ?? o.docMaxLength, kernels: o.kernels })
      : neuralQuickstartSystem({ paradigm: cell.paradigm, model, adapter: output, name: cell.id, docMaxLength: o.evalDocMaxLength ?? o.docMaxLength, kernels: o.kernels });
    const q = await runQuickstart({ collection: { name: o.collection, dir: o.collection }, systems: [system], k: 100 });
    const row = q.rows[0]!;
    file.cells.push({
      ...cell, ndcg10: row.ndcg10, mrr10: row.mrr10, recall100: row.recall100, firstLoss: sum.firstLoss, lastLoss: sum.lastLoss,
      trainSeconds, evalSeconds: (performance.now() - t1) / 1000, numQueries: q.numEvaluated,
    });
    await writeFileAtomic(resultsPath, `${JSON.stringify(file, null, 2)}\n`);
    stepsDone += cell.steps;
    secondsSoFar += (performance.now() - cellStart) / 1000;
    say(`${cell.id}: nDCG@10 ${row.ndcg10.toFixed(4)}  R@100 ${row.recall100.toFixed(4)}${eta()}`);
  }
  await writeFileAtomic(resultsPath, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

/** What `prepareStudy` needs: sizes as text (grid.ts `parseSizes`), the training file, the budget knobs. */
export interface PrepareStudyOptions {
  sizes: string;
  /** Tokenizer folder for toy sizes (its vocabulary and BOS/EOS ids shape the from-scratch models). */
  tokenizer?: string;
  /** Base model directories, one per size in order, instead of from-scratch models (comma-separated sizes keep their names). */
  models?: readonly string[];
  /** MNTP (or other) PEFT adapters, one per base model, continued by every cell of that size (as the paper does). */
  adapters?: readonly string[];
  /** Training file whose example count is the epoch; else `examples`. */
  trainFile?: string;
  examples?: number;
  paradigms?: readonly Paradigm[];
  objectives?: readonly Objective[];
  budget?: number;
  batch?: number;
  kdBatchFactor?: number;
  negatives?: number;
  lr?: number;
  integerEpochs?: boolean;
}

/** Resolve sizes and plan from textual options (what `lion study plan` and `lion study run` share). */
export async function prepareStudy(o: PrepareStudyOptions): Promise<{ sizes: StudySize[]; plan: StudyPlan }> {
  const tok = o.tokenizer ? loadTokenizer(o.tokenizer) : undefined;
  const sizes = parseSizes(o.sizes, { vocab: tok?.vocabSize, bosTokenId: tok?.bosId ?? undefined, eosTokenId: tok?.eosId ?? undefined, batch: o.batch });
  if (o.models) {
    if (o.models.length !== sizes.length) throw new UsageError(`${o.models.length} base models for ${sizes.length} sizes`, { field: 'models' });
    sizes.forEach((s, i) => {
      const dir = o.models![i]!;
      s.model = dir;
      s.params = countParams(loadModelConfig(dir));
      delete s.config;
    });
  }
  if (o.adapters) {
    if (!o.models || o.adapters.length !== o.models.length) throw new UsageError('give one adapter per base model (--models)', { field: 'adapters' });
    sizes.forEach((s, i) => { s.adapter = o.adapters![i]; });
  }
  let examples = o.examples;
  if (o.trainFile) {
    examples = 0;
    for await (const _ of readTrainingFile(o.trainFile)) examples++;
  }
  if (examples === undefined) throw new UsageError('give a training file or a number of examples per epoch', { field: 'examples' });
  const plan = planStudy({
    sizes, examples, paradigms: o.paradigms, objectives: o.objectives, budget: o.budget, negatives: o.negatives, lr: o.lr,
    kdBatchFactor: o.kdBatchFactor, integerEpochs: o.integerEpochs,
  });
  return { sizes, plan };
}
