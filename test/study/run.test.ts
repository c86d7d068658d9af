/**
 * A micro scaling study end to end: two tiny from-scratch sizes (h32l1, h48l1), CL, sparse and dense, a few
 * steps each on a 200-document slice of Cranfield with a BM25-mined training file built here (training
 * queries and evaluation queries are disjoint halves), then the report. Also: resuming skips finished cells,
 * and KD cells refuse a training file without teacher scores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBm25Index } from '../../src/bm25/build.js';
import { createBm25Searcher, searchBm25All } from '../../src/bm25/search.js';
import { UsageError } from '../../src/errors.js';
import { saveBpe, trainBpe } from '../../src/tokenizer/bpe-train.js';
import { mineNegatives } from '../../src/train/mine.js';
import { prepareStudy, runStudy } from '../../src/study/run.js';
import { writeStudyReport } from '../../src/study/report.js';
import type { Qrels, TextRecord } from '../../src/types.js';
import { fixtures, tempDir } from '../helpers.js';

interface Doc { _id: string; title: string; text: string }

async function microSetup() {
  const dir = tempDir('lion-study-');
  const cran = join(fixtures, 'cranfield');
  const docs = readFileSync(join(cran, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Doc).slice(0, 200);
  const inSlice = new Set(docs.map((d) => d._id));
  const qrels: Qrels = new Map();
  for (const l of readFileSync(join(cran, 'qrels', 'test.tsv'), 'utf8').trim().split('\n').slice(1)) {
    const [q, d, g] = l.split('\t');
    if (!inSlice.has(d!) || Number(g) <= 0) continue;
    if (!qrels.has(q!)) qrels.set(q!, new Map());
    qrels.get(q!)!.set(d!, Number(g));
  }
  const queries = readFileSync(join(cran, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; text: string }).filter((q) => qrels.has(q._id));
  const train = queries.filter((_, i) => i % 2 === 0), evalQ = queries.filter((_, i) => i % 2 === 1);
  // the evaluation collection: the slice, the odd half of its judged queries
  const coll = join(dir, 'coll');
  mkdirSync(join(coll, 'qrels'), { recursive: true });
  writeFileSync(join(coll, 'corpus.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  writeFileSync(join(coll, 'queries.jsonl'), `${evalQ.map((q) => JSON.stringify(q)).join('\n')}\n`);
  const qrelLines = evalQ.flatMap((q) => [...qrels.get(q._id)!].map(([d, g]) => `${q._id}\t${d}\t${g}`));
  writeFileSync(join(coll, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${qrelLines.join('\n')}\n`);
  // the training file: BM25 hard negatives for the even half
  const records: TextRecord[] = docs.map((d) => ({ id: d._id, text: `${d.title} ${d.text}` }) as TextRecord);
  const run = await searchBm25All(createBm25Searcher(await buildBm25Index(records)), train.map((q) => ({ id: q._id, text: q.text }) as TextRecord), { k: 30 });
  const mined = mineNegatives(run, qrels, new Map(train.map((q) => [q._id, q.text])), { negatives: 8, skip: 2 });
  const trainFile = join(dir, 'train.jsonl');
  writeFileSync(trainFile, `${mined.examples.slice(0, 24).map((e) => JSON.stringify({ question: e.query, pos_pid: e.posId, neg_pids: e.negIds })).join('\n')}\n`);
  const tok = join(dir, 'tok');
  await saveBpe(trainBpe(docs.map((d) => `${d.title} ${d.text}`), { vocabSize: 320 }), tok);
  return { dir, coll, trainFile, tok, evalQueries: evalQ.length };
}

test('a micro study trains, evaluates, resumes and reports every cell', async () => {
  const s = await microSetup();
  const { sizes, plan } = await prepareStudy({ sizes: 'h32l1,h48l1', tokenizer: s.tok, trainFile: s.trainFile, objectives: ['cl'], batch: 4, negatives: 3, lr: 3e-3 });
  assert.equal(plan.examples, 24);
  assert.deepEqual(plan.cells.map((c) => c.id), ['h32l1-sparse-cl', 'h32l1-dense-cl', 'h48l1-sparse-cl', 'h48l1-dense-cl']);
  // the larger size gets one epoch (24 / 4 = 6 steps); the smaller, more epochs in proportion to its size
  const big = plan.cells[2]!, small = plan.cells[0]!;
  assert.equal(big.epochs, 1);
  assert.equal(big.steps, 6);
  assert.equal(small.epochs, Math.round(big.params / small.params));
  assert.ok(small.steps > big.steps);
  const work = join(s.dir, 'work');
  const opts = { plan, sizes, collection: s.coll, trainFile: s.trainFile, work, tokenizer: s.tok, docMaxLength: 48, queryMaxLength: 32, tau: 0.05 };
  const f = await runStudy(opts);
  assert.equal(f.cells.length, 4);
  for (const c of f.cells) {
    assert.equal(c.numQueries, s.evalQueries);
    for (const m of [c.ndcg10, c.mrr10, c.recall100]) assert.ok(m >= 0 && m <= 1 && Number.isFinite(m), `${c.id}: ${m}`);
    assert.ok(Number.isFinite(c.firstLoss) && Number.isFinite(c.lastLoss));
    assert.ok(existsSync(join(work, 'cells', c.id, 'train_log.jsonl')), c.id);
  }
  // training moved every cell's loss down (a few steps from scratch: retrieval itself stays near chance here)
  for (const c of f.cells) assert.ok(c.lastLoss < c.firstLoss, `${c.id}: ${c.firstLoss} -> ${c.lastLoss}`);
  const onDisk = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8'));
  assert.deepEqual(onDisk.cells.map((c: { id: string }) => c.id), f.cells.map((c) => c.id));
  // resuming: nothing is trained again, the results stay the same
  const said: string[] = [];
  const again = await runStudy({ ...opts, onCell: (m) => said.push(m) });
  assert.deepEqual(said, plan.cells.map((c) => `${c.id}: done already`));
  assert.deepEqual(again.cells, f.cells);
  // a changed plan does not silently reuse cells trained under the old one
  const other = await prepareStudy({ sizes: 'h32l1,h48l1', tokenizer: s.tok, trainFile: s.trainFile, objectives: ['cl'], batch: 6, negatives: 3, lr: 3e-3 });
  await assert.rejects(runStudy({ ...opts, plan: other.plan }), (e) => e instanceof UsageError && /was run with batch 4, the plan now asks for 6/.test(e.message));
  const paths = await writeStudyReport(again, join(s.dir, 'report'));
  const md = readFileSync(paths[0]!, 'utf8');
  assert.equal((md.match(/^\| (sparse|dense) \| cl \|/gm) ?? []).length, 4);
  const svg = readFileSync(join(s.dir, 'report', 'ndcg10.svg'), 'utf8');
  assert.equal((svg.match(/<polyline class="series"/g) ?? []).length, 2);
  // a given base model (here the from-scratch h32l1 the study built) is fine-tuned with a fresh LoRA adapter
  const base = join(work, 'bases', 'h32l1');
  const lora = await prepareStudy({ sizes: 'h32l1', models: [base], trainFile: s.trainFile, objectives: ['cl'], paradigms: ['dense'], batch: 4, negatives: 3, lr: 3e-3 });
  assert.equal(lora.plan.cells[0]!.params, small.params);
  const lf = await runStudy({ ...opts, plan: lora.plan, sizes: lora.sizes, work: join(s.dir, 'lora') });
  assert.ok(existsSync(join(s.dir, 'lora', 'cells', 'h32l1-dense-cl', 'adapter_config.json')));
  assert.ok(!existsSync(join(s.dir, 'lora', 'bases')));
  assert.equal(lf.cells[0]!.numQueries, s.evalQueries);
  // KD needs teacher scores: a CL file is refused before any training
  const kd = await prepareStudy({ sizes: 'h32l1', tokenizer: s.tok, trainFile: s.trainFile, objectives: ['kd'], paradigms: ['dense'], batch: 4 });
  await assert.rejects(runStudy({ ...opts, plan: kd.plan, sizes: kd.sizes, work: join(s.dir, 'kd') }), (e) => e instanceof UsageError && /teacher|CL\+KD/.test(e.message));
});
