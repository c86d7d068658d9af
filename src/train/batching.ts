/**
 * Training data for retrieval fine-tuning: load and validate a training file (spec §5.1) against the objective,
 * fetch the passages it names from a corpus, and cut the run into deterministic micro-batches.
 *
 * Determinism: the order of epoch e is Rng.derive(seed, ORDER, e).permutation(N) and the negatives of example i
 * in epoch e come from Rng.derive(seed, NEGS, e, i). A micro-batch is therefore a pure function of (seed, its
 * global index), which is what makes a resumed run draw exactly the batches the uninterrupted run would have.
 *
 * Sampling (the reference dataset.py): CL and CL+KD take n negatives without replacement from the example's
 * list, independently every epoch, with their aligned teacher scores; KD takes docids[0] as the positive and one
 * negative uniformly from the rest. The last partial batch of an epoch is dropped (fixed shapes).
 *
 * Batch layout (losses.ts): contexts = [positives (B), query 0's n negatives, ..., query B−1's n negatives].
 */
import { UsageError } from '../errors.js';
import { docText, readCorpus } from '../io/corpus.js';
import { readTrainingFile, type TrainingExample, type TrainingKind } from '../io/training.js';
import type { Objective } from './losses.js';
import { Rng } from '../util/rng.js';

const ORDER = 1, NEGS = 2;

/** The training-file kind each objective reads (CL can also read a CL+KD file and ignore its scores). */
export const OBJECTIVE_KINDS: Record<Objective, TrainingKind[]> = { cl: ['cl', 'clkd'], 'cl+kd': ['clkd'], kd: ['kd'] };

/** Hard negatives per query the objective uses: `negatives` for CL and CL+KD, always 1 for KD. */
export function negativesFor(objective: Objective, negatives: number): number {
  return objective === 'kd' ? 1 : negatives;
}

/**
 * Check a loaded training set against the objective before any work: the file kind must carry what the
 * objective needs (teacher scores for KD and CL+KD), and every example needs enough negatives.
 */
export function validateTrainingSet(examples: readonly TrainingExample[], objective: Objective, negatives: number, file = 'training file'): void {
  if (examples.length === 0) throw new UsageError(`${file} holds no training examples`);
  const kind = examples[0]!.kind;
  if (!OBJECTIVE_KINDS[objective].includes(kind)) {
    const need = objective === 'kd'
      ? 'KD needs teacher scores in the KD format {"query", "docids", "scores"}'
      : objective === 'cl+kd'
        ? 'CL+KD needs teacher scores: {"question", "pos_pid", "neg_pids", "pos_score", "neg_scores"}'
        : 'CL needs {"question", "pos_pid", "neg_pids"}';
    throw new UsageError(`${file} is a ${kind.toUpperCase()} file; ${need}`, { file, hint: 'pass a training file of the right format, or another --objective' });
  }
  const n = negativesFor(objective, negatives);
  if (!(n >= 1) || !Number.isInteger(n)) throw new UsageError(`--negatives must be a positive integer, got ${negatives}`);
  examples.forEach((ex, i) => {
    const avail = ex.kind === 'kd' ? ex.docIds.length - 1 : ex.negIds.length;
    if (avail < n) {
      throw new UsageError(`example ${i + 1} (query "${ex.query.slice(0, 60)}") has ${avail} negatives, fewer than the ${n} asked for`, {
        file, line: i + 1, hint: 'lower --negatives or mine more negatives (`lion mine`)',
      });
    }
  });
}

/** Read a whole training file (examples are small: ids and scores). */
export async function loadTrainingSet(path: string, objective: Objective, negatives: number): Promise<TrainingExample[]> {
  const examples: TrainingExample[] = [];
  for await (const ex of readTrainingFile(path)) examples.push(ex);
  validateTrainingSet(examples, objective, negatives, path);
  return examples;
}

/** Every passage id a training set refers to. */
export function referencedIds(examples: readonly TrainingExample[]): Set<string> {
  const ids = new Set<string>();
  for (const ex of examples) {
    if (ex.kind === 'kd') for (const d of ex.docIds) ids.add(d);
    else { ids.add(ex.posId); for (const d of ex.negIds) ids.add(d); }
  }
  return ids;
}

/** Load the text (`docText`) of the wanted passages from a corpus; a missing one is an error naming it. */
export async function loadPassages(corpusPath: string, wanted: ReadonlySet<string>): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const rec of readCorpus(corpusPath)) if (wanted.has(rec.id)) texts.set(rec.id, docText(rec));
  if (texts.size < wanted.size) {
    const missing = [...wanted].filter((id) => !texts.has(id));
    throw new UsageError(`${missing.length} passage ids of the training file are not in the corpus (first: ${missing.slice(0, 3).join(', ')})`, {
      file: corpusPath, hint: 'train with the corpus the training file was made from',
    });
  }
  return texts;
}

