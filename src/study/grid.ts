/**
 * The scaling study's grid (spec §1.1, §4.2, §4.3): model sizes × paradigms (sparse, dense) × objectives
 * (cl, kd, cl+kd), each cell resolved to trainer options under the paper's fixed compute budget.
 *
 * The budget rule, as the paper's scripts implement it (spec §4.3):
 *   - the budget B is counted in parameter·document-passes per training query;
 *   - CL and CL+KD encode 1 positive + 16 negatives = 17 documents per query per epoch, so their epochs are
 *     e = round(B / (P · (1 + negatives))), at least 1 (1B: 7, 3B: 3, 8B: 1 with the paper's B);
 *   - KD encodes 2 documents per query (positive + 1 sampled negative), so it gets ⌊(1 + negatives) / 2⌋ times
 *     the CL epochs (8 × → 56 / 24 / 8): as many document passes as CL without exceeding them;
 *   - KD also runs a larger batch (`kdBatch`, 1024 / 512 / 512 in the paper against 112 / 128 / 128);
 *   - optimiser steps = round(examples · epochs / batch); lr and warm-up are the same for every cell.
 * With `integerEpochs: false` the epochs stay fractional (toy sizes whose parameter counts differ by less
 * than 2× would otherwise collapse onto the same integer).
 *
 * Invariants: cells come out ordered size-major, then paradigm, then objective; every cell has steps ≥ 1.
 */
import { UsageError } from '../errors.js';
import type { Paradigm } from '../encoders/encode.js';
import type { Objective } from '../train/losses.js';
import { parameterSpecs, type ModelConfig } from '../model/registry.js';

/** One model size of the study. */
export interface StudySize {
  /** Label, e.g. "1B" or "h32l1". */
  name: string;
  /** Parameter count (embeddings counted once when tied, as Hugging Face counts them). */
  params: number;
  /** Queries per optimiser step for CL and CL+KD. */
  batch: number;
  /** Queries per optimiser step for KD (default `batch`·`kdBatchFactor` of the plan options). */
  kdBatch?: number;
  /** From-scratch model configuration (toy sizes); absent when the size is a given base model. */
  config?: ModelConfig;
  /** Base model directory (Hugging Face layout) to fine-tune; absent for from-scratch sizes. */
  model?: string;
  /** PEFT adapter of `model` to continue (the paper continues each size's MNTP adapter). */
  adapter?: string;
}

/** How the budget is turned into cells. */
export interface PlanOptions {
  sizes: readonly StudySize[];
  paradigms?: readonly Paradigm[];
  objectives?: readonly Objective[];
  /** Training examples in one epoch (MS MARCO: 532,751). */
  examples: number;
  /** Parameter·document-passes per training query; default: one CL epoch of the largest size. */
  budget?: number;
  /** Hard negatives per query for CL and CL+KD (paper: 16); KD always uses 1. */
  negatives?: number;
  /** Learning rate of every cell (paper: 1e-4). */
  lr?: number;
  /** KD batch = CL batch × this when a size gives no kdBatch (default 4, the paper's 3B/8B ratio). */
  kdBatchFactor?: number;
  /** Round epochs to whole numbers as the paper does (default true). */
  integerEpochs?: boolean;
}

/** One cell: a size, a paradigm, an objective, and the trainer options it resolves to. */
export interface StudyCell {
  id: string;
  size: string;
  params: number;
  paradigm: Paradigm;
  objective: Objective;
  /** Documents encoded per query per epoch (1 + negatives, or 2 for KD). */
  docsPerQuery: number;
  epochs: number;
  batch: number;
  negatives: number;
  steps: number;
  lr: number;
  /** params · docsPerQuery · epochs: the compute the cell spends per training query. */
  spent: number;
}

export interface StudyPlan {
  budget: number;
  examples: number;
  cells: StudyCell[];
}

export const PARADIGMS: readonly Paradigm[] = ['sparse', 'dense'];
export const OBJECTIVES: readonly Objective[] = ['cl', 'kd', 'cl+kd'];

/** The paper's three backbones with their CL / KD batches (spec §4.2); params of Llama-3.2-1B/3B, Llama-3-8B. */
export const PAPER_SIZES: readonly StudySize[] = [
  { name: '1B', params: 1.24e9, batch: 112, kdBatch: 1024 },
  { name: '3B', params: 3.21e9, batch: 128, kdBatch: 512 },
  { name: '8B', params: 8.03e9, batch: 128, kdBatch: 512 },
];
/** The paper's training-set size (MS MARCO train, one example per query–positive pair). */
export const PAPER_EXAMPLES = 532_751;
/** A budget that reproduces the paper's epochs (7 / 3 / 1 for CL) with the paper's sizes. */
export const PAPER_BUDGET = 1.45e11;

