// The evaluation suite on data folders built from the shipped Cranfield fixture: full retrieval (BM25 pinned to
// the quickstart's value), re-ranking of a first-stage run (a TREC DL-shaped folder whose candidates are the
// BM25 top 100), hybrid rows, skipped collections, and the CLI with a shipped demonstration model.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../src/cli/main.js';
import { LionError } from '../../src/errors.js';
import { runEvalSuite, formatEvalSuite, type SuiteSystem } from '../../src/api/eval-suite.js';
import { collect, readCorpus, readQueries } from '../../src/io/corpus.js';
import { readQrels } from '../../src/io/trec.js';
import { bm25QuickstartSystem } from '../../src/quickstart.js';
import { fixtures, repoRoot, tempDir } from '../helpers.js';

const cran = join(fixtures, 'cranfield');

/** A data folder holding Cranfield as `cranfield/beir` and, with `rerank`, as a DL-shaped `trec-dl-2019/`. */
async function dataFolder(rerank: boolean): Promise<string> {
  const data = tempDir('lion-suite-');
  cpSync(cran, join(data, 'cranfield', 'beir'), { recursive: true });
  if (!rerank) return data;
  const dl = join(data, 'trec-dl-2019');
  mkdirSync(join(dl, 'rank_llm', 'retrieve_results', 'BM25'), { recursive: true });
  const docs = await collect(readCorpus(join(cran, 'corpus.jsonl')));
  // Pool passages: every document but one that BM25 ranks, to check that candidates without text are dropped.
  const queries = (await collect(readQueries(join(cran, 'queries.jsonl')))).slice(0, 40);
  const bm25 = await (await bm25QuickstartSystem().prepare(docs)).search(queries, 100);
  const missing = bm25.get(queries[0]!.id)![5]!.docid;
  writeFileSync(join(dl, 'passages.pool.tsv'), docs.filter((d) => d.id !== missing).map((d) => `${d.id}\t${d.text.replace(/\s+/g, ' ')}`).join('\n') + '\n');
  writeFileSync(join(dl, 'topics.dl19-passage.judged43.tsv'), queries.map((q) => `${q.id}\t${q.text}`).join('\n') + '\n');
  const qrels = await readQrels(join(cran, 'qrels', 'test.tsv'));
  const lines: string[] = [];
  for (const q of queries) for (const [d, g] of qrels.get(q.id) ?? []) lines.push(`${q.id} 0 ${d} ${g * 2}`); // grades 0 / 2
  writeFileSync(join(dl, '2019qrels-pass.txt'), lines.join('\n') + '\n');
  const run: string[] = [];
  for (const [q, hits] of bm25) hits.forEach((h, i) => run.push(`${q} Q0 ${h.docid} ${i + 1} ${h.score} bm25`));
  writeFileSync(join(dl, 'rank_llm', 'retrieve_results', 'BM25', 'trec_results_dl19.txt'), run.join('\n') + '\n');
  return data;
}

test('BM25 alone: Cranfield matches the quickstart, absent collections are skipped with a reason', async () => {
  const data = await dataFolder(false);
  const stages: string[] = [];
  const r = await runEvalSuite({ data, onStage: (m) => stages.push(m) });
  assert.deepEqual(r.systems, ['BM25']);
  assert.deepEqual(r.collections.map((c) => c.id), ['cranfield']);
  const c = r.collections[0]!;
  assert.equal(c.numDocs, 1400);
  assert.equal(c.numQueries, 225);
  assert.equal(c.scores[0]!.ndcg10.toFixed(4), '0.3654');
  assert.equal(r.average.BM25!.ndcg10, c.scores[0]!.ndcg10);
  assert.deepEqual(r.skipped.map((s) => s.id), ['scifact', 'med', 'dl19', 'dl20']);
  assert.match(r.skipped[0]!.reason, /scifact[\\/]corpus\.jsonl not found/);
  assert.ok(stages.some((s) => /skipping MED/.test(s)));
  const table = formatEvalSuite(r);
  assert.match(table, /^nDCG@10\s+docs\s+queries\s+BM25\n/);
  assert.match(table, /Cranfield\s+1400\s+225\s+0\.3654/);
  assert.match(table, /average \(1\)\s+0\.3654/);
  assert.match(table, /\nR@100\s+docs\s+queries\s+BM25\n/);
  assert.equal(Object.keys(c.scores[0]!.perQuery).length, 225);
  const mean = Object.values(c.scores[0]!.perQuery).reduce((a, b) => a + b, 0) / 225;
  assert.ok(Math.abs(mean - c.scores[0]!.ndcg10) < 1e-12, 'the per-query values average to the mean');
  assert.match(table, /skipped SciFact test: /);
});

