/** The study report from a hand-written results file: the table's rows and the SVG's lines and points. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { studyPlot, studyTable, writeStudyReport } from '../../src/study/report.js';
import type { StudyFile, StudyResult } from '../../src/study/run.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../helpers.js';

function cell(size: string, params: number, paradigm: 'sparse' | 'dense', objective: 'cl' | 'kd' | 'cl+kd', ndcg10: number): StudyResult {
  return {
    id: `${size}-${paradigm}-${objective}`, size, params, paradigm, objective, docsPerQuery: objective === 'kd' ? 2 : 17, epochs: 1, batch: 8,
    negatives: objective === 'kd' ? 1 : 16, steps: 10, lr: 1e-4, spent: params * 17, ndcg10, mrr10: ndcg10 + 0.1, recall100: 0.5,
    firstLoss: 2, lastLoss: 1, trainSeconds: 3, evalSeconds: 1, numQueries: 50,
  };
}

const results: StudyFile = {
  collection: 'toy',
  plan: { budget: 1e6, examples: 100, cells: [] },
  cells: [
    cell('big', 1e6, 'dense', 'cl', 0.4), cell('small', 1e4, 'sparse', 'cl', 0.2), cell('big', 1e6, 'sparse', 'cl', 0.5),
    cell('small', 1e4, 'dense', 'cl', 0.1), cell('small', 1e4, 'sparse', 'kd', 0.15),
  ],
};

test('the table lists cells by paradigm, objective, size with the metrics', () => {
  const lines = studyTable(results).split('\n');
  assert.equal(lines.length, 2 + 5);
  assert.match(lines[0]!, /^\| paradigm \| objective \| size \| params .*nDCG@10 \| MRR@10 \| R@100/);
  assert.match(lines[2]!, /^\| sparse \| cl \| small \| 10\.0K \|.*\| 0\.2000 \| 0\.3000 \| 0\.5000 \| 2\.000→1\.000 \|/);
  assert.match(lines[3]!, /^\| sparse \| cl \| big \| 1\.00M \|.*\| 0\.5000 \|/);
  assert.match(lines[4]!, /^\| sparse \| kd \| small /);
  assert.match(lines[6]!, /^\| dense \| cl \| big /);
});

test('the SVG has one line per paradigm × objective, rising where the metric rises', () => {
  const svg = studyPlot(results, 'ndcg10');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const series = [...svg.matchAll(/<polyline class="series" data-series="([^"]+)" points="([^"]+)"/g)];
  assert.deepEqual(series.map((m) => m[1]), ['sparse-cl', 'sparse-kd', 'dense-cl']);
  const pts = series[0]![2]!.split(' ').map((p) => p.split(',').map(Number));
  assert.equal(pts.length, 2);
  assert.ok(pts[1]![0]! > pts[0]![0]!, 'x grows with parameters');
  assert.ok(pts[1]![1]! < pts[0]![1]!, 'higher nDCG is higher on the page (smaller y)');
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
  assert.match(svg, /sparse-cl: 0\.5000/);
});

test('lion study report writes study.md and one SVG per metric', async () => {
  const dir = tempDir('lion-study-report-');
  const file = join(dir, 'results.json');
  writeFileSync(file, JSON.stringify(results));
  assert.equal(await main(['study', 'report', '--results', file, '--out', join(dir, 'report')]), 0);
  const md = readFileSync(join(dir, 'report', 'study.md'), 'utf8');
  assert.match(md, /5 of 0 cells finished/);
  assert.match(md, /!\[nDCG@10\]\(ndcg10\.svg\)/);
  for (const m of ['ndcg10', 'mrr10', 'recall100']) assert.ok(existsSync(join(dir, 'report', `${m}.svg`)));
  await writeStudyReport(results, join(dir, 'r2'), ['ndcg10']);
  assert.ok(!existsSync(join(dir, 'r2', 'mrr10.svg')));
  assert.notEqual(await main(['study', 'report', '--results', join(dir, 'missing.json'), '--out', dir]), 0);
});