/** Parameters of a configuration (trunk + embeddings; a tied head is not counted twice). */
export function countParams(c: ModelConfig): number {
  return parameterSpecs(c, true).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** Documents per query per epoch the objective encodes. */
export function docsPerQuery(objective: Objective, negatives: number): number {
  return objective === 'kd' ? 2 : 1 + negatives;
}

/** Resolve every cell of the grid under the budget rule (see the file comment). */
export function planStudy(o: PlanOptions): StudyPlan {
  const paradigms = o.paradigms ?? PARADIGMS, objectives = o.objectives ?? OBJECTIVES;
  const negatives = o.negatives ?? 16, lr = o.lr ?? 1e-4, factor = o.kdBatchFactor ?? 4;
  const integer = o.integerEpochs ?? true;
  if (o.sizes.length === 0) throw new UsageError('the study needs at least one model size', { field: 'sizes' });
  if (!(Number.isInteger(o.examples) && o.examples >= 1)) throw new UsageError(`examples must be a positive integer, got ${o.examples}`, { field: 'examples' });
  if (!(Number.isInteger(negatives) && negatives >= 1)) throw new UsageError(`negatives must be a positive integer, got ${negatives}`, { field: 'negatives' });
  for (const s of o.sizes) {
    if (!(s.params > 0)) throw new UsageError(`size ${s.name}: parameter count must be positive, got ${s.params}`, { field: 'sizes' });
    if (!(Number.isInteger(s.batch) && s.batch >= 1)) throw new UsageError(`size ${s.name}: batch must be a positive integer, got ${s.batch}`, { field: 'batch' });
  }
  const largest = Math.max(...o.sizes.map((s) => s.params));
  const budget = o.budget ?? largest * (1 + negatives);
  if (!(budget > 0)) throw new UsageError(`budget must be positive, got ${budget}`, { field: 'budget' });
  const cells: StudyCell[] = [];
  for (const s of o.sizes) {
    const clDocs = 1 + negatives;
    const clExact = budget / (s.params * clDocs);
    const clEpochs = integer ? Math.max(1, Math.round(clExact)) : clExact;
    for (const paradigm of paradigms) {
      for (const objective of objectives) {
        const kd = objective === 'kd';
        const docs = docsPerQuery(objective, negatives);
        // KD matches CL's document passes without exceeding them: ⌊17/2⌋ = 8 × the CL epochs.
        const epochs = kd ? clEpochs * Math.floor(clDocs / 2) : clEpochs;
        const batch = kd ? (s.kdBatch ?? s.batch * factor) : s.batch;
        const steps = Math.max(1, Math.round((o.examples * epochs) / batch));
        cells.push({
          id: `${s.name}-${paradigm}-${objective}`, size: s.name, params: s.params, paradigm, objective, docsPerQuery: docs,
          epochs, batch, negatives: kd ? 1 : negatives, steps, lr, spent: s.params * docs * epochs,
        });
      }
    }
  }
  return { budget, examples: o.examples, cells };
}

/**
 * Parse a size list: paper presets (`1b`, `3b`, `8b`), or toy shapes `h<hidden>l<layers>` (e.g. `h32l1`),
 * built on `vocab` with heads of 16 dimensions and an MLP of 3 × hidden. `batch` applies to toy shapes.
 */
export function parseSizes(spec: string, o: { vocab?: number; bosTokenId?: number; eosTokenId?: number; batch?: number } = {}): StudySize[] {
  return spec.split(',').map((raw) => raw.trim()).filter(Boolean).map((name) => {
    const preset = PAPER_SIZES.find((p) => p.name.toLowerCase() === name.toLowerCase());
    if (preset) return { ...preset };
    const m = /^h(\d+)l(\d+)$/i.exec(name);
    if (!m) throw new UsageError(`size '${name}' is neither a paper preset (1b, 3b, 8b) nor h<hidden>l<layers> (e.g. h32l1)`, { field: 'sizes' });
    const hidden = Number(m[1]), layers = Number(m[2]);
    if (hidden < 16 || hidden % 16 !== 0 || layers < 1) throw new UsageError(`size '${name}': hidden must be a positive multiple of 16 and layers ≥ 1`, { field: 'sizes' });
    const config = toyConfig(hidden, layers, o.vocab ?? 32_000, o.bosTokenId ?? 1, o.eosTokenId ?? 2);
    return { name: name.toLowerCase(), params: countParams(config), batch: o.batch ?? 16, config };
  });
}

/** A small Llama configuration for from-scratch study sizes (bidirectional attention is set at load time). */
export function toyConfig(hidden: number, layers: number, vocab: number, bos: number, eos: number): ModelConfig {
  const heads = hidden / 16;
  return {
    modelType: 'llama', vocabSize: vocab, hiddenSize: hidden, numLayers: layers, numHeads: heads, numKvHeads: heads, headDim: 16,
    intermediateSize: 3 * hidden, rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 512,
    tieWordEmbeddings: true, qkvBias: false, oBias: false, mlpBias: false, bosTokenId: bos, eosTokenId: eos,
  };
}

/** The plan as a fixed-width text table. */
export function formatPlan(p: StudyPlan): string {
  const head = ['cell', 'params', 'docs/q', 'epochs', 'batch', 'negs', 'steps', 'lr', 'param·doc-passes'];
  const fmtEp = (e: number) => (Number.isInteger(e) ? String(e) : e.toFixed(2));
  const body = p.cells.map((c) => [c.id, formatCount(c.params), String(c.docsPerQuery), fmtEp(c.epochs), String(c.batch), String(c.negatives), String(c.steps), String(c.lr), c.spent.toExponential(3)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [`budget ${p.budget.toExponential(3)} param·doc-passes per training query; ${p.examples} examples per epoch`, '', line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

/** 1.24e9 -> "1.24B", 51234 -> "51.2K". */
export function formatCount(n: number): string {
  const units: Array<[number, string]> = [[1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [v, u] of units) if (n >= v) return `${(n / v).toPrecision(3)}${u}`;
  return String(n);
}
