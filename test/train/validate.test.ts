import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { loadModel } from '../../src/model/checkpoint.js';
import { trainRetriever } from '../../src/train/trainer.js';
import { curvesSvg } from '../../src/train/validate.js';
import { tempDir } from '../helpers.js';
import { tinySetup } from './setup.js';

/** A dev split of the tiny setup: 20 judged queries and a 150-document corpus holding their relevant documents. */
async function devSet() {
  const s = await tinySetup();
  const dir = tempDir('lion-dev-');
  const qids = [...s.qrels.keys()].slice(40, 60);
  const rel = new Set(qids.flatMap((q) => [...s.qrels.get(q)!]));
  const docs = readFileSync(s.corpus, 'utf8').trim().split('\n').filter((l, i) => i < 120 || rel.has((JSON.parse(l) as { _id: string })._id));
  writeFileSync(join(dir, 'corpus.jsonl'), `${docs.join('\n')}\n`);
  writeFileSync(join(dir, 'queries.tsv'), qids.map((q) => `${q}\t${s.queries.get(q)}`).join('\n') + '\n');
  writeFileSync(join(dir, 'dev.tsv'), qids.flatMap((q) => [...s.qrels.get(q)!].map((d) => `${q}\t${d}\t1`)).join('\n') + '\n');
  return { s, queries: join(dir, 'queries.tsv'), qrels: join(dir, 'dev.tsv'), corpus: join(dir, 'corpus.jsonl') };
}

const base = { negatives: 3, batchSize: 6, queryMaxLength: 12, docMaxLength: 20, loraR: 4, loraAlpha: 8, logEvery: 2, saveEvery: 100, warmupRatio: 0.1 };

test('validation logs dev metrics every N steps, keeps the best weights in best/ and draws the curves', async () => {
  const { s, queries, qrels, corpus } = await devSet();
  const out = tempDir();
  const sum = await trainRetriever({
    ...base, paradigm: 'sparse', objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, output: out, maxSteps: 12, lr: 5e-3,
    evalQueries: queries, evalQrels: qrels, evalCorpus: corpus, evalEvery: 4,
  });
  const log = readFileSync(join(out, 'eval_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(log.map((l) => l.step), [4, 8, 12]);
  for (const l of log) for (const k of ['ndcg_cut_10', 'recip_rank_10', 'recall_100']) assert.ok(l[k]! >= 0 && l[k]! <= 1, `${k} ${l[k]}`);
  const bestRow = log.reduce((a, b) => (b.ndcg_cut_10! > a.ndcg_cut_10! ? b : a));
  const best = JSON.parse(readFileSync(join(out, 'best', 'best.json'), 'utf8')) as Record<string, number>;
  assert.equal(best.step, bestRow.step);
  assert.equal(best.ndcg_cut_10, bestRow.ndcg_cut_10);
  assert.deepEqual(sum.best, { step: bestRow.step, value: bestRow.ndcg_cut_10, measure: 'ndcg_cut_10' });
  // best/ is a loadable adapter, like the final output beside it.
  assert.ok(existsSync(join(out, 'best', 'adapter_config.json')) && existsSync(join(out, 'adapter_config.json')));
  const m = loadModel(s.model, { adapter: join(out, 'best'), merge: true, withHead: true, trainable: 'none' });
  assert.ok(m.config.vocabSize > 0);
  const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /dev ndcg_cut_10 \(best at step \d+\)/);
  assert.equal((svg.match(/<circle/g) ?? []).length >= 3 + 6, true, 'a point per evaluation and per loss line');
});

test('early stopping: a plateau (lr 0) stops after PATIENCE evaluations without a gain, and a re-run stays stopped', async () => {
  const { s, queries, qrels, corpus } = await devSet();
  const out = tempDir();
  const opts = {
    ...base, paradigm: 'dense' as const, objective: 'cl' as const, model: s.model, trainFile: s.cl, corpus: s.corpus, output: out, maxSteps: 40, lr: 0,
    evalQueries: queries, evalQrels: qrels, evalCorpus: corpus, evalEvery: 2, earlyStop: 2,
  };
  const sum = await trainRetriever(opts);
  assert.equal(sum.stoppedEarly, 6, 'evaluations at 2 (best), 4 and 6 (no gain twice)');
  assert.equal(sum.best!.step, 2);
  assert.equal(readFileSync(join(out, 'eval_log.jsonl'), 'utf8').trim().split('\n').length, 3);
  const again = await trainRetriever(opts);
  assert.equal(again.resumedFrom, 6);
  assert.equal(again.stoppedEarly, 6);
  await assert.rejects(trainRetriever({ ...opts, output: tempDir(), evalCorpus: undefined }), /needs all of --eval-queries/);
});

test('curves SVG escapes text and handles a flat series', () => {
  const svg = curvesSvg([[1, 2], [2, 2]], [], 'a<b');
  assert.match(svg, /dev a&lt;b: no points yet/);
});
