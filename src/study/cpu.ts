/**
 * The scaling study at CPU scale, end to end and resumable (`lion study cpu`):
 *
 *   1. data     SciFact train claims split by query id into fitting (id mod 5 ≠ 0) and held-out (id mod 5 = 0)
 *               queries; BM25 hard negatives (top `mineDepth`, positives removed); the lexical teacher
 *               (teacher.ts) fitted on the fitting queries and measured against BM25 on the held-out ones;
 *               CL, CL+KD and KD training files of the fitting queries; a corrupted CL file (a fraction
 *               `noise` of examples has its positive swapped with one of its hard negatives: a false positive
 *               and a false negative); the held-out examples (for the held-out contrastive loss).
 *   2. mntp     per size, from scratch, tokens = `mntpTokensPerParam` × parameters, on an evenly strided sample of
 *               the pretraining corpus (data/pretrain.sample.jsonl, ~1.2 × the largest size's tokens).
 *   3. cells    sizes × paradigms × objectives under the fixed-compute rule (grid.ts, fractional epochs), plus
 *               the robustness cells (CL on the corrupted file at `noiseSizes`, both paradigms); each trained
 *               fully from its size's MNTP model, then scored on the suite (suite.ts) and on the held-out
 *               contrastive loss.
 *   4. report   written by `writeCpuReport` (report-cpu.ts) from results.json.
 *
 * Work folder: data/, mntp/<size>/, cells/<cell>/, results.json (rewritten atomically after every cell).
 * Killing the process at any point and re-running the same command continues: finished stages are skipped by
 * their outputs, MNTP and cell training resume from their last checkpoints, finished cells are read back.
 * A re-run with different settings is refused (the settings are recorded in results.json).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { UsageError } from '../errors.js';
import { collect, docText, readCorpus, readQueries } from '../io/corpus.js';
import { readQrels } from '../io/trec.js';
import { loadModel } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import type { EncoderTokenizer } from '../encoders/batch.js';
import { loadTokenizer, type LionTokenizer } from '../tokenizer/tokenizer.js';
import { trainMntp } from '../train/mntp-trainer.js';
import { trainRetriever } from '../train/trainer.js';
import { Rng } from '../util/rng.js';
import { writeFileAtomic } from '../util/atomic.js';
import { formatSeconds } from '../util/progress.js';
import type { Paradigm } from '../encoders/encode.js';
import type { Objective } from '../train/losses.js';
import type { Qrels, TextRecord } from '../types.js';
import { countParams, formatCount, OBJECTIVES, PARADIGMS, parseSizes, planStudy, type StudyCell, type StudySize } from './grid.js';
import { encodeAll, evaluateRetriever, loadSuite, SUITE_ID, suiteDocCount, type Suite, type SuiteScore } from './suite.js';
import { candidateFeatures, fitTeacher, LexicalFeatures, rerankNdcg, teacherScore, type TeacherModel } from './teacher.js';

/** Settings of a CPU study; every field has a default (DEFAULT_CPU_STUDY) and is recorded in results.json. */
export interface CpuStudySettings {
  sizes: string;
  /** MNTP tokens per model parameter (parameters as HF counts them: trunk + tied embeddings). */
  mntpTokensPerParam: number;
  mntpBlockLength: number;
  mntpBatch: number;
  mntpLr: number;
  /** CL epochs of the largest size; the fixed budget B = P_largest · (1 + negatives) · this. */
  largestEpochs: number;
  batch: number;
  kdBatchFactor: number;
  negatives: number;
  lr: number;
  tau: number;
  queryMaxLength: number;
  docMaxLength: number;
  evalDocMaxLength: number;
  /** Hard negatives kept per training query (from the BM25 top `mineDepth`). */
  mineNegatives: number;
  mineDepth: number;
  /** Fraction of corrupted CL examples in the robustness cells, and the sizes they run at. */
  noise: number;
  noiseSizes: string;
  seed: number;
  /** FLOPS regulariser weights of the sparse cells (paper: 0.05 / 0.04; lower here, see docs/study.md). */
  lambdaQ: number;
  lambdaD: number;
}