test('re-ranking keeps each query to its candidates; unscored candidates keep first-stage order', async () => {
  const data = await dataFolder(true);
  const qrels = await readQrels(join(data, 'trec-dl-2019', '2019qrels-pass.txt'));
  // An oracle that scores every document by its grade: re-ranking can only improve on BM25's order.
  const oracle: SuiteSystem = {
    name: 'oracle',
    async prepare(docs) {
      return {
        async search(queries, k) {
          assert.ok(k >= docs.length, 'a re-ranking system is asked for every candidate');
          return new Map(queries.map((q) => [q.id, docs.map((d) => ({ docid: d.id, score: qrels.get(q.id)?.get(d.id) ?? 0 }))
            .filter((h) => h.score > 0).sort((a, b) => b.score - a.score || (a.docid < b.docid ? -1 : 1))]));
        },
      };
    },
  };
  // A system that ranks nothing: every candidate keeps its BM25 order, so it scores exactly as BM25.
  const nothing: SuiteSystem = { name: 'nothing', async prepare() { return { search: async (queries) => new Map(queries.map((q) => [q.id, []])) }; } };
  const r = await runEvalSuite({ data, collections: ['dl19'], systems: [oracle, nothing], hybrid: true });
  const c = r.collections[0]!;
  assert.equal(c.kind, 'rerank');
  assert.equal(c.numQueries, 40);
  assert.ok(c.candidatesWithoutText! >= 1, 'the passage left out of the pool is counted once per query that retrieved it');
  const by = Object.fromEntries(c.scores.map((s) => [s.system, s]));
  assert.deepEqual(Object.keys(by), ['BM25', 'oracle', 'nothing', 'BM25+oracle', 'BM25+nothing']);
  assert.ok(by.BM25!.ndcg10 > 0.2 && by.BM25!.ndcg10 < 0.6, `BM25 ${by.BM25!.ndcg10}`);
  assert.ok(by.oracle!.ndcg10 > by.BM25!.ndcg10 + 0.2, `oracle ${by.oracle!.ndcg10}`);
  assert.equal(by.nothing!.ndcg10, by.BM25!.ndcg10);
  // Every row re-orders one candidate list, so recall at 100 is the same everywhere (grade >= 2 counts).
  for (const s of c.scores) assert.equal(s.recall100, by.BM25!.recall100);
  assert.ok(by.BM25!.recall100 > 0.3);
  assert.ok(by['BM25+oracle']!.ndcg10 > by.BM25!.ndcg10);
});

test('a system fused with BM25 equal to BM25 itself scores as BM25; bad options are usage errors', async () => {
  const data = await dataFolder(false);
  const again = { ...bm25QuickstartSystem(), name: 'again' };
  const r = await runEvalSuite({ data, systems: [again], hybrid: { name: 'fused' } });
  const s = r.collections[0]!.scores;
  assert.deepEqual(s.map((x) => x.system), ['BM25', 'again', 'fused']);
  assert.equal(s[1]!.ndcg10, s[0]!.ndcg10);
  assert.equal(s[2]!.ndcg10.toFixed(6), s[0]!.ndcg10.toFixed(6));
  await assert.rejects(runEvalSuite({ data, collections: ['nope'] }), (e: unknown) => e instanceof LionError && /unknown collection 'nope'/.test((e as Error).message));
  await assert.rejects(runEvalSuite({ data, bm25: false }), /nothing to evaluate/);
});

async function lion(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  const log = console.log;
  let err = '', out = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  console.log = (...a: unknown[]) => { out += `${a.join(' ')}\n`; };
  try { return { code: await main(args), out, err }; } finally { process.stderr.write = write; console.log = log; }
}

test('lion eval-suite with the shipped sparse model: table, JSON, paradigm read from the model', async () => {
  const data = await dataFolder(false);
  const json = join(tempDir(), 'suite.json');
  const model = join(repoRoot, 'models', 'lion-demo-sp');
  const r = await lion(['eval-suite', '--model', model, '--data', data, '--hybrid', '--doc-max-length', '32', '--json', json]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /lion-demo-sp: sparse, documents cut at 32 tokens/);
  assert.match(r.out, /nDCG@10\s+docs\s+queries\s+BM25\s+lion-demo-sp\s+BM25\+lion-demo-sp\n/);
  const j = JSON.parse(readFileSync(json, 'utf8')) as { systems: string[]; collections: { scores: { ndcg10: number }[] }[]; skipped: unknown[] };
  assert.deepEqual(j.systems, ['BM25', 'lion-demo-sp', 'BM25+lion-demo-sp']);
  assert.equal(j.collections.length, 1);
  assert.equal(j.skipped.length, 4);
  for (const s of j.collections[0]!.scores) assert.ok(s.ndcg10 > 0 && s.ndcg10 < 1);
  const bad = await lion(['eval-suite', '--model', model, '--data', data, '--weight', '1']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--weight takes two values/);
  const tuned = join(tempDir(), 'w.json');
  writeFileSync(tuned, JSON.stringify({ method: 'sum', norm: 'zscore', weights: [1, 0] }));
  const w = await lion(['eval-suite', '--model', model, '--data', data, '--hybrid', '--weights-from', tuned, '--no-bm25', '--doc-max-length', '16', '--json', json]);
  assert.equal(w.code, 0, w.err);
  const jw = JSON.parse(readFileSync(json, 'utf8')) as { systems: string[]; collections: { scores: { ndcg10: number }[] }[] };
  assert.deepEqual(jw.systems, ['lion-demo-sp', 'BM25+lion-demo-sp']);
  assert.equal(jw.collections[0]!.scores[1]!.ndcg10.toFixed(4), '0.3654', 'weights 1, 0 keep the BM25 ranking');
  writeFileSync(tuned, JSON.stringify({ method: 'sum', weights: [1] }));
  const badW = await lion(['eval-suite', '--model', model, '--data', data, '--hybrid', '--weights-from', tuned]);
  assert.equal(badW.code, 2);
  assert.match(badW.err, /w\.json.*lion fuse --tune|lion fuse --tune.*w\.json/s);
  const noParadigm = tempDir();
  cpSync(model, noParadigm, { recursive: true });
  writeFileSync(join(noParadigm, 'training_args.json'), '{}');
  const np = await lion(['eval-suite', '--model', noParadigm, '--data', data]);
  assert.notEqual(np.code, 0);
  assert.match(np.err, /records no paradigm/);
});