/**
 * Tokenise the wanted passages while streaming the corpus, keeping only their token ids (cut to `maxLength`)
 * in pooled Int32Array chunks: about 4 bytes per token plus the id map, never the corpus text.
 */
export async function loadPassageTokens(
  corpusPath: string, wanted: ReadonlySet<string>, encode: (text: string) => number[], maxLength: number,
): Promise<Map<string, Int32Array>> {
  const out = new Map<string, Int32Array>();
  const CHUNK = 1 << 20;
  let pool = new Int32Array(CHUNK), used = 0;
  for await (const rec of readCorpus(corpusPath)) {
    if (!wanted.has(rec.id) || out.has(rec.id)) continue;
    const ids = encode(docText(rec)).slice(0, maxLength);
    if (used + ids.length > pool.length) { pool = new Int32Array(Math.max(CHUNK, ids.length)); used = 0; }
    const view = pool.subarray(used, used + ids.length);
    view.set(ids);
    used += ids.length;
    out.set(rec.id, view);
  }
  if (out.size < wanted.size) {
    const missing = [...wanted].filter((id) => !out.has(id));
    throw new UsageError(`${missing.length} passage ids of the training file are not in the corpus (first: ${missing.slice(0, 3).join(', ')})`, {
      file: corpusPath, hint: 'train with the corpus the training file was made from',
    });
  }
  return out;
}

/** One sampled training example: a query, its 1 + n passage ids, and the teacher's scores of them. */
export interface SampledExample {
  query: string;
  docIds: string[]; // (1 + n) positive first
  teacher?: number[]; // (1 + n) raw teacher scores, when the file has them
}

/** Sample example `index` for `epoch` (see the file comment for the rules). */
export function sampleExample(ex: TrainingExample, n: number, seed: number, epoch: number, index: number): SampledExample {
  const rng = Rng.derive(seed, NEGS, epoch, index);
  if (ex.kind === 'kd') {
    const j = 1 + rng.int(ex.docIds.length - 1);
    return { query: ex.query, docIds: [ex.docIds[0]!, ex.docIds[j]!], teacher: [ex.scores[0]!, ex.scores[j]!] };
  }
  const picks = rng.sample(ex.negIds.length, n);
  const docIds = [ex.posId, ...picks.map((k) => ex.negIds[k]!)];
  if (ex.kind === 'cl') return { query: ex.query, docIds };
  return { query: ex.query, docIds, teacher: [ex.posScore, ...picks.map((k) => ex.negScores[k]!)] };
}

/** A micro-batch in loss layout. */
export interface TrainBatch {
  queries: string[]; // (B)
  contextIds: string[]; // (B·(1+n)) positives, then each query's negatives
  /** Raw teacher scores (B, 1+n), per query positive first; absent for CL. */
  teacher?: Float64Array;
  epoch: number;
}

export interface BatchPlan {
  examples: number;
  /** Queries per micro-batch. */
  batchSize: number;
  /** Negatives per query. */
  n: number;
  seed: number;
}

/** Micro-batches in one epoch (the partial last one is dropped; at least 1). */
export function microBatchesPerEpoch(plan: BatchPlan): number {
  if (plan.batchSize > plan.examples) {
    throw new UsageError(`batch size ${plan.batchSize} is larger than the ${plan.examples} training examples`);
  }
  return Math.floor(plan.examples / plan.batchSize);
}

let orderCache: { key: string; order: Uint32Array } | undefined;

/** The example order of one epoch (cached: consecutive micro-batches share it). */
export function epochOrder(seed: number, epoch: number, examples: number): Uint32Array {
  const key = `${seed}/${epoch}/${examples}`;
  if (orderCache?.key !== key) orderCache = { key, order: Rng.derive(seed, ORDER, epoch).permutation(examples) };
  return orderCache.order;
}

/** The `m`-th micro-batch of the run (0-based over all epochs). */
export function microBatch(examples: readonly TrainingExample[], plan: BatchPlan, m: number): TrainBatch {
  const per = microBatchesPerEpoch(plan);
  const epoch = Math.floor(m / per);
  const order = epochOrder(plan.seed, epoch, plan.examples);
  const start = (m % per) * plan.batchSize;
  const sampled: SampledExample[] = [];
  for (let b = 0; b < plan.batchSize; b++) {
    const i = order[start + b]!;
    sampled.push(sampleExample(examples[i]!, plan.n, plan.seed, epoch, i));
  }
  const B = plan.batchSize, n = plan.n;
  const contextIds = [...sampled.map((s) => s.docIds[0]!), ...sampled.flatMap((s) => s.docIds.slice(1))];
  const batch: TrainBatch = { queries: sampled.map((s) => s.query), contextIds, epoch };
  if (sampled[0]!.teacher) {
    const t = new Float64Array(B * (1 + n)); // (B, 1+n)
    sampled.forEach((s, b) => t.set(s.teacher!, b * (1 + n)));
    batch.teacher = t;
  }
  return batch;
}