export const DEFAULT_CPU_STUDY: CpuStudySettings = {
  sizes: 'h32l1,h48l1,h64l2,h96l2,h128l3', mntpTokensPerParam: 0.5, mntpBlockLength: 128, mntpBatch: 16, mntpLr: 1e-3,
  largestEpochs: 2, batch: 8, kdBatchFactor: 4, negatives: 3, lr: 1e-3, tau: 0.05, queryMaxLength: 32, docMaxLength: 64,
  evalDocMaxLength: 96, mineNegatives: 30, mineDepth: 100, noise: 0.3, noiseSizes: 'h32l1,h64l2,h128l3', seed: 45, lambdaQ: 0.01, lambdaD: 0.008,
};

export interface CpuStudyOptions {
  settings: CpuStudySettings;
  /** Shared data folder (scifact/, cranfield/beir/, med/beir/, trec-dl-2019/, trec-dl-2020/). */
  data: string;
  /** Pretraining text (jsonl or tsv) and the tokenizer folder (vocabulary of every size). */
  pretrainCorpus: string;
  tokenizer: string;
  work: string;
  /** Evaluation collections to use (default all five). */
  collections?: readonly string[];
  /** Read at most this many pretraining passages (tests). */
  maxPretrainPassages?: number;
  say?: (line: string) => void;
}

/** One evaluated cell. */
export interface CpuCellResult extends StudyCell {
  nonEmbeddingParams: number;
  /** Fraction of corrupted training examples (0 for the main grid). */
  noise: number;
  mntpTokens: number;
  /** Estimated training FLOPs, 6 · non-embedding params · tokens (MNTP + fine-tuning), Kaplan's convention. */
  computeFlops: number;
  fineTuneTokens: number;
  firstLoss: number;
  lastLoss: number;
  /** InfoNCE over each held-out query's positive and `negatives` hard negatives (dense: scores / τ). */
  heldoutLoss: number;
  suite: SuiteScore;
  /** Which evaluation suite scored the cell (SUITE_ID); a cell scored by an older suite is re-scored on resume. */
  suiteId?: string;
  trainSeconds: number;
  evalSeconds: number;
  /** CPU seconds of this process (user + system) spent training and evaluating the cell. */
  trainCpuSeconds: number;
  evalCpuSeconds: number;
}

export interface CpuStudyFile {
  settings: CpuStudySettings;
  machine: { cpu: string; cores: number; node: string };
  teacher: TeacherModel & { fitQueries: number; heldoutQueries: number; fitNdcg10: number; heldoutNdcg10: number; bm25HeldoutNdcg10: number };
  bm25: Record<string, number>;
  sizes: Array<{ name: string; params: number; nonEmbeddingParams: number; mntpTokens: number; mntpSteps: number; mntpSeconds: number; mntpFirstLoss: number; mntpLastLoss: number; mntpCpuSeconds: number }>;
  examples: { fit: number; heldout: number; noisy: number };
  cells: CpuCellResult[];
  planned: number;
  seconds: { data: number; mntp: number; cells: number };
}

/** Parameters outside the (tied) embedding matrix. */
export function nonEmbeddingParams(s: StudySize): number {
  const c = s.config!;
  return countParams(c) - c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2);
}

