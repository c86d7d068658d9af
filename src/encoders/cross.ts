/**
 * The cross-encoder teacher: the same bidirectional trunk reads a query and a document together and a scalar
 * head scores the pair, so Lion can make its own KD and CL+KD training files (spec §5.1 leaves the authors'
 * teacher unspecified).
 *
 * Input: `BOS query EOS document` (the query's BOS-prefixed tokens cut to `queryMaxLength`, the separator, the
 * document's tokens without BOS cut to `docMaxLength`), left-padded. Score: `s = w · e + b` with e the masked
 * mean of the L2-normalised final states (the dense encoder's pooling) — w (C), b (1). The head is stored as
 * `score_head.safetensors` (`score.weight` (1, C), `score.bias` (1)) next to the adapter or model.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactError, ShapeError } from '../errors.js';
import { openCheckpoint, readTensorInto, writeSafetensors } from '../io/safetensors.js';
import type { LlamaModel, TokenBatch } from '../model/llama.js';
import type { Param } from '../types.js';
import { Rng } from '../util/rng.js';
import { tokenBatch } from './batch.js';
import { denseBackward, denseForward, type DenseForward } from './dense.js';

/** The scalar head: weight (C) and bias (1), as optimiser parameters. */
export interface ScoreHead {
  weight: Param; // (C)
  bias: Param; // (1)
}

export function newScoreHead(C: number, seed: number): ScoreHead {
  const rng = Rng.derive(seed, 0x5c0e);
  const w = Float32Array.from({ length: C }, () => 0.02 * rng.normal());
  return { weight: { name: 'score.weight', value: w, grad: new Float32Array(C) }, bias: { name: 'score.bias', value: new Float32Array(1), grad: new Float32Array(1) } };
}

export async function saveScoreHead(head: ScoreHead, dir: string): Promise<void> {
  await writeSafetensors(join(dir, 'score_head.safetensors'), [
    { name: 'score.weight', shape: [1, head.weight.value.length], data: head.weight.value },
    { name: 'score.bias', shape: [1], data: head.bias.value },
  ]);
}

export function loadScoreHead(dir: string, C: number): ScoreHead {
  const file = join(dir, 'score_head.safetensors');
  if (!existsSync(file)) throw new ArtifactError('no score_head.safetensors: not a reranker directory', { file, hint: 'train one with `lion rerank train`' });
  const ck = openCheckpoint(file);
  const head = newScoreHead(C, 0);
  for (const p of [head.weight, head.bias]) {
    const info = ck.tensors.get(p.name);
    if (!info || info.shape.reduce((a, b) => a * b, 1) !== p.value.length) throw new ArtifactError(`${p.name} is missing or not of size ${p.value.length}`, { file, field: p.name });
    readTensorInto(info, p.value);
  }
  return head;
}

/** Token ids of one (query, document) pair. */
export function pairTokens(query: number[], doc: number[], sepId: number, bosId: number | null, qMax: number, dMax: number): number[] {
  const d = bosId !== null && doc[0] === bosId ? doc.slice(1) : doc;
  return [...query.slice(0, qMax), sepId, ...d.slice(0, dMax)];
}

export interface CrossForward {
  scores: Float32Array; // (B)
  pool: DenseForward;
}

/** Score a batch of pair token sequences. `train` keeps what backward needs. */
export function crossForward(model: LlamaModel, head: ScoreHead, pairs: number[][], padId: number, train = false): CrossForward {
  const C = model.config.hiddenSize;
  const batch: TokenBatch = tokenBatch(pairs, padId, Infinity);
  const pool = denseForward(model, batch, train);
  const scores = new Float32Array(batch.B);
  for (let b = 0; b < batch.B; b++) {
    let s = head.bias.value[0]!;
    for (let c = 0; c < C; c++) s += head.weight.value[c]! * pool.rep[b * C + c]!;
    scores[b] = s;
  }
  return { scores, pool };
}

/** Backpropagate ∂loss/∂scores (B) into the head's gradients and the trunk. */
export function crossBackward(model: LlamaModel, head: ScoreHead, f: CrossForward, dscores: Float32Array): void {
  const C = model.config.hiddenSize, B = f.scores.length;
  if (dscores.length !== B) throw new ShapeError(`cross-encoder backward: ${dscores.length} score gradients for ${B} pairs`);
  const drep = new Float32Array(B * C); // (B, C)
  for (let b = 0; b < B; b++) {
    const g = dscores[b]!;
    head.bias.grad[0] += g;
    for (let c = 0; c < C; c++) {
      head.weight.grad[c] += g * f.pool.rep[b * C + c]!;
      drep[b * C + c] = g * head.weight.value[c]!;
    }
  }
  denseBackward(model, f.pool, drep);
}
