// The evaluation view's back end, on real Cranfield runs written by real BM25 searches.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { evaluate } from '../../src/eval/evaluate.js';
import { readQrels, readRun } from '../../src/io/trec.js';
import { HttpError } from '../../src/server/http.js';
import { evaluateRequest } from '../../src/server/evaluate.js';
import { cranfieldIndex, cranfieldRun, cranQrels, cranfield } from './fixture.js';

let dir: string;
let runA: string;
let runB: string;
const roots = () => ({ fileRoots: [dir, cranfield] });

before(async () => {
  dir = (await cranfieldIndex()).dir;
  runA = await cranfieldRun(dir, 'bm25-b40', 0.4);
  runB = await cranfieldRun(dir, 'bm25-b75', 0.75);
});

async function status(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
    return [200, ''];
  } catch (e) {
    assert.ok(e instanceof HttpError || (e as { code?: string }).code, String(e));
    return [(e as HttpError).status ?? 400, (e as Error).message];
  }
}

test('two runs by server path: trec_eval means, per-query values, sorted differences and paired tests', async () => {
  const r: any = await evaluateRequest({ qrels: { path: cranQrels }, runs: [{ path: runA }, { path: runB }], measure: 'ndcg_cut.10' }, roots());
  const qrels = await readQrels(cranQrels);
  const ea = evaluate(qrels, await readRun(runA), { measures: ['ndcg_cut.10'] });
  const eb = evaluate(qrels, await readRun(runB), { measures: ['ndcg_cut.10'] });
  assert.equal(r.runs[0].name, 'bm25-b40.trec');
  assert.equal(r.runs[0].mean, ea.mean.ndcg_cut_10);
  assert.equal(r.runs[1].mean, eb.mean.ndcg_cut_10);
  assert.equal(r.perQuery.length, ea.perQuery.size);
  const q1 = r.perQuery.find((x: any) => x.qid === '1');
  assert.deepEqual(q1.values, [ea.perQuery.get('1')!.ndcg_cut_10, eb.perQuery.get('1')!.ndcg_cut_10]);
  const c = r.comparison;
  assert.equal(c.wins + c.losses + c.ties, c.queries);
  const diffs = c.diffs.map((d: any) => d.diff);
  assert.deepEqual(diffs, [...diffs].sort((a: number, b: number) => b - a));
  const mean = diffs.reduce((a: number, b: number) => a + b, 0) / diffs.length;
  assert.ok(Math.abs(c.ttest.meanDiff - mean) < 1e-12);
  assert.ok(Math.abs(mean - (r.runs[1].mean - r.runs[0].mean)) < 1e-12);
  assert.ok(c.ttest.p > 0 && c.ttest.p <= 1);
  assert.ok(c.randomisation.p > 0 && c.randomisation.p <= 1);
  assert.equal(c.randomisation.seed, 42);
  // Same seed, same answer.
  const again: any = await evaluateRequest({ qrels: { path: cranQrels }, runs: [{ path: runA }, { path: runB }] }, roots());
  assert.equal(again.comparison.randomisation.p, c.randomisation.p);
});

test('uploaded text gives the same result as the same files by path', async () => {
  const byPath: any = await evaluateRequest({ qrels: { path: cranQrels }, runs: [{ path: runA }], measure: 'recip_rank' }, roots());
  const byText: any = await evaluateRequest({
    qrels: { name: 'test.tsv', text: await readFile(cranQrels, 'utf8') },
    runs: [{ name: 'bm25-b40.trec', text: await readFile(runA, 'utf8') }],
    measure: 'recip_rank',
  }, { fileRoots: [] });
  assert.deepEqual(byText, byPath);
  assert.equal(byPath.comparison, undefined);
});

test('bad inputs are 4xx that name the problem', async () => {
  const q = { path: cranQrels };
  const [s1, m1] = await status(evaluateRequest({ qrels: q, runs: [{ path: '/etc/hostname' }] }, roots()));
  assert.equal(s1, 403);
  assert.match(m1, /outside the folders/);
  assert.equal((await status(evaluateRequest({ qrels: q, runs: [{ path: `${dir}/missing.trec` }] }, roots())))[0], 404);
  const [s3, m3] = await status(evaluateRequest({ qrels: q, runs: [{ name: 'mine.trec', text: '1 Q0 d1 1 x tag\n' }] }, roots()));
  assert.equal(s3, 400);
  assert.match(m3, /mine\.trec/);
  assert.doesNotMatch(m3, /lion-serve-eval/);
  assert.equal((await status(evaluateRequest({ qrels: q, runs: [] }, roots())))[0], 400);
  assert.equal((await status(evaluateRequest({ qrels: q, runs: [{ path: runA, text: 'x' }] }, roots())))[0], 400);
  assert.equal((await status(evaluateRequest({ qrels: q, runs: [{ path: runA }], measure: 'ndcg_cut' }, roots())))[0], 400);
  assert.equal((await status(evaluateRequest({ qrels: q, runs: [{ path: runA }], measure: 'nonsense' }, roots())))[0], 400);
  assert.equal((await status(evaluateRequest({ qrels: q, runs: [{ path: runA }], trials: 5 }, roots())))[0], 400);
});
