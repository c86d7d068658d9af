import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fuseCommand } from '../../src/cli/commands/fuse.js';
import { compareRuns } from '../../src/eval/compare.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { checkDevQrels, simplexGrid, tuneFusion } from '../../src/index/fuse-tune.js';
import { fuseRuns } from '../../src/index/fusion.js';
import { readRun, writeRun } from '../../src/io/trec.js';
import { Rng } from '../../src/util/rng.js';
import type { Qrels, Run } from '../../src/types.js';
import { tempDir } from '../helpers.js';

/** Two noisy runs over 40 queries, each with one relevant document; their errors are independent, so a blend wins. */
function fixture(): { a: Run; b: Run; qrels: Qrels } {
  const r = new Rng(5);
  const a: Run = new Map(), b: Run = new Map(), qrels: Qrels = new Map();
  for (let q = 0; q < 40; q++) {
    const qid = `q${q}`;
    qrels.set(qid, new Map([[`d${q}-0`, 1]]));
    const docs = Array.from({ length: 20 }, (_, i) => `d${q}-${i}`);
    a.set(qid, docs.map((docid, i) => ({ docid, score: 10 * r.float() + (i === 0 ? 4 : 0) })).sort((x, y) => y.score - x.score));
    b.set(qid, docs.map((docid, i) => ({ docid, score: 0.1 * r.float() + (i === 0 ? 0.04 : 0) })).sort((x, y) => y.score - x.score));
  }
  return { a, b, qrels };
}

test('simplex grid: every weight vector sums to 1', () => {
  const g = simplexGrid(3, 0.25);
  assert.equal(g.length, 15);
  for (const w of g) assert.ok(Math.abs(w.reduce((s, x) => s + x, 0) - 1) < 1e-12);
  assert.throws(() => simplexGrid(2, 0.3), /divide 1/);
});

test('tuning picks the best setting of the grid, beats each run alone, and its recorded score reproduces', () => {
  const { a, b, qrels } = fixture();
  const t = tuneFusion([a, b], qrels, { step: 0.1 });
  assert.ok(t.score > Math.max(...t.singles), `blend ${t.score} beats ${t.singles}`);
  assert.equal(t.score, Math.max(...t.tried.map((x) => x.score)));
  assert.ok(t.weights.every((w) => w > 0));
  const again = evaluate(qrels, fuseRuns([a, b], { ...t, depth: 1000, k: 1000 }), { measures: ['ndcg_cut.10'] }).mean.ndcg_cut_10;
  assert.equal(again, t.score);
  // Every grid score is what fuseRuns + evaluate give for that setting (the fast path changes nothing).
  for (const x of [0, 5, 13, 21, 26, t.tried.length - 1].map((i) => t.tried[i]!)) {
    const direct = evaluate(qrels, fuseRuns([a, b], { ...x, depth: 1000, k: 1000 }), { measures: ['ndcg_cut.10'] }).mean.ndcg_cut_10;
    assert.equal(x.score, direct, `${x.method}/${x.norm} ${x.weights}`);
  }
  assert.ok(t.tried.some((x) => x.method === 'rrf'));
  // Raw sums without normalisation would be dominated by run a's scale: z-score or min-max must be chosen.
  assert.notEqual(t.norm, 'none');
  const c = compareRuns(qrels, a, fuseRuns([a, b], t), 'ndcg_cut.10');
  assert.ok(c.diff > 0 && c.n === 40 && c.wins > c.losses);
});

test('a qrels file named like a test split is refused unless allowed', () => {
  assert.throws(() => checkDevQrels('scifact/qrels/test.tsv'), /looks like a test split/);
  assert.throws(() => checkDevQrels('qrels.test.txt'), /test split/);
  checkDevQrels('scifact/qrels/test.tsv', true);
  checkDevQrels('qrels/train.tsv');
  checkDevQrels('latest-dev.tsv');
});

test('lion fuse --tune records the weights beside the output and --weights-from applies them', async () => {
  const { a, b, qrels } = fixture();
  const dir = tempDir();
  await writeRun(join(dir, 'a.trec'), a);
  await writeRun(join(dir, 'b.trec'), b);
  writeFileSync(join(dir, 'dev.tsv'), [...qrels].map(([q, m]) => [...m].map(([d, g]) => `${q}\t${d}\t${g}`).join('\n')).join('\n') + '\n');
  writeFileSync(join(dir, 'test.tsv'), readFileSync(join(dir, 'dev.tsv')));
  const err = process.stderr.write;
  process.stderr.write = () => true;
  try {
    await assert.rejects(fuseCommand.run([join(dir, 'a.trec'), join(dir, 'b.trec'), '--tune', '--qrels', join(dir, 'test.tsv'), '--out', join(dir, 'x.trec')]), /test split/);
    assert.equal(await fuseCommand.run([join(dir, 'a.trec'), join(dir, 'b.trec'), '--tune', '--qrels', join(dir, 'dev.tsv'), '--step', '0.1', '--out', join(dir, 'h.trec')]), 0);
    const w = JSON.parse(readFileSync(join(dir, 'h.trec.weights.json'), 'utf8'));
    assert.deepEqual(w.weights, tuneFusion([a, b], qrels, { step: 0.1 }).weights);
    assert.equal(await fuseCommand.run([join(dir, 'a.trec'), join(dir, 'b.trec'), '--weights-from', join(dir, 'h.trec.weights.json'), '--out', join(dir, 'h2.trec')]), 0);
  } finally {
    process.stderr.write = err;
  }
  assert.ok(existsSync(join(dir, 'h2.trec')));
  assert.deepEqual(await readRun(join(dir, 'h2.trec')), await readRun(join(dir, 'h.trec')));
});
