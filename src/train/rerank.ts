/**
 * Training and running the cross-encoder teacher (src/encoders/cross.ts). Training reads a CL or CL+KD
 * training file and the corpus exactly as `trainRetriever` does (same validation, sampling and resumable
 * loop) and minimises, per query, the softmax cross-entropy of its positive against its n sampled negatives.
 * Scoring runs the trained reranker over EVERY negative of each example and writes the CL+KD or the KD
 * training format, so KD and CL+KD can run where no one hands us teacher scores.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { NonFiniteError, UsageError } from '../errors.js';
import { lengthBatches } from '../encoders/batch.js';
import { openEncoder } from '../encoders/load.js';
import { locateModel } from '../encoders/trunks.js';
import { crossBackward, crossForward, loadScoreHead, newScoreHead, pairTokens, saveScoreHead, type ScoreHead } from '../encoders/cross.js';
import { docText, readCorpus } from '../io/corpus.js';
import { readTrainingFile } from '../io/training.js';
import type { Kernels } from '../kernels/types.js';
import { saveAdapter, saveModel } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import { precisionRecord, type DtypeRequest, type PrecisionRecord } from '../model/precision.js';
import { loadTokenizer, type LionTokenizer } from '../tokenizer/tokenizer.js';
import { openAtomic } from '../util/atomic.js';
import { microBatch } from './batching.js';
import { ownContextRow } from './losses.js';
import { runLoop, type LoopSummary } from './loop.js';
import { crossEntropy } from './mntp.js';
import { initAdamW } from './optimizer.js';
import type { WeightsForm } from './state.js';
import { buildModel, prepareRetrievalTraining, type RetrievalTrainOptions } from './trainer.js';

export type RerankTrainOptions = Omit<RetrievalTrainOptions, 'paradigm' | 'objective' | 'tokenizer'> & { tokenizer?: LionTokenizer };

function separator(tok: LionTokenizer): number {
  return tok.eosId ?? tok.padId;
}

/**
 * Train a cross-encoder with softmax CE over each query's positive and n negatives.
 * @example await trainReranker({ model: 'base', trainFile: 'train.jsonl', corpus: 'collection.tsv', output: 'reranker' });
 */
export async function trainReranker(o: RerankTrainOptions): Promise<LoopSummary & { output: string }> {
  const tok = o.tokenizer ?? loadTokenizer(o.model);
  const p = await prepareRetrievalTraining({ ...o, paradigm: 'dense', objective: 'cl', tokenizer: tok });
  const { r, totalSteps } = p;
  const model = buildModel(r);
  const head = newScoreHead(model.config.hiddenSize, r.seed);
  const params = [head.weight, head.bias];
  const form: WeightsForm = { ...(r.full ? {} : { adapter: { layout: 'dense' as const, baseModel: resolve(r.model) } }), extra: { params, ...initAdamW(params) } };
  const { tokenizer: _t, kernels: _k, onStep: _s, ...recorded } = r;
  const config = { ...recorded, ...precisionRecord(model), recompute: model.recompute, objective: 'rerank', totalSteps, examples: p.examples.length };
  const n = p.plan.n, m = 1 + n, sep = separator(tok);
  const sum = await runLoop({
    model, output: r.output, totalSteps, lr: r.lr, warmupRatio: r.warmupRatio, maxGradNorm: r.maxGradNorm,
    adamw: { beta1: r.beta1, beta2: r.beta2, eps: r.eps, weightDecay: r.weightDecay },
    logEvery: r.logEvery, saveEvery: r.saveEvery, form, config, resume: r.resume !== false, seed: r.seed, label: 'rerank train', precision: precisionRecord(model),
    step(step) {
      let loss = 0, acc = 0, items = 0, tokens = 0;
      for (let a = 0; a < r.gradAccum; a++) {
        const batch = microBatch(p.examples, p.plan, step * r.gradAccum + a);
        const B = batch.queries.length;
        const pairs: number[][] = [];
        for (let i = 0; i < B; i++) {
          const q = p.tokens(batch.queries[i]!);
          for (let j = 0; j < m; j++) pairs.push(pairTokens(q, Array.from(p.passages.get(batch.contextIds[ownContextRow(B, n, i, j)]!)!), sep, tok.bosId, r.queryMaxLength, r.docMaxLength));
        }
        const f = crossForward(model, head, pairs, tok.padId, true);
        const dscores = new Float32Array(B * m); // (B, 1+n): CE with the positive (column 0) as the label
        loss += crossEntropy(f.scores, new Int32Array(B), m, dscores, 1 / r.gradAccum) / r.gradAccum;
        for (let i = 0; i < B; i++) if (f.scores.subarray(i * m, (i + 1) * m).every((s, j) => j === 0 || s < f.scores[i * m]!)) acc += 1 / (B * r.gradAccum);
        crossBackward(model, head, f, dscores);
        items += B;
        tokens += pairs.reduce((s, x) => s + x.length, 0);
      }
      return { stats: { loss, accuracy: acc }, items, tokens };
    },
    onStep: r.onStep,
  });
  if (form.adapter) await saveAdapter(model, r.output, form.adapter);
  else await saveModel(model, r.output);
  await saveScoreHead(head, r.output);
  // The tokenizer travels with the cross-encoder, so `lion rerank run --model DIR` needs nothing else.
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(join(r.model, f)) && !existsSync(join(r.output, f))) copyFileSync(join(r.model, f), join(r.output, f));
  }
  return { ...sum, output: r.output };
}

