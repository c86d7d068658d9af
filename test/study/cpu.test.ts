/**
 * The CPU study (src/study/cpu.ts): the default plan (sizes, span, budget rule, cell count), the teacher beating
 * BM25 on its fitting queries, and a micro study end to end on a slice of the Cranfield fixture laid out as the
 * shared data folder — then resumed after losing its last cell (only that cell runs again, with the same result),
 * refused under changed settings, and reported (fits, findings, SVG plots with fitted lines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { saveBpe, trainBpe } from '../../src/tokenizer/bpe-train.js';
import { cpuPlan, DEFAULT_CPU_STUDY, nonEmbeddingParams, runCpuStudy, type CpuStudyFile } from '../../src/study/cpu.js';
import { parseSizes } from '../../src/study/grid.js';
import { findings, writeCpuReport } from '../../src/study/report-cpu.js';
import { fixtures, tempDir } from '../helpers.js';

test('the default plan: 5 sizes over ≥ 30× non-embedding parameters, 30 grid cells + 6 robustness cells, one budget', () => {
  const sizes = parseSizes(DEFAULT_CPU_STUDY.sizes, { vocab: 8192, bosTokenId: 8189, eosTokenId: 8190, batch: DEFAULT_CPU_STUDY.batch });
  const ne = sizes.map(nonEmbeddingParams);
  assert.equal(sizes.length, 5);
  assert.ok(Math.max(...ne) / Math.min(...ne) >= 30, `span ${Math.max(...ne) / Math.min(...ne)}`);
  const cells = cpuPlan(DEFAULT_CPU_STUDY, sizes, 720);
  assert.equal(cells.filter((c) => c.noise === 0).length, 30);
  assert.equal(cells.filter((c) => c.noise > 0).length, 6);
  assert.ok(cells.filter((c) => c.noise > 0).every((c) => c.objective === 'cl'));
  // fixed compute: every CL / CL+KD cell spends the same parameter·document-passes; KD matches without exceeding
  const budget = Math.max(...sizes.map((s) => s.params)) * (1 + DEFAULT_CPU_STUDY.negatives) * DEFAULT_CPU_STUDY.largestEpochs;
  for (const c of cells) {
    if (c.objective === 'kd') assert.ok(c.spent <= budget * (1 + 1e-9) && c.spent >= budget / 2, c.id);
    else assert.ok(Math.abs(c.spent / budget - 1) < 1e-9, c.id);
  }
  const largest = cells.find((c) => c.id === 'h128l3-sparse-cl')!, smallest = cells.find((c) => c.id === 'h32l1-sparse-cl')!;
  assert.equal(largest.epochs, DEFAULT_CPU_STUDY.largestEpochs);
  assert.ok(Math.abs(smallest.epochs - (DEFAULT_CPU_STUDY.largestEpochs * largest.params) / smallest.params) < 1e-9);
  assert.throws(() => cpuPlan({ ...DEFAULT_CPU_STUDY, noiseSizes: 'h999l1' }, sizes, 720), UsageError);
});

interface Doc { _id: string; title: string; text: string }

/** A data folder with Cranfield's first 300 documents as `scifact/` (even queries train, odd queries test). */
function microData(dir: string): { data: string; tok: string } {
  const cran = join(fixtures, 'cranfield');
  const docs = readFileSync(join(cran, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Doc).slice(0, 300);
  const inSlice = new Set(docs.map((d) => d._id));
  const qrels = new Map<string, string[]>();
  for (const l of readFileSync(join(cran, 'qrels', 'test.tsv'), 'utf8').trim().split('\n').slice(1)) {
    const [q, d, g] = l.split('\t');
    if (!inSlice.has(d!) || Number(g) <= 0) continue;
    qrels.set(q!, [...(qrels.get(q!) ?? []), d!]);
  }
  const queries = readFileSync(join(cran, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; text: string }).filter((q) => qrels.has(q._id));
  const sf = join(dir, 'data', 'scifact');
  mkdirSync(join(sf, 'qrels'), { recursive: true });
  writeFileSync(join(sf, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  writeFileSync(join(sf, 'queries.jsonl'), `${queries.map((q) => JSON.stringify(q)).join('\n')}\n`);
  const lines = (odd: number) => queries.filter((_, i) => i % 2 === odd).flatMap((q) => qrels.get(q._id)!.map((d) => `${q._id}\t${d}\t1`));
  writeFileSync(join(sf, 'qrels', 'train.tsv'), `query-id\tcorpus-id\tscore\n${lines(0).join('\n')}\n`);
  writeFileSync(join(sf, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${lines(1).join('\n')}\n`);
  const tok = join(dir, 'tok');
  return { data: join(dir, 'data'), tok };
}

test('a micro CPU study runs end to end, resumes where it stopped, refuses changed settings, and reports', async () => {
  const dir = tempDir('lion-study-cpu-');
  const { data, tok } = microData(dir);
  const texts = readFileSync(join(data, 'scifact', 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => { const d = JSON.parse(l) as Doc; return `${d.title} ${d.text}`; });
  await saveBpe(trainBpe(texts, { vocabSize: 300 }), tok);
  const settings = {
    ...DEFAULT_CPU_STUDY, sizes: 'h16l1,h32l1', noiseSizes: 'h16l1', mntpTokensPerParam: 0.1, mntpBlockLength: 32, mntpBatch: 4,
    largestEpochs: 0.5, batch: 4, negatives: 2, queryMaxLength: 16, docMaxLength: 32, evalDocMaxLength: 32, mineNegatives: 8, mineDepth: 30,
  };
  const work = join(dir, 'work');
  const o = { settings, data, pretrainCorpus: join(data, 'scifact', 'corpus.jsonl'), tokenizer: tok, work, collections: ['scifact'] };
  const f = await runCpuStudy(o);
  assert.equal(f.cells.length, 14);
  assert.equal(f.planned, 14);
  // the teacher is at least BM25 on the queries it was fitted on (its weights start from BM25 alone)
  assert.ok(f.teacher.fitNdcg10 > 0);
  for (const c of f.cells) {
    const s = c.suite.perCollection['scifact']!;
    assert.ok(s.ndcg10 >= 0 && s.ndcg10 <= 1 && s.queries > 0, c.id);
    assert.ok(Number.isFinite(c.heldoutLoss) && c.heldoutLoss > 0, c.id);
    assert.ok(c.computeFlops > 0 && c.mntpTokens > 0, c.id);
  }
  assert.equal(f.sizes.length, 2);
  // Lose the last cell (as a kill between its training and its write would): only it runs again, identically.
  const path = join(work, 'results.json');
  const full = JSON.parse(readFileSync(path, 'utf8')) as CpuStudyFile;
  const last = full.cells.pop()!;
  writeFileSync(path, JSON.stringify(full));
  const lines: string[] = [];
  const g = await runCpuStudy({ ...o, say: (m) => lines.push(m) });
  assert.equal(g.cells.length, 14);
  assert.deepEqual(g.cells.at(-1)!.suite.perCollection, last.suite.perCollection);
  assert.equal(g.cells.at(-1)!.heldoutLoss, last.heldoutLoss);
  assert.equal(lines.filter((l) => /^cell \d+\/14 /.test(l)).length, 1, lines.join('\n'));
  assert.ok(!lines.some((l) => l.startsWith('mntp ')), 'MNTP ran again');
  // A cell scored by an older suite (no suiteId, a stale score) is re-scored from its trained model, not retrained.
  const again = JSON.parse(readFileSync(path, 'utf8')) as CpuStudyFile;
  const first = again.cells[0]!;
  const truth = first.suite.perCollection['scifact']!.ndcg10;
  delete first.suiteId;
  first.suite.perCollection['scifact']!.ndcg10 = -1;
  writeFileSync(path, JSON.stringify(again));
  const rescored: string[] = [];
  const h = await runCpuStudy({ ...o, say: (m) => rescored.push(m) });
  assert.equal(h.cells[0]!.suite.perCollection['scifact']!.ndcg10, truth);
  assert.equal(h.cells[0]!.suiteId, g.cells[1]!.suiteId);
  assert.equal(rescored.filter((l) => /re-scored with the current suite/.test(l)).length, 1, rescored.join('\n'));
  assert.ok(!rescored.some((l) => /^cell \d+\/14 .*steps/.test(l)), 'a cell trained again');
  await assert.rejects(runCpuStudy({ ...o, settings: { ...settings, lr: 5e-4 } }), (e: unknown) => e instanceof UsageError && /lr/.test((e as Error).message));
  // The report: tables, fits, findings (three, each with a verdict), and SVG plots with fitted lines.
  const out = join(dir, 'report');
  const written = await writeCpuReport(g, out);
  const md = readFileSync(join(out, 'study-cpu.md'), 'utf8');
  assert.match(md, /### Power-law fits/);
  assert.match(md, /### Findings/);
  const fs = findings(g);
  assert.equal(fs.length, 3);
  for (const x of fs) assert.ok(['holds', 'does not hold', 'cannot tell'].includes(x.verdict));
  const svg = readFileSync(written.find((p) => p.endsWith('study-cpu-avg-params.svg'))!, 'utf8');
  assert.match(svg, /class="fit"/);
  assert.ok(existsSync(join(out, 'study-cpu-loss-params.svg')));
});