/** The cells of a CPU study in run order: the main grid, then the robustness cells. */
export function cpuPlan(set: CpuStudySettings, sizes: StudySize[], examples: number): Array<StudyCell & { noise: number }> {
  const budget = Math.max(...sizes.map((s) => s.params)) * (1 + set.negatives) * set.largestEpochs;
  const plan = planStudy({
    sizes, examples, budget, negatives: set.negatives, lr: set.lr, kdBatchFactor: set.kdBatchFactor, integerEpochs: false,
  });
  // Run order: objective-major (CL, KD, CL+KD), then size, then paradigm, so a partial run already holds whole
  // scaling curves of the first objectives, sparse and dense side by side.
  const rank = (c: StudyCell) => [['cl', 'kd', 'cl+kd'].indexOf(c.objective), c.params, c.paradigm === 'sparse' ? 0 : 1];
  const byRank = (a: StudyCell, b: StudyCell) => { const x = rank(a), y = rank(b); return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!; };
  const cells: Array<StudyCell & { noise: number }> = [...plan.cells].sort(byRank).map((c) => ({ ...c, noise: 0 }));
  const noisy = set.noiseSizes.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  for (const n of noisy) if (!sizes.some((s) => s.name === n)) throw new UsageError(`--noise-sizes: '${n}' is not one of --sizes`, { field: 'noiseSizes' });
  if (set.noise > 0) {
    for (const c of [...plan.cells].sort(byRank)) {
      if (c.objective === 'cl' && noisy.includes(c.size)) cells.push({ ...c, id: `${c.id}-noise${Math.round(set.noise * 100)}`, noise: set.noise });
    }
  }
  return cells;
}

const MNTP_DONE = 'model.safetensors';
const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

function splitHeldout(id: string): boolean {
  const n = Number(id);
  return Number.isFinite(n) ? n % 5 === 0 : [...id].reduce((a, c) => a + c.charCodeAt(0), 0) % 5 === 0;
}

interface DataStage { teacher: CpuStudyFile['teacher']; examples: CpuStudyFile['examples'] }

