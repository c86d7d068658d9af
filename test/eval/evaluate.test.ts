// Hand-worked trec_eval semantics on the tiny fixtures in test/fixtures/eval (see its README): ties, all-tied
// runs, -c with a missing topic, -M, -l, the 3-column form, BEIR mode, and the summary quirks of trec_eval 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { evaluate, evaluateFiles } from '../../src/eval/evaluate.js';
import { formatTrecEval } from '../../src/eval/format.js';
import { readQrels, readRun } from '../../src/io/trec.js';
import { UsageError } from '../../src/errors.js';
import { fixtures } from '../helpers.js';

const dir = join(fixtures, 'eval');
const qrelsPath = join(dir, 'qrels.txt');
const runPath = join(dir, 'run.trec');
const close = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} != ${b}`);

// q1 ranks d3(0) d9(unjudged) d1(2) d2(1); q2 ranks d6(0) d5(1); q3 has no results.
const ap1 = (1 / 3 + 2 / 4) / 3;
const ap2 = 1 / 2;
const ndcg5q1 = (2 / Math.log2(4) + 1 / Math.log2(5)) / (2 + 1 / Math.log2(3) + 1 / Math.log2(4));
const ndcg5q2 = (1 / Math.log2(3)) / 1;

test('default averaging: topics in both run and qrels; ties broken by docno descending', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, {
    measures: ['map', 'recip_rank', 'P.5', 'ndcg_cut.5', 'success', 'Rprec', 'bpref', 'num_ret', 'num_rel', 'num_rel_ret', 'num_q', 'gm_map', 'judged'],
  });
  assert.equal(r.numQ, 2);
  close(r.mean.map, (ap1 + ap2) / 2);
  close(r.mean.recip_rank, (1 / 3 + 1 / 2) / 2);
  close(r.mean.P_5, (2 / 5 + 1 / 5) / 2);
  close(r.mean.ndcg_cut_5, (ndcg5q1 + ndcg5q2) / 2);
  close(r.mean.success_1, 0);
  close(r.mean.success_5, 1);
  close(r.mean.Rprec, (1 / 3 + 0) / 2);
  close(r.mean.bpref, 0);
  assert.equal(r.mean.num_ret, 6);
  assert.equal(r.mean.num_rel, 4);
  assert.equal(r.mean.num_rel_ret, 3);
  assert.equal(r.mean.num_q, 2);
  close(r.mean.gm_map, Math.sqrt(ap1 * ap2));
  close(r.mean.judged_10, (3 / 10 + 2 / 10) / 2);
  assert.deepEqual([...r.perQuery.keys()], ['q1', 'q2']);
  close(r.perQuery.get('q1')!.recip_rank, 1 / 3);
  assert.equal(r.perQuery.get('q1')!.num_ret, 4);
  assert.equal(r.runid, 'tiny');
});

test('-c averages over every qrels topic; a missing topic scores 0 and is printed with -q', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, { complete: true, measures: ['recip_rank', 'map', 'num_rel', 'num_ret', 'gm_map'] });
  assert.equal(r.numQ, 3);
  close(r.mean.recip_rank, (1 / 3 + 1 / 2) / 3);
  close(r.mean.map, (ap1 + ap2) / 3);
  assert.equal(r.mean.num_rel, 5);
  assert.equal(r.mean.num_ret, 6);
  close(r.mean.gm_map, Math.exp((Math.log(ap1) + Math.log(ap2) + Math.log(1e-5)) / 3));
  const text = formatTrecEval(r, { perQuery: true });
  assert.match(text, /^recip_rank {12}\tq3\t0\.0000$/m);
  assert.match(text, /^num_rel {15}\tq3\t1$/m);
  assert.match(text, /^recip_rank {12}\tall\t0\.2778$/m);
});

test('-c summary num_rel counts grades > 0 whatever -l says (trec_eval 10 m_num_rel.c)', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, { complete: true, relevanceLevel: 2, measures: ['num_rel'] });
  assert.deepEqual(Object.values(Object.fromEntries([...r.perQuery].map(([q, v]) => [q, v.num_rel]))), [1, 0, 1]);
  assert.equal(r.mean.num_rel, 5);
  const plain = await evaluateFiles(qrelsPath, runPath, { relevanceLevel: 2, measures: ['num_rel'] });
  assert.equal(plain.mean.num_rel, 1);
});

test('-l sets the relevance level of binary measures but not of nDCG', async () => {
  const l1 = await evaluateFiles(qrelsPath, runPath, { measures: ['recip_rank', 'map', 'ndcg_cut.5'] });
  const l2 = await evaluateFiles(qrelsPath, runPath, { relevanceLevel: 2, measures: ['recip_rank', 'map', 'ndcg_cut.5'] });
  close(l2.mean.recip_rank, (1 / 3 + 0) / 2);
  close(l2.mean.map, (1 / 3 + 0) / 2);
  assert.equal(l2.mean.ndcg_cut_5, l1.mean.ndcg_cut_5);
});

test('-M cuts each ranking after sorting, not in file order', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, { maxDocs: 2, measures: ['recip_rank', 'num_ret'] });
  close(r.mean.recip_rank, (0 + 1 / 2) / 2); // q1's top two are d3 and d9 (d9 wins the tie with d1)
  assert.equal(r.mean.num_ret, 4);
  const m3 = await evaluateFiles(qrelsPath, runPath, { maxDocs: 3, measures: ['recip_rank'] });
  close(m3.perQuery.get('q1')!.recip_rank, 1 / 3);
});

test('all-tied run: order from the docno tie-break alone (descending)', async () => {
  const r = await evaluateFiles(qrelsPath, join(dir, 'alltied.trec'), { measures: ['recip_rank', 'ndcg_cut.10'] });
  // q1 order d9 d3 d2 d1 -> first relevant d2 at rank 3; q2 order d6 d5.
  close(r.perQuery.get('q1')!.recip_rank, 1 / 3);
  close(r.perQuery.get('q2')!.recip_rank, 1 / 2);
  const idcg = 2 + 1 / Math.log2(3) + 1 / Math.log2(4);
  close(r.perQuery.get('q1')!.ndcg_cut_10, (1 / Math.log2(4) + 2 / Math.log2(5)) / idcg);
});

test('the 3-column run gives the same values as the 6-column run', async () => {
  const m = ['official', 'ndcg_cut', 'recall', 'success'];
  const a = await evaluateFiles(qrelsPath, runPath, { measures: m, complete: true });
  const b = await evaluateFiles(qrelsPath, join(dir, 'run3.txt'), { measures: m, complete: true });
  assert.equal(b.runid, 'unknown');
  assert.deepEqual(b.mean, a.mean);
  assert.equal(formatTrecEval(b, { perQuery: true }).replace('unknown', 'tiny'), formatTrecEval(a, { perQuery: true }));
});

test('BEIR mode drops docid == qid and averages over queries in both run and qrels', async () => {
  const qrels = await readQrels(join(dir, 'beir-qrels.tsv'));
  const run = await readRun(join(dir, 'beir-run.trec'));
  const beir = evaluate(qrels, run, { beir: true, measures: ['ndcg_cut.10', 'recip_rank'] });
  assert.equal(beir.numQ, 2); // q3 has results but no judgements
  // q1 without itself retrieves d1 first; the ideal still holds both judged documents (d1 and q1).
  close(beir.perQuery.get('q1')!.ndcg_cut_10, 1 / (1 + 1 / Math.log2(3)));
  close(beir.perQuery.get('q2')!.ndcg_cut_10, (2 / Math.log2(3)) / 2);
  const plain = evaluate(qrels, run, { measures: ['ndcg_cut.10'] });
  close(plain.perQuery.get('q1')!.ndcg_cut_10, 1);
  assert.throws(() => evaluate(qrels, run, { beir: true, complete: true }), UsageError);
});

test('-J keeps judged documents only', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, { judgedOnly: true, measures: ['recip_rank', 'num_ret'] });
  close(r.perQuery.get('q1')!.recip_rank, 1 / 2); // d9 removed: d3, d1, d2
  assert.equal(r.mean.num_ret, 5);
});

test('measure specs: first parameter list wins, cutoffs sorted, names as trec_eval prints them', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, { measures: ['ndcg_cut.10', 'ndcg_cut.100', 'P.20,5', 'iprec_at_recall.0.5'] });
  assert.deepEqual(r.columns.map((c) => c.name), ['iprec_at_recall_0.50', 'P_5', 'P_20', 'ndcg_cut_10']);
  const off = await evaluateFiles(qrelsPath, runPath);
  assert.equal(off.showRunid, true);
  assert.equal(off.columns.length, 5 + 4 + 11 + 9); // counts, map..recip_rank, iprec_at_recall, P
  assert.throws(() => evaluate(new Map(), new Map(), { measures: ['nope'] }), UsageError);
  const q = await readQrels(qrelsPath);
  const run = await readRun(runPath);
  assert.throws(() => evaluate(q, run, { measures: ['P.5,5'] }), /duplicate cutoff/);
  assert.throws(() => evaluate(q, run, { measures: ['P.0'] }), /positive/);
  assert.throws(() => evaluate(q, run, { measures: ['map.5'] }), /no parameters/);
  assert.throws(() => evaluate(q, run, { relevanceLevel: -1 }), UsageError);
  assert.throws(() => evaluate(q, run, { maxDocs: 0 }), UsageError);
  assert.throws(() => evaluate(q, new Map([['zz', []]])), /no query has both/);
  assert.throws(() => evaluate(q, new Map([['q1', [{ docid: 'd1', score: 1 }, { docid: 'd1', score: 2 }]]])), /d1 twice/);
});

test('iprec_at_recall interpolates from the bottom of the ranking', async () => {
  const r = await evaluateFiles(qrelsPath, runPath, { measures: ['iprec_at_recall'] });
  const q1 = r.perQuery.get('q1')!;
  // q1: relevant at ranks 3 and 4 of 3 relevant; precision 1/3 at rank 3, 2/4 at rank 4.
  close(q1['iprec_at_recall_0.00'], 0.5);
  close(q1['iprec_at_recall_0.60'], 0.5);
  close(q1['iprec_at_recall_0.80'], 0);
  close(q1['iprec_at_recall_1.00'], 0);
});
