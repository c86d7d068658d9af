// End to end on Cranfield: fine-tuning a (tiny, random) retriever makes the loss fall and MRR@10 rise over the
// untrained model, for the dense and the sparse paradigm. Retrieval is exhaustive over the training pool.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { encodeRecords, type Paradigm } from '../../src/encoders/encode.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { ref } from '../../src/kernels/ref/index.js';
import { loadModel } from '../../src/model/checkpoint.js';
import type { LlamaModel } from '../../src/model/llama.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { trainRetriever } from '../../src/train/trainer.js';
import type { Qrels, Run, SparseVec } from '../../src/types.js';
import { tempDir } from '../helpers.js';
import { tinySetup } from './setup.js';

function sparseDot(a: SparseVec, b: SparseVec): number {
  let i = 0, j = 0, s = 0;
  while (i < a.terms.length && j < b.terms.length) {
    if (a.terms[i] === b.terms[j]) s += a.weights[i++]! * b.weights[j++]!;
    else if (a.terms[i]! < b.terms[j]!) i++;
    else j++;
  }
  return s;
}

async function mrr10(model: LlamaModel, paradigm: Paradigm, queries: { id: string; text: string }[], docs: { id: string; text: string }[], qrels: Qrels): Promise<number> {
  const tok = loadTokenizer((await tinySetup()).model);
  const opts = { paradigm, maxLength: 24, maxBatch: 32, maxTokens: 4096 };
  const enc = async (recs: { id: string; text: string }[], maxLength: number) => {
    const out = [];
    for await (const e of encodeRecords(model, tok, recs, { ...opts, maxLength })) out.push(e);
    return out;
  };
  const q = await enc(queries, 16), d = await enc(docs, 24);
  const run: Run = new Map();
  for (const qe of q) {
    const hits = d.map((de) => ({
      docid: de.id,
      score: paradigm === 'dense' ? qe.dense!.reduce((s, x, k) => s + x * de.dense![k]!, 0) : sparseDot(qe.sparse!, de.sparse!),
    }));
    hits.sort((a, b) => b.score - a.score);
    run.set(qe.id, hits.slice(0, 10));
  }
  return evaluate(qrels, run, { measures: ['recip_rank'] }).mean['recip_rank']!;
}

for (const paradigm of ['dense', 'sparse'] as const) {
  test(`${paradigm} CL fine-tuning: loss falls and MRR@10 rises over the untrained model (training queries)`, async () => {
    const s = await tinySetup();
    const lines = readFileSync(s.cl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string; pos_pid: string; neg_pids: string[] });
    const qid = new Map([...s.queries].map(([id, text]) => [text, id]));
    const queries = lines.map((l) => ({ id: qid.get(l.question)!, text: l.question }));
    const pool = new Set(lines.flatMap((l) => [l.pos_pid, ...l.neg_pids]));
    const corpus = readFileSync(s.corpus, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; title: string; text: string });
    const docs = corpus.filter((d) => pool.has(d._id)).map((d) => ({ id: d._id, text: `${d.title} ${d.text}` }));
    const qrels: Qrels = new Map(queries.map((q) => [q.id, new Map([...s.qrels.get(q.id)!].filter((d) => pool.has(d)).map((d) => [d, 1]))]));
    const before = await mrr10(loadModel(s.model, { kernels: ref, withHead: paradigm === 'sparse' }), paradigm, queries, docs, qrels);
    const output = tempDir();
    const sum = await trainRetriever({
      paradigm, objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, output, kernels: ref, batchSize: 8, negatives: 3,
      maxSteps: 40, lr: 1e-2, warmupRatio: 0.1, logEvery: 10, saveEvery: 40, queryMaxLength: 16, docMaxLength: 24, loraR: 8, loraAlpha: 16,
      lambdaQ: 0.005, lambdaD: 0.004,
    });
    const log = readFileSync(join(output, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rank: number });
    assert.ok(log.at(-1)!.rank < log[0]!.rank, `loss ${log[0]!.rank} -> ${log.at(-1)!.rank}`);
    const trained = loadModel(s.model, { adapter: output, merge: true, kernels: ref, withHead: paradigm === 'sparse' });
    const after = await mrr10(trained, paradigm, queries, docs, qrels);
    console.log(`${paradigm}: MRR@10 ${before.toFixed(4)} -> ${after.toFixed(4)}, loss ${sum.firstLoss.toFixed(3)} -> ${sum.lastLoss.toFixed(3)}`);
    assert.ok(after > before + 0.05, `MRR@10 ${before} -> ${after}`);
  });
}
