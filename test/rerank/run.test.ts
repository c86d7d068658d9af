import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../src/cli/main.js';
import { compareRuns } from '../../src/eval/compare.js';
import { readRun, writeRun } from '../../src/io/trec.js';
import { ref } from '../../src/kernels/ref/index.js';
import { openReranker, rerankRun } from '../../src/rerank/run.js';
import { trainReranker } from '../../src/train/rerank.js';
import type { Qrels, Run } from '../../src/types.js';
import { tempDir } from '../helpers.js';
import { tinySetup } from '../train/setup.js';
import { readBm25Index } from '../../src/bm25/format.js';
import { createBm25Searcher, searchBm25 } from '../../src/bm25/search.js';
import { createLionServer } from '../../src/server/app.js';
import { bm25System, loadDocStore } from '../../src/server/systems.js';
import { cranfield, cranfieldIndex } from '../server/fixture.js';

test('re-ranking a deliberately bad run (positives last) with a trained cross-encoder raises nDCG@10 significantly', async () => {
  const s = await tinySetup();
  const ce = tempDir();
  await trainReranker({
    model: s.model, trainFile: s.cl, corpus: s.corpus, output: ce, kernels: ref, negatives: 3, batchSize: 8, maxSteps: 40,
    lr: 1e-2, warmupRatio: 0.1, logEvery: 10, saveEvery: 40, queryMaxLength: 12, docMaxLength: 20, loraR: 4, loraAlpha: 8,
  });
  assert.ok(existsSync(join(ce, 'tokenizer.json')), 'the cross-encoder folder carries its tokenizer');
  // The bad first stage: each training query's negatives ranked above its positive.
  const run: Run = new Map();
  const qrels: Qrels = new Map();
  const queries = new Map<string, string>();
  readFileSync(s.cl, 'utf8').trim().split('\n').forEach((l, i) => {
    const ex = JSON.parse(l) as { question: string; pos_pid: string; neg_pids: string[] };
    const qid = `q${i}`;
    queries.set(qid, ex.question);
    qrels.set(qid, new Map([[ex.pos_pid, 1]]));
    run.set(qid, [...ex.neg_pids, ex.pos_pid].map((docid, r) => ({ docid, score: 10 - r })));
  });
  const texts = new Map<string, string>();
  for (const l of readFileSync(s.corpus, 'utf8').trim().split('\n')) { const d = JSON.parse(l) as { _id: string; title: string; text: string }; texts.set(d._id, `${d.title} ${d.text}`); }
  const rr = openReranker(ce, s.model, ref);
  const opts = { queryMaxLength: 12, docMaxLength: 20 };
  const better = rerankRun(rr, run, queries, (id) => texts.get(id), { depth: 7, ...opts });
  const c = compareRuns(qrels, run, better, 'ndcg_cut.10');
  assert.ok(c.diff > 0.05 && c.wins > c.losses, `nDCG@10 ${c.a} -> ${c.b}`);
  assert.ok(c.randomisationP < 0.05 && c.tTestP < 0.05, `p ${c.tTestP} ${c.randomisationP}`);
  // Depth 3 re-scores only the first three; the positive (rank 7) stays where the first stage put it.
  const shallow = rerankRun(rr, run, queries, (id) => texts.get(id), { depth: 3, ...opts });
  for (const [q, hits] of shallow) {
    assert.equal(hits[6]!.docid, run.get(q)![6]!.docid);
    assert.deepEqual(new Set(hits.slice(0, 3).map((h) => h.docid)), new Set(run.get(q)!.slice(0, 3).map((h) => h.docid)));
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i]!.score < hits[i - 1]!.score);
  }
  assert.throws(() => rerankRun(rr, run, new Map(), (id) => texts.get(id)), /has no text in the queries file/);
  // The CLI writes the run and reports the gain with its significance.
  const dir = tempDir();
  await writeRun(join(dir, 'bad.trec'), run);
  writeFileSync(join(dir, 'queries.tsv'), [...queries].map(([q, t]) => `${q}\t${t}`).join('\n') + '\n');
  writeFileSync(join(dir, 'qrels.txt'), [...qrels].map(([q, m]) => [...m.keys()].map((d) => `${q} 0 ${d} 1`).join('\n')).join('\n') + '\n');
  const out = process.stdout.write, err = process.stderr.write;
  let printed = '';
  process.stdout.write = ((x: string) => { printed += x; return true; }) as typeof process.stdout.write;
  process.stderr.write = () => true;
  try {
    assert.equal(await main(['rerank', 'run', '--model', ce, '--base', s.model, '--run', join(dir, 'bad.trec'), '--corpus', s.corpus,
      '--queries', join(dir, 'queries.tsv'), '--depth', '7', '--query-max-length', '12', '--doc-max-length', '20', '--qrels', join(dir, 'qrels.txt'), '--out', join(dir, 'rr.trec')]), 0);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  assert.match(printed, /ndcg_cut\.10: .* → .*randomisation p/);
  const report = JSON.parse(readFileSync(join(dir, 'rr.trec.json'), 'utf8')).report;
  assert.ok(Math.abs(report.diff - c.diff) < 1e-4, 'the CLI matches the library (scores written with limited precision)');
  assert.equal((await readRun(join(dir, 'rr.trec'))).size, 40);

  // The server's /api/rerank re-scores a system's top hits the same way.
  const ix = await readBm25Index((await cranfieldIndex()).index);
  const docs = await loadDocStore([cranfield]);
  const srv = await createLionServer({ systems: [bm25System('bm25', ix)], docs, port: 0, log: () => {}, reranker: rr });
  try {
    const res = await fetch(`${srv.url}/api/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: 'wing flutter', system: 'bm25', depth: 20, k: 5 }) });
    assert.equal(res.status, 200);
    const body = await res.json() as { hits: Array<{ docid: string; firstRank: number }> };
    const first = searchBm25(createBm25Searcher(ix), 'wing flutter', 20);
    const want = rerankRun(rr, new Map([['q', first]]), new Map([['q', 'wing flutter']]), (id) => { const d = docs.get(id)!; return d.title ? `${d.title} ${d.text}` : d.text; }, { depth: 20 }).get('q')!.slice(0, 5);
    assert.deepEqual(body.hits.map((h) => h.docid), want.map((h) => h.docid));
    assert.ok(body.hits.every((h) => h.firstRank >= 1 && h.firstRank <= 20));
  } finally {
    await srv.close();
  }
});
