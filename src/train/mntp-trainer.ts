/**
 * MNTP training (spec §2.3): adapt a decoder to bidirectional attention by masked next-token prediction, with a
 * LoRA adapter on a frozen base (the paper: r 16, α 32, dropout 0.05, lr 5e-5, no warm-up, batch 32, 10k steps),
 * full fine-tuning, or from scratch (a config and a tokenizer; every weight trained — how Lion's shipped
 * demonstration models are made).
 *
 * Data: the corpus's passages (`docText`) tokenised with BOS, concatenated and cut into `blockLength` blocks
 * (mntp.ts). Micro-batch m takes `batchSize` blocks in the order of epoch ⌊m / blocksPerEpoch⌋ (seeded
 * permutation); each block is masked with its own stream Rng.derive(seed, MASK, epoch, block), so masks change
 * every epoch as the reference's dynamic collator does, and a resumed run masks exactly as the killed one.
 *
 * Step: one forward of the (B, T) blocks; the LM head runs only on the rows before masked positions, in chunks
 * of `headRows` rows so the (P, V) logits stay small for a 128k vocabulary; shifted cross-entropy; backward.
 * Output: the adapter (PEFT, LlamaBiForMNTP key layout) or the full model, plus the tokenizer files.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import { docText, readCorpus } from '../io/corpus.js';
import type { Kernels } from '../kernels/types.js';
import { loadModel, saveAdapter, saveModel } from '../model/checkpoint.js';
import { LlamaModel, type TokenBatch } from '../model/llama.js';
import { LORA_TARGETS } from '../io/lora-config.js';
import { parsePrecision, precisionRecord, trainingDtype, type Precision, type WeightDtype } from '../model/precision.js';
import type { ModelConfig } from '../model/registry.js';
import { loadTokenizer, type LionTokenizer } from '../tokenizer/tokenizer.js';
import { saveBpe, trainBpe } from '../tokenizer/bpe-train.js';
import { initWeights } from './init.js';
import { runLoop, type LoopSummary, type StepResult } from './loop.js';
import { BlockPacker, crossEntropy, maskBlock, mntpTargets, type MaskOptions } from './mntp.js';
import { Rng } from '../util/rng.js';
import type { WeightsForm } from './state.js';

const ORDER = 11, MASK = 12;

type Widen<T> = T extends number ? number : T;
type MntpDefaults = { -readonly [K in keyof typeof DEFAULTS.mntp]: Widen<(typeof DEFAULTS.mntp)[K]> };

export interface MntpOptions extends Partial<MntpDefaults> {
  /** Base model directory to adapt. Exclusive with `scratch`. */
  model?: string;
  /** Train a new model of this config from scratch (every weight trainable, seeded init). */
  scratch?: ModelConfig;
  /** Full fine-tuning of `model` instead of LoRA (a model trained from scratch always trains every weight). */
  full?: boolean;
  corpus: string;
  output: string;
  /** Default: the tokenizer.json of `model` (required with `scratch`). */
  tokenizer?: LionTokenizer;
  /** Directory whose tokenizer files are copied next to the result (default: `model`, or the tokenizer's). */
  tokenizerDir?: string;
  /**
   * From scratch without a tokenizer: train a byte-level BPE of this many ids on the corpus first (written to
   * the output directory); the model's vocabulary size, BOS and EOS then follow the tokenizer.
   */
  bpeVocab?: number;
  /** Passes over the blocks; when given, the run has ⌊epochs · blocks / batchSize⌋ steps instead of maxSteps. */
  epochs?: number;
  /** Read at most this many passages. */
  maxPassages?: number;
  loraR?: number;
  loraAlpha?: number;
  loraDropout?: number;
  /** Rows per LM-head chunk (bounds the (rows, V) logits). Default 512. */
  headRows?: number;
  resume?: boolean;
  /** Resume under changed settings (refused by default, naming the differences). */
  forceResume?: boolean;
  kernels?: Kernels;
  /** Matmul precision: fp32 (default) or bf16 (bf16 products on fp32 master weights). */
  precision?: Precision;
  /** Recompute each layer's activations in backward instead of keeping them. */
  recompute?: boolean;
  /** Storage of the frozen base (default `trainingDtype`: bf16 for LoRA at bf16 precision, else fp32). */
  dtype?: WeightDtype;
  onStep?: (step: number, stats: Record<string, number>) => void;
}

