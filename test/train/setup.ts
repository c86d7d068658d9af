/**
 * A complete tiny training setup built at test time: a byte-level BPE tokenizer trained on Cranfield, a random
 * bidirectional Llama saved in Hugging Face layout with it, and CL / CL+KD / KD training files made from the
 * Cranfield qrels (positives) and seeded random negatives, with synthetic teacher scores.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ref } from '../../src/kernels/ref/index.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { LlamaModel } from '../../src/model/llama.js';
import { saveBpe, trainBpe } from '../../src/tokenizer/bpe-train.js';
import { initWeights } from '../../src/train/init.js';
import { Rng } from '../../src/util/rng.js';
import { fixtures, tempDir } from '../helpers.js';
import { tinyConfig } from '../encoders/tiny.js';

export interface TinySetup {
  dir: string;
  model: string;
  corpus: string;
  cl: string;
  clkd: string;
  kd: string;
  queries: Map<string, string>;
  qrels: Map<string, Set<string>>;
  docIds: string[];
}

let cached: TinySetup | undefined;

export async function tinySetup(): Promise<TinySetup> {
  if (cached) return cached;
  const dir = tempDir('lion-train-');
  const cran = join(fixtures, 'cranfield');
  const docs = readFileSync(join(cran, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; title: string; text: string });
  const bpe = trainBpe(docs.slice(0, 300).map((d) => `${d.title} ${d.text}`), { vocabSize: 384 });
  const model = join(dir, 'model');
  await saveBpe(bpe, model);
  const m = new LlamaModel(tinyConfig({ vocabSize: 384, hiddenSize: 16, bosTokenId: bpe.specialIds.bos, eosTokenId: bpe.specialIds.eos }), { kernels: ref, withHead: true });
  initWeights(m, 3, 0.3);
  await saveModel(m, model);
  const queries = new Map<string, string>();
  for (const l of readFileSync(join(cran, 'queries.jsonl'), 'utf8').trim().split('\n')) {
    const q = JSON.parse(l) as { _id: string; text: string };
    queries.set(q._id, q.text);
  }
  const qrels = new Map<string, Set<string>>();
  for (const l of readFileSync(join(cran, 'qrels', 'test.tsv'), 'utf8').trim().split('\n').slice(1)) {
    const [q, d] = l.split('\t');
    if (!qrels.has(q!)) qrels.set(q!, new Set());
    qrels.get(q!)!.add(d!);
  }
  const docIds = docs.map((d) => d._id);
  const rng = new Rng(9);
  const cl: string[] = [], clkd: string[] = [], kd: string[] = [];
  for (const [qid, rel] of [...qrels].slice(0, 40)) {
    const pos = [...rel][0]!;
    const negs: string[] = [];
    while (negs.length < 6) { const d = docIds[rng.int(docIds.length)]!; if (!rel.has(d) && !negs.includes(d)) negs.push(d); }
    const question = queries.get(qid)!;
    const negScores = negs.map(() => rng.float() * 2);
    cl.push(JSON.stringify({ question, pos_pid: pos, neg_pids: negs }));
    clkd.push(JSON.stringify({ question, pos_pid: pos, neg_pids: negs, pos_score: 4 + rng.float(), neg_scores: negScores }));
    kd.push(JSON.stringify({ query: question, docids: [pos, ...negs], scores: [4 + rng.float(), ...negScores] }));
  }
  const write = (name: string, lines: string[]) => { const p = join(dir, name); writeFileSync(p, `${lines.join('\n')}\n`); return p; };
  cached = {
    dir, model, corpus: join(cran, 'corpus.jsonl'), cl: write('cl.jsonl', cl), clkd: write('clkd.jsonl', clkd), kd: write('kd.jsonl', kd),
    queries, qrels, docIds,
  };
  return cached;
}