/** Stage 1: training files and the teacher (skipped when data/data.json exists). */
async function dataStage(o: CpuStudyOptions): Promise<DataStage> {
  const dir = join(o.work, 'data'), done = join(dir, 'data.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8')) as DataStage;
  mkdirSync(dir, { recursive: true });
  const set = o.settings, sf = join(o.data, 'scifact');
  const docs = await collect(readCorpus(join(sf, 'corpus.jsonl')));
  const qrels = await readQrels(join(sf, 'qrels', 'train.tsv'));
  const queries = (await collect(readQueries(join(sf, 'queries.jsonl')))).filter((q) => qrels.has(q.id));
  const fitQ = queries.filter((q) => !splitHeldout(q.id)), heldQ = queries.filter((q) => splitHeldout(q.id));
  o.say?.(`data: ${fitQ.length} fitting and ${heldQ.length} held-out SciFact train queries; building lexical features`);
  const fx = await LexicalFeatures.build(docs);
  const fitC = candidateFeatures(fx, fitQ, set.mineDepth), heldC = candidateFeatures(fx, heldQ, set.mineDepth);
  const t = fitTeacher(fitC, qrels);
  const teacher = {
    ...t, fitQueries: fitQ.length, heldoutQueries: heldQ.length,
    heldoutNdcg10: rerankNdcg(heldC, qrels, t.weights), bm25HeldoutNdcg10: rerankNdcg(heldC, qrels, [1, 0, 0, 0, 0, 0]),
  };
  o.say?.(`data: teacher nDCG@10 on held-out training queries ${teacher.heldoutNdcg10.toFixed(4)} vs BM25 ${teacher.bm25HeldoutNdcg10.toFixed(4)}`);
  const mine = (qs: TextRecord[], cands: typeof fitC) => {
    const out: Array<{ question: string; pos_pid: string; neg_pids: string[]; pos_score: number; neg_scores: number[] }> = [];
    for (const q of qs) {
      const judged = qrels.get(q.id)!;
      const negs = cands.get(q.id)!.ids.filter((d) => !((judged.get(d) ?? 0) > 0)).slice(0, set.mineNegatives);
      if (negs.length < set.negatives) continue;
      for (const [pos, g] of judged) {
        if (g <= 0) continue;
        const f = fx.features(q.text, [pos, ...negs]).map((x) => teacherScore(t.weights, x));
        out.push({ question: q.text, pos_pid: pos, neg_pids: negs, pos_score: f[0]!, neg_scores: f.slice(1) });
      }
    }
    return out;
  };
  const fit = mine(fitQ, fitC), held = mine(heldQ, heldC);
  const lines = (xs: object[]) => `${xs.map((x) => JSON.stringify(x)).join('\n')}\n`;
  await writeFileAtomic(join(dir, 'train.clkd.jsonl'), lines(fit));
  await writeFileAtomic(join(dir, 'train.cl.jsonl'), lines(fit.map(({ question, pos_pid, neg_pids }) => ({ question, pos_pid, neg_pids }))));
  await writeFileAtomic(join(dir, 'train.kd.jsonl'), lines(fit.map((x) => ({ query: x.question, docids: [x.pos_pid, ...x.neg_pids], scores: [x.pos_score, ...x.neg_scores] }))));
  await writeFileAtomic(join(dir, 'heldout.cl.jsonl'), lines(held.map(({ question, pos_pid, neg_pids }) => ({ question, pos_pid, neg_pids }))));
  // Corruption: a seeded fraction of examples swaps its positive with one of its hard negatives.
  const rng = Rng.derive(set.seed, 0x5eed, 1);
  let noisy = 0;
  const corrupted = fit.map(({ question, pos_pid, neg_pids }) => {
    if (rng.float() >= set.noise) return { question, pos_pid, neg_pids };
    noisy++;
    const j = rng.int(Math.min(neg_pids.length, 10));
    const negs = [...neg_pids];
    const fake = negs[j]!;
    negs[j] = pos_pid;
    return { question, pos_pid: fake, neg_pids: negs };
  });
  await writeFileAtomic(join(dir, 'train.noisy.cl.jsonl'), lines(corrupted));
  const res: DataStage = { teacher, examples: { fit: fit.length, heldout: held.length, noisy } };
  await writeFileAtomic(done, `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

/** Mean truncated token counts of the training queries and passages (for the compute estimate). */
async function meanLengths(o: CpuStudyOptions, tokFile: string): Promise<{ q: number; d: number }> {
  const tok = loadTokenizer(tokFile), set = o.settings;
  const lines = readFileSync(join(o.work, 'data', 'train.cl.jsonl'), 'utf8').trim().split('\n').slice(0, 200).map((l) => JSON.parse(l) as { question: string; pos_pid: string });
  const want = new Set(lines.map((l) => l.pos_pid));
  let dsum = 0, dn = 0;
  for await (const r of readCorpus(join(o.data, 'scifact', 'corpus.jsonl'))) {
    if (!want.has(r.id)) continue;
    dsum += Math.min(set.docMaxLength, tok.encode(docText(r)).length); dn++;
  }
  const q = lines.reduce((s, l) => s + Math.min(set.queryMaxLength, tok.encode(l.question).length), 0) / Math.max(1, lines.length);
  return { q, d: dn ? dsum / dn : set.docMaxLength };
}

/** The held-out examples as record arrays (built once, so their token ids are cached across cells). */
interface Heldout { queries: TextRecord[]; docs: TextRecord[]; sizes: number[] }
function heldoutSet(o: CpuStudyOptions, corpus: Map<string, TextRecord>): Heldout {
  const n = o.settings.negatives;
  const ex = readFileSync(join(o.work, 'data', 'heldout.cl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string; pos_pid: string; neg_pids: string[] });
  return {
    queries: ex.map((e, i) => ({ id: String(i), text: e.question })),
    docs: ex.flatMap((e) => [e.pos_pid, ...e.neg_pids.slice(0, n)].map((d) => corpus.get(d)!)),
    sizes: ex.map((e) => 1 + Math.min(n, e.neg_pids.length)),
  };
}

/** The held-out contrastive loss of a trained model (see CpuCellResult.heldoutLoss); no top-k, as in training. */
async function heldoutLoss(o: CpuStudyOptions, model: LlamaModel, tok: EncoderTokenizer, paradigm: Paradigm, h: Heldout): Promise<number> {
  const set = o.settings;
  const qs = await encodeAll(model, tok, h.queries, paradigm, set.queryMaxLength);
  const ds = await encodeAll(model, tok, h.docs, paradigm, set.docMaxLength);
  const dot = (qi: number, di: number): number => {
    if (qs.sparse) {
      const a = qs.sparse[qi]!, b = ds.sparse![di]!;
      let s = 0, i = 0, j = 0;
      while (i < a.terms.length && j < b.terms.length) {
        if (a.terms[i]! === b.terms[j]!) s += a.weights[i++]! * b.weights[j++]!;
        else if (a.terms[i]! < b.terms[j]!) i++; else j++;
      }
      return s;
    }
    const D = qs.dim;
    let s = 0;
    for (let k = 0; k < D; k++) s += qs.dense![qi * D + k]! * ds.dense![di * D + k]!;
    return s / set.tau;
  };
  let total = 0, offset = 0;
  h.sizes.forEach((m, qi) => {
    const s = Array.from({ length: m }, (_, k) => dot(qi, offset + k));
    const mx = Math.max(...s);
    total += mx + Math.log(s.reduce((a, v) => a + Math.exp(v - mx), 0)) - s[0]!;
    offset += m;
  });
  return total / h.sizes.length;
}

/** A tokenizer whose `encode` is memoised (training passages are tokenised once for all cells). */
export function memoTokenizer(tok: LionTokenizer): LionTokenizer {
  const memo = new Map<string, number[]>();
  return new Proxy(tok, {
    get(target, prop, recv) {
      if (prop === 'encode') {
        return (text: string) => {
          let ids = memo.get(text);
          if (!ids) { ids = target.encode(text); memo.set(text, ids); }
          return ids;
        };
      }
      return Reflect.get(target, prop, recv) as unknown;
    },
  });
}

/**
 * The MNTP text: an evenly strided sample of the pretraining corpus (which may be ordered by source) with about
 * 1.2 × the largest size's MNTP tokens, written once to data/pretrain.sample.jsonl; every size reads it.
 */
async function pretrainSample(o: CpuStudyOptions, tok: LionTokenizer, tokens: number): Promise<string> {
  const out = join(o.work, 'data', 'pretrain.sample.jsonl');
  if (existsSync(out)) return out;
  let n = 0, sum = 0, total = 0;
  for await (const r of readCorpus(o.pretrainCorpus)) {
    if (n < 500 && total % 97 === 0) { sum += tok.encode(docText(r).slice(0, 20_000)).length; n++; }
    total++;
  }
  const want = Math.min(total, o.maxPretrainPassages ?? Infinity, Math.ceil((1.2 * tokens) / Math.max(1, sum / Math.max(1, n))) + 50);
  const stride = total / want;
  const lines: string[] = [];
  let i = 0, next = 0;
  for await (const r of readCorpus(o.pretrainCorpus)) {
    if (i++ < next) continue;
    next = Math.round(lines.length * stride + stride);
    lines.push(JSON.stringify({ _id: r.id, text: docText(r) }));
    if (lines.length >= want) break;
  }
  await writeFileAtomic(out, `${lines.join('\n')}\n`);
  return out;
}

/** Progress with an ETA from measured seconds per unit of work, per kind of task. */
class Eta {
  private rate = new Map<string, { s: number; u: number }>();
  constructor(private readonly prior: Record<string, number>) {}
  record(kind: string, units: number, seconds: number): void {
    const r = this.rate.get(kind) ?? { s: 0, u: 0 };
    this.rate.set(kind, { s: r.s + seconds, u: r.u + units });
  }
  seconds(tasks: Array<{ kind: string; units: number }>): number {
    return tasks.reduce((a, t) => {
      const r = this.rate.get(t.kind);
      return a + t.units * (r && r.u > 0 ? r.s / r.u : this.prior[t.kind]!);
    }, 0);
  }
}

/**
 * Run (or continue) the CPU study; returns the results file's content.
 * @example await runCpuStudy({ settings: DEFAULT_CPU_STUDY, data: '../shared/data', pretrainCorpus, tokenizer, work: 'cpu-study' });
 */
export async function runCpuStudy(o: CpuStudyOptions): Promise<CpuStudyFile> {
  const say = o.say ?? (() => {});
  const set = o.settings;
  for (const [what, p] of [['pretraining corpus', o.pretrainCorpus], ['tokenizer', join(o.tokenizer, 'tokenizer.json')], ['SciFact', join(o.data, 'scifact', 'corpus.jsonl')]] as const) {
    if (!existsSync(p)) throw new UsageError(`${what} not found: ${p}`, { file: p });
  }
  if (!(set.noise >= 0 && set.noise < 1)) throw new UsageError(`noise must be in [0, 1), got ${set.noise}`, { field: 'noise' });
  mkdirSync(o.work, { recursive: true });
  const resultsPath = join(o.work, 'results.json');
  const prior = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as CpuStudyFile) : undefined;
  if (prior) {
    const diff = (Object.keys(set) as Array<keyof CpuStudySettings>).find((k) => prior.settings[k] !== set[k]);
    if (diff) throw new UsageError(`${resultsPath} was made with ${diff} = ${prior.settings[diff]}, now ${set[diff]}`, { file: resultsPath, field: diff, hint: 'use a new --work folder for different settings' });
  }
  const tok = loadTokenizer(o.tokenizer);
  const sizes = parseSizes(set.sizes, { vocab: tok.vocabSize, bosTokenId: tok.bosId ?? undefined, eosTokenId: tok.eosId ?? undefined, batch: set.batch });
  if (sizes.some((s) => !s.config)) throw new UsageError('the CPU study trains every size from scratch: give h<hidden>l<layers> sizes', { field: 'sizes' });
  const t0 = performance.now();
  const data = await dataStage(o);
  const tData = (performance.now() - t0) / 1000;
  const cells = cpuPlan(set, sizes, data.examples.fit);
  say(`plan: ${sizes.length} sizes (${sizes.map((s) => `${s.name} ${formatCount(nonEmbeddingParams(s))} non-embedding / ${formatCount(s.params)}`).join(', ')}), ${cells.length} cells`);
  say('loading the evaluation suite');
  const suite: Suite = await loadSuite(o.data, { only: o.collections });
  for (const s of suite.skipped) say(`suite: left out ${s}`);
  const bm25 = Object.fromEntries(suite.collections.map((c) => [c.name, c.bm25Ndcg10]));
  const file: CpuStudyFile = {
    settings: set, machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    teacher: data.teacher, bm25, sizes: prior?.sizes ?? [], examples: data.examples, cells: prior?.cells ?? [], planned: cells.length,
    seconds: prior?.seconds ?? { data: tData, mntp: 0, cells: 0 },
  };
  const save = () => writeFileAtomic(resultsPath, `${JSON.stringify(file, null, 2)}\n`);
  // Work left, in units per kind: MNTP tokens·params, fine-tuning document passes·params, evaluated texts·params.
  const evalDocs = suiteDocCount(suite);
  const mntpTokens = (s: StudySize) => Math.round(set.mntpTokensPerParam * s.params);
  // Priors (seconds per unit, measured on the 2-core EPYC at load ~10) until this process has measured its own.
  const eta = new Eta({ mntp: 1.5e-9, 'train-sparse': 6e-9, 'train-dense': 1e-9, 'eval-sparse': 1e-8, 'eval-dense': 1.5e-9 });
  const mntpLeft = () => sizes.filter((s) => !file.sizes.some((x) => x.name === s.name)).map((s) => ({ kind: 'mntp', units: mntpTokens(s) * s.params }));
  const cellUnits = (c: StudyCell) => [{ kind: `train-${c.paradigm}`, units: c.steps * c.batch * (c.docsPerQuery + 1) * c.params }, { kind: `eval-${c.paradigm}`, units: evalDocs * c.params }];
  const cellsLeft = () => cells.filter((c) => !file.cells.some((x) => x.id === c.id)).flatMap(cellUnits);
  const etaText = () => `ETA ${formatSeconds(eta.seconds([...mntpLeft(), ...cellsLeft()]))}`;
  // Stage 2: MNTP per size, every size reading the same slice of the pretraining text.
  const pretrain = await pretrainSample(o, tok, Math.max(...sizes.map(mntpTokens)));
  for (const s of sizes) {
    const out = join(o.work, 'mntp', s.name);
    if (file.sizes.some((x) => x.name === s.name) && existsSync(join(out, MNTP_DONE))) continue;
    const tokens = mntpTokens(s);
    const steps = Math.max(1, Math.ceil(tokens / (set.mntpBlockLength * set.mntpBatch)));
    say(`mntp ${s.name}: ${steps} steps of ${set.mntpBatch}×${set.mntpBlockLength} tokens (${formatCount(tokens)} tokens); ${etaText()}`);
    const t = performance.now(), tc = cpuSeconds();
    const sum = await trainMntp({
      scratch: s.config, tokenizer: tok, tokenizerDir: o.tokenizer, corpus: pretrain, output: out, maxSteps: steps,
      batchSize: set.mntpBatch, blockLength: set.mntpBlockLength, lr: set.mntpLr, warmupRatio: 0.05, seed: set.seed,
      logEvery: Math.max(1, Math.ceil(steps / 20)), saveEvery: Math.max(1, Math.ceil(steps / 4)), 
    });
    const secs = (performance.now() - t) / 1000;
    eta.record('mntp', tokens * s.params, secs);
    file.sizes = file.sizes.filter((x) => x.name !== s.name);
    file.sizes.push({ name: s.name, params: s.params, nonEmbeddingParams: nonEmbeddingParams(s), mntpTokens: steps * set.mntpBatch * set.mntpBlockLength, mntpSteps: steps, mntpSeconds: secs, mntpFirstLoss: sum.firstLoss, mntpLastLoss: sum.lastLoss, mntpCpuSeconds: cpuSeconds() - tc });
    file.seconds.mntp += secs;
    await save();
    say(`mntp ${s.name}: loss ${sum.firstLoss.toFixed(3)} → ${sum.lastLoss.toFixed(3)} in ${formatSeconds(secs)}`);
  }
  // Stage 3: the cells.
  const lengths = await meanLengths(o, o.tokenizer);
  const corpus = new Map((await collect(readCorpus(join(o.data, 'scifact', 'corpus.jsonl')))).map((r) => [r.id, r]));
  const held = heldoutSet(o, corpus);
  const ctok = memoTokenizer(tok);
  let k = 0;
  for (const c of cells) {
    k++;
    const done = file.cells.find((x) => x.id === c.id);
    if (done && done.suiteId === SUITE_ID) continue;
    if (done) {
      // Scored by an older suite (before the TREC DL rows re-ranked the official BM25 top 100): score the
      // trained model again; training and the held-out loss stand.
      const t2 = performance.now(), c2 = cpuSeconds();
      const model = loadModel(join(o.work, 'cells', c.id), { withHead: c.paradigm === 'sparse', trainable: 'none' });
      done.suite = await evaluateRetriever(model, tok, c.paradigm, suite, { docMaxLength: set.evalDocMaxLength, queryMaxLength: set.queryMaxLength });
      done.suiteId = SUITE_ID;
      done.evalSeconds = (performance.now() - t2) / 1000;
      done.evalCpuSeconds = cpuSeconds() - c2;
      await save();
      say(`cell ${k}/${cells.length} ${c.id}: re-scored with the current suite, avg ${done.suite.avg.toFixed(4)}`);
      continue;
    }
    const size = sizes.find((s) => s.name === c.size)!;
    const base = join(o.work, 'mntp', size.name), output = join(o.work, 'cells', c.id);
    const trainFile = join(o.work, 'data', c.noise > 0 ? 'train.noisy.cl.jsonl' : c.objective === 'kd' ? 'train.kd.jsonl' : c.objective === 'cl+kd' ? 'train.clkd.jsonl' : 'train.cl.jsonl');
    say(`cell ${k}/${cells.length} ${c.id}: ${c.steps} steps, batch ${c.batch}, ${c.negatives} negatives, ${c.epochs.toFixed(2)} epochs; ${etaText()}`);
    const t1 = performance.now(), c1 = cpuSeconds();
    const sum = await trainRetriever({
      paradigm: c.paradigm, objective: c.objective, model: base, full: true, trainFile, corpus: join(o.data, 'scifact', 'corpus.jsonl'), output,
      maxSteps: c.steps, batchSize: c.batch, gradAccum: 1, negatives: c.negatives, lr: c.lr, seed: set.seed, tau: set.tau,
      queryMaxLength: set.queryMaxLength, docMaxLength: set.docMaxLength, warmupRatio: 0.04, lambdaQ: set.lambdaQ, lambdaD: set.lambdaD,
      saveEvery: Math.max(1, Math.ceil(c.steps / 5)), logEvery: Math.max(1, Math.ceil(c.steps / 20)), tokenizer: ctok,
    });
    const trainSeconds = (performance.now() - t1) / 1000, trainCpuSeconds = cpuSeconds() - c1;
    const [u1, u2] = cellUnits(c);
    eta.record(u1!.kind, u1!.units, trainSeconds);
    const t2 = performance.now(), c2 = cpuSeconds();
    const model = loadModel(output, { withHead: c.paradigm === 'sparse', trainable: 'none' });
    const score = await evaluateRetriever(model, tok, c.paradigm, suite, { docMaxLength: set.evalDocMaxLength, queryMaxLength: set.queryMaxLength });
    const hl = await heldoutLoss(o, model, tok, c.paradigm, held);
    const evalSeconds = (performance.now() - t2) / 1000, evalCpuSeconds = cpuSeconds() - c2;
    eta.record(u2!.kind, u2!.units, evalSeconds);
    const ne = nonEmbeddingParams(size);
    const mt = file.sizes.find((x) => x.name === size.name)!.mntpTokens;
    const ft = c.steps * c.batch * (lengths.q + c.docsPerQuery * lengths.d);
    file.cells.push({
      ...c, nonEmbeddingParams: ne, mntpTokens: mt, fineTuneTokens: Math.round(ft), computeFlops: 6 * ne * (mt + ft),
      firstLoss: sum.firstLoss, lastLoss: sum.lastLoss, heldoutLoss: hl, suite: score, suiteId: SUITE_ID, trainSeconds, evalSeconds, trainCpuSeconds, evalCpuSeconds,
    });
    file.seconds.cells += trainSeconds + evalSeconds;
    await save();
    const per = Object.entries(score.perCollection).map(([n, v]) => `${n} ${v.ndcg10.toFixed(3)}`).join(', ');
    say(`cell ${c.id}: ${per}; avg ${score.avg.toFixed(4)}; held-out loss ${hl.toFixed(3)} (train ${formatSeconds(trainSeconds)}, eval ${formatSeconds(evalSeconds)}, load ${loadavg()[0]!.toFixed(1)})`);
  }
  await save();
  return file;
}

export { PARADIGMS, OBJECTIVES };
export type { Objective, Qrels };