/** Read, tokenise and pack the corpus, streaming (only the blocks are kept, 4 bytes per token). */
export async function mntpBlocks(corpus: string, tok: LionTokenizer, blockLength: number, maxPassages = Infinity): Promise<Int32Array[]> {
  const blocks: Int32Array[] = [];
  const packer = new BlockPacker(blockLength, null);
  let n = 0;
  for await (const rec of readCorpus(corpus)) {
    if (n++ >= maxPassages) break;
    const ids = tok.encode(docText(rec));
    blocks.push(...packer.push(tok.bosId !== null && ids[0] !== tok.bosId ? [tok.bosId, ...ids] : ids));
  }
  return blocks;
}

function buildModel(o: MntpOptions, seed: number): LlamaModel {
  const precision = parsePrecision(o.precision ?? DEFAULTS.precision.train);
  const all = Boolean(o.scratch || o.full);
  const common = {
    kernels: o.kernels, seed, bidirectional: true, withHead: true, precision, recompute: o.recompute ?? DEFAULTS.precision.recompute,
    dtype: trainingDtype(precision, all, o.dtype),
  };
  if (o.scratch) {
    const m = new LlamaModel(o.scratch, { ...common, trainable: 'all' });
    initWeights(m, seed);
    return m;
  }
  if (o.full) return loadModel(o.model!, { ...common, trainable: 'all' });
  const d = DEFAULTS.train;
  const lora = { r: o.loraR ?? d.loraR, alpha: o.loraAlpha ?? d.loraAlpha, dropout: o.loraDropout ?? d.loraDropout, targets: LORA_TARGETS };
  return loadModel(o.model!, { ...common, lora, trainable: 'lora' }); // a fresh adapter on the base
}

/** One MNTP micro-batch: forward, shifted CE over masked positions, backward. */
function mntpStep(model: LlamaModel, blocks: Int32Array[], batchIdx: number[], epoch: number, mask: MaskOptions, seed: number, headRows: number): StepResult {
  const B = batchIdx.length, T = blocks[0]!.length;
  const { hiddenSize: C, vocabSize: V } = model.config;
  const ids = new Int32Array(B * T), labels = new Int32Array(B * T);
  batchIdx.forEach((bi, b) => {
    const m = maskBlock(blocks[bi]!, mask, Rng.derive(seed, MASK, epoch, bi));
    ids.set(m.inputIds, b * T);
    labels.set(m.labels, b * T);
  });
  const batch: TokenBatch = { ids, mask: new Uint8Array(B * T).fill(1), B, T };
  const hidden = model.forward(batch, { train: true }); // (B, T, C)
  const { rows, targets } = mntpTargets(labels, B, T);
  const P = rows.length;
  const dHidden = new Float32Array(B * T * C);
  let loss = 0, correct = 0;
  for (let s = 0; s < P; s += headRows) {
    const n = Math.min(headRows, P - s);
    const h = new Float32Array(n * C); // (n, C)
    for (let i = 0; i < n; i++) h.set(hidden.subarray(rows[s + i]! * C, (rows[s + i]! + 1) * C), i * C);
    const logits = new Float32Array(n * V), dlogits = new Float32Array(n * V); // (n, V)
    model.lmHeadForward(logits, h, n);
    const tgt = targets.subarray(s, s + n);
    loss += (crossEntropy(logits, tgt, V, dlogits, n / P) * n) / P;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[i * V + v]! > logits[i * V + best]!) best = v;
      if (best === tgt[i]) correct++;
    }
    const dh = new Float32Array(n * C);
    model.lmHeadBackward(dh, dlogits, h, n);
    for (let i = 0; i < n; i++) dHidden.set(dh.subarray(i * C, (i + 1) * C), rows[s + i]! * C);
  }
  if (P > 0) model.backward(dHidden);
  return { stats: { loss, accuracy: P ? correct / P : 0, predicted: P, epoch }, items: B, tokens: B * T };
}

/** Train a BPE on the corpus into the output directory and size the new model's vocabulary to it. */
async function scratchTokenizer(o: MntpOptions, cfg: ModelConfig, vocab: number): Promise<Partial<MntpOptions>> {
  const texts: string[] = [];
  for await (const rec of readCorpus(o.corpus)) {
    if (texts.length >= (o.maxPassages ?? Infinity)) break;
    texts.push(docText(rec));
  }
  const bpe = trainBpe(texts, { vocabSize: vocab });
  await saveBpe(bpe, o.output);
  const tokenizer = loadTokenizer(o.output);
  const size = bpe.vocab.size + 3;
  return { tokenizer, tokenizerDir: o.output, scratch: { ...cfg, vocabSize: size, bosTokenId: bpe.specialIds.bos, eosTokenId: bpe.specialIds.eos } };
}