/** A trained reranker: model (adapter merged), head and tokenizer. */
export interface Reranker {
  model: LlamaModel;
  head: ScoreHead;
  tokenizer: LionTokenizer;
}

/**
 * Load a reranker directory written by `trainReranker` (an adapter over `base`, or a full model); `dtype`
 * stores its base matrices (default fp32; 'auto' = `defaultDtype`).
 */
export function loadReranker(dir: string, base?: string, kernels?: Kernels, dtype?: DtypeRequest): Reranker {
  const isAdapter = existsSync(join(dir, 'adapter_config.json'));
  if (isAdapter && !base) throw new UsageError('this reranker is a LoRA adapter: pass its base model (--model)', { file: dir });
  const { trunk, tokenizer, location } = openEncoder(locateModel(dir, { base }), { withHead: false, kernels, dtype });
  if (!trunk.decoder) throw new UsageError(`a reranker is a decoder; ${trunk.family} models are not`, { file: join(location.base, 'config.json') });
  return { model: trunk.decoder, head: loadScoreHead(location.adapter ?? location.base, trunk.hiddenSize), tokenizer };
}

/** Score (query, document) pairs, batched by length; returns one score per pair, in order. */
export function scorePairs(rr: Reranker, pairs: Array<{ query: string; doc: string }>, opts: { queryMaxLength?: number; docMaxLength?: number; maxBatch?: number; maxTokens?: number } = {}): Float32Array {
  const d = DEFAULTS.train, e = DEFAULTS.encode;
  const tok = rr.tokenizer;
  const seqs = pairs.map((x) => pairTokens(tok.encode(x.query), tok.encode(x.doc), separator(tok), tok.bosId, opts.queryMaxLength ?? d.queryMaxLength, opts.docMaxLength ?? d.docMaxLength));
  const out = new Float32Array(pairs.length);
  for (const g of lengthBatches(seqs.map((s) => s.length), { maxBatch: opts.maxBatch ?? e.maxBatch, maxTokens: opts.maxTokens ?? e.maxTokens })) {
    const f = crossForward(rr.model, rr.head, g.map((i) => seqs[i]!), tok.padId, false);
    g.forEach((i, k) => { out[i] = f.scores[k]!; });
  }
  return out;
}

/**
 * Score every (query, positive) and (query, negative) of a CL training file with a reranker and write the
 * CL+KD format (`clkd`) or the KD format (`kd`, docids[0] = the positive). Returns the number of examples.
 */
export async function scoreTrainingFile(o: {
  reranker: string; model?: string; input: string; corpus: string; out: string; format: 'clkd' | 'kd';
  queryMaxLength?: number; docMaxLength?: number; kernels?: Kernels;
  /** Storage of the reranker's base matrices (default fp32; 'auto' = `defaultDtype`). */
  dtype?: DtypeRequest;
  /** Called once the reranker is loaded, with what it computes with. */
  onLoad?: (r: PrecisionRecord) => void;
}): Promise<number> {
  const examples = [];
  for await (const ex of readTrainingFile(o.input)) {
    if (ex.kind === 'kd') throw new UsageError('rerank score reads a CL (or CL+KD) training file', { file: o.input });
    examples.push(ex);
  }
  const wanted = new Set(examples.flatMap((e) => [e.posId, ...e.negIds]));
  const texts = new Map<string, string>();
  for await (const rec of readCorpus(o.corpus)) if (wanted.has(rec.id)) texts.set(rec.id, docText(rec));
  const missing = [...wanted].find((id) => !texts.has(id));
  if (missing !== undefined) throw new UsageError(`passage ${missing} of the training file is not in the corpus`, { file: o.corpus });
  const rr = loadReranker(o.reranker, o.model, o.kernels, o.dtype);
  o.onLoad?.(precisionRecord(rr.model));
  const w = await openAtomic(o.out);
  try {
    for (const ex of examples) {
      const ids = [ex.posId, ...ex.negIds];
      const s = Array.from(scorePairs(rr, ids.map((id) => ({ query: ex.query, doc: texts.get(id)! })), o));
      const bad = s.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new NonFiniteError(`the reranker scored passage ${ids[bad]} for query ${JSON.stringify(ex.query.slice(0, 60))} as ${s[bad]}; teacher scores must be finite`, { file: o.reranker });
      const line = o.format === 'kd'
        ? { query: ex.query, docids: ids, scores: s }
        : { question: ex.query, pos_pid: ex.posId, neg_pids: ex.negIds, pos_score: s[0], neg_scores: s.slice(1) };
      await w.write(`${JSON.stringify(line)}\n`);
    }
    await w.commit();
  } catch (e) { await w.abort(); throw e; }
  return examples.length;
}