/**
 * Train with MNTP.
 * @example await trainMntp({ model: 'Llama-3.2-1B', corpus: 'collection.tsv', output: 'mntp', tokenizer: loadTokenizer('Llama-3.2-1B') });
 */
export async function trainMntp(o: MntpOptions): Promise<LoopSummary & { output: string; blocks: number }> {
  const d = { ...DEFAULTS.mntp, ...Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k in DEFAULTS.mntp)) } as MntpDefaults;
  if (!o.model === !o.scratch) throw new UsageError('MNTP needs exactly one of a base model (--model) or a config to train from scratch (--config)');
  if (!o.tokenizer && !o.model && !o.bpeVocab) throw new UsageError('training from scratch needs a tokenizer (--tokenizer DIR or --bpe-vocab N)');
  if (o.scratch && !o.tokenizer && o.bpeVocab) o = { ...o, ...(await scratchTokenizer(o, o.scratch, o.bpeVocab)) };
  const tok = o.tokenizer ?? loadTokenizer(o.model!);
  if (tok.maskId === null) throw new UsageError('the tokenizer has no mask token (<|mask|> or a single-token "_")', { file: tok.file });
  if (!existsSync(o.corpus)) throw new UsageError(`corpus not found: ${o.corpus}`, { file: o.corpus });
  if (!Number.isInteger(d.batchSize) || d.batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${d.batchSize}`);
  const blocks = await mntpBlocks(o.corpus, tok, d.blockLength, o.maxPassages);
  if (blocks.length < d.batchSize) {
    throw new UsageError(`the corpus gives ${blocks.length} blocks of ${d.blockLength} tokens, fewer than one batch of ${d.batchSize}`, { file: o.corpus, hint: 'lower --batch-size or --block-length, or use more text' });
  }
  const model = buildModel(o, d.seed);
  if (tok.vocabSize > model.config.vocabSize) throw new UsageError(`the tokenizer has ${tok.vocabSize} ids but the model only ${model.config.vocabSize}`);
  const perEpoch = Math.floor(blocks.length / d.batchSize);
  const totalSteps = o.epochs !== undefined ? Math.floor(o.epochs * perEpoch) : d.maxSteps;
  if (!(totalSteps >= 1)) throw new UsageError('the run has no optimiser steps');
  const special = new Set([tok.bosId, tok.eosId, tok.padId].filter((x): x is number => x !== null));
  const mask: MaskOptions = { maskId: tok.maskId, vocabSize: tok.vocabSize, specialIds: special, probability: d.probability };
  const trainsAll = Boolean(o.scratch || o.full);
  const form: WeightsForm = trainsAll ? {} : { adapter: { layout: 'sparse', baseModel: resolve(o.model!) } };
  const { tokenizer: _t, kernels: _k, onStep: _s, scratch, ...recorded } = o;
  const config = { ...recorded, ...d, ...precisionRecord(model), recompute: model.recompute, scratch: scratch ? { ...scratch } : undefined, totalSteps, blocks: blocks.length, objective: 'mntp' };
  const tr = DEFAULTS.train;
  const headRows = o.headRows ?? 512;
  const sum = await runLoop({
    model, output: o.output, totalSteps, lr: d.lr, warmupRatio: d.warmupRatio, maxGradNorm: tr.maxGradNorm,
    adamw: { beta1: tr.beta1, beta2: tr.beta2, eps: tr.eps, weightDecay: 0 },
    logEvery: d.logEvery, saveEvery: d.saveEvery, form, config, resume: o.resume !== false, seed: d.seed, label: 'mntp', precision: precisionRecord(model),
    step(step) {
      const epoch = Math.floor(step / perEpoch);
      const order = Rng.derive(d.seed, ORDER, epoch).permutation(blocks.length);
      const start = (step % perEpoch) * d.batchSize;
      return mntpStep(model, blocks, Array.from(order.subarray(start, start + d.batchSize)), epoch, mask, d.seed, headRows);
    },
    onStep: o.onStep,
  });
  if (form.adapter) await saveAdapter(model, o.output, form.adapter);
  else await saveModel(model, o.output);
  const tokDir = o.tokenizerDir ?? o.model ?? dirname(tok.file);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (resolve(tokDir) !== resolve(o.output) && existsSync(join(tokDir, f))) copyFileSync(join(tokDir, f), join(o.output, f));
  }
  return { ...sum, output: o.output, blocks: blocks.length };
}
