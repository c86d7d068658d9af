/**
 * BM25 benchmark: accuracy against Pyserini's published BM25 (flat) and speed against MiniSearch, an npm
 * full-text engine with BM25 ranking, on the same documents in the same process.
 *
 * Accuracy: SciFact test (BEIR mode: docid == qid dropped, mean over queries in run and qrels; depth 1000 as
 * Pyserini's BEIR runs), nDCG@10 must land in [0.6689, 0.6889] (Pyserini BM25 flat 0.6789). Also Cranfield and
 * MED (trec_eval semantics: their query and document ids share one number space, so BEIR mode would drop
 * real documents), and the TREC DL 2019/2020 pooled mini-corpora (a proxy, not comparable to full-collection
 * numbers). Lucene one-byte lengths (the default) and exact lengths are both reported.
 *
 * Speed: index build (analysis included, documents already in memory) and queries per second (k = 1000),
 * ours vs MiniSearch 7 configured with the same analyzer and plain BM25 (k = 0.9, b = 0.4, d = 0); medians of
 * several runs after a warm-up; ratios > 1 mean Lion is faster. Writes bench/results/bm25.json.
 *
 * Run: npm run bench:bm25   (LION_SHARED=/path/to/shared to point at the data; BENCH_RUNS=n for more runs)
 */
import { existsSync, mkdirSync, writeFileSync, statSync, unlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import MiniSearch from 'minisearch';
import { createEnglishAnalyzer } from '../src/bm25/analyzer.js';
import { buildBm25Index } from '../src/bm25/build.js';
import { readBm25Index, writeBm25Index } from '../src/bm25/format.js';
import { createBm25Searcher, searchBm25 } from '../src/bm25/search.js';
import { evaluate } from '../src/eval/evaluate.js';
import { collect, docText, readCorpus, readQueries } from '../src/io/corpus.js';
import { readQrels } from '../src/io/trec.js';
import type { Hit, Qrels, Run, TextRecord } from '../src/types.js';
import { median } from './stats.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = process.env.LION_SHARED ?? resolve(repoRoot, '..', 'shared');
const data = join(shared, 'data');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const K = 1000;

interface Dataset {
  name: string;
  corpus: string;
  queries: string;
  qrels: string;
  beir: boolean;
  reference?: { ndcg10: number; source: string; bar?: [number, number] };
  note?: string;
}

const DATASETS: Dataset[] = [
  {
    name: 'scifact', corpus: join(data, 'scifact/corpus.jsonl'), queries: join(data, 'scifact/queries.jsonl'),
    qrels: join(data, 'scifact/qrels/test.tsv'), beir: true,
    reference: { ndcg10: 0.6789, source: 'Pyserini 2CR BM25 flat (beir.yaml)', bar: [0.6689, 0.6889] },
  },
  { name: 'cranfield', corpus: join(data, 'cranfield/beir/corpus.jsonl'), queries: join(data, 'cranfield/beir/queries.jsonl'), qrels: join(data, 'cranfield/beir/qrels/test.tsv'), beir: false },
  { name: 'med', corpus: join(data, 'med/beir/corpus.jsonl'), queries: join(data, 'med/beir/queries.jsonl'), qrels: join(data, 'med/beir/qrels/test.tsv'), beir: false },
  {
    name: 'dl19-pool', corpus: join(data, 'trec-dl-2019/passages.pool.tsv'), queries: join(data, 'trec-dl-2019/topics.dl19-passage.judged43.tsv'),
    qrels: join(data, 'trec-dl-2019/2019qrels-pass.txt'), beir: false,
    note: 'pooled mini-corpus (14,581 passages retrieved by six systems); not comparable to full-collection BM25 (0.5058)',
  },
  {
    name: 'dl20-pool', corpus: join(data, 'trec-dl-2020/passages.pool.tsv'), queries: join(data, 'trec-dl-2020/msmarco-test2020-queries.tsv'),
    qrels: join(data, 'trec-dl-2020/2020qrels-pass.txt'), beir: false,
    note: 'pooled mini-corpus (15,495 passages); not comparable to full-collection BM25 (0.4796)',
  },
];

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const r3 = (x: number): number => Math.round(x * 1e3) / 1e3;

function measures(qrels: Qrels, run: Run, beir: boolean): Record<string, number> {
  const m = evaluate(qrels, run, { measures: ['ndcg_cut.10', 'recall.100,1000', 'map'], beir }).mean;
  const mrr = evaluate(qrels, run, { measures: ['recip_rank'], maxDocs: 10, beir }).mean;
  return { ndcg10: r4(m['ndcg_cut_10']!), mrr10: r4(mrr['recip_rank']!), recall100: r4(m['recall_100']!), recall1000: r4(m['recall_1000']!), map: r4(m['map']!) };
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

async function timeItAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** MiniSearch with our analyzer and plain BM25 (d = 0 turns its BM25+ into BM25). */
function miniSearchIndex(docs: readonly TextRecord[]): MiniSearch<TextRecord> {
  const analyze = createEnglishAnalyzer();
  const ms = new MiniSearch<TextRecord>({
    fields: ['text'],
    idField: 'id',
    extractField: (doc: TextRecord, field: string) => (field === 'id' ? doc.id : docText(doc)),
    tokenize: (text: string) => analyze(text),
    processTerm: (t: string) => t,
    searchOptions: { bm25: { k: 0.9, b: 0.4, d: 0 } },
  });
  ms.addAll(docs);
  return ms;
}

function miniSearchRun(ms: MiniSearch<TextRecord>, queries: readonly TextRecord[]): Run {
  const run: Run = new Map();
  for (const q of queries) {
    const res = ms.search(q.text);
    const hits: Hit[] = [];
    for (let i = 0; i < res.length && i < K; i++) hits.push({ docid: String(res[i]!.id), score: res[i]!.score });
    run.set(q.id, hits);
  }
  return run;
}

async function accuracy(ds: Dataset) {
  const docs = await collect(readCorpus(ds.corpus));
  const qrels = await readQrels(ds.qrels);
  const queries = (await collect(readQueries(ds.queries))).filter((q) => qrels.has(q.id));
  const buildSeconds = await timeItAsync(async () => { await buildBm25Index(docs); });
  const index = await buildBm25Index(docs);
  const file = join(tmpdir(), `lion-bench-${process.pid}-${ds.name}.lbm25`);
  await writeBm25Index(file, index);
  let loaded = await readBm25Index(file);
  const loadSeconds = await timeItAsync(async () => { loaded = await readBm25Index(file); });
  const fileBytes = statSync(file).size;
  unlinkSync(file);
  const out: Record<string, unknown> = {
    dataset: ds.name, documents: docs.length, queries: queries.length, terms: index.numTerms, postings: index.postingDocs.length,
    indexFileBytes: fileBytes, loadSeconds: r3(loadSeconds), beirMode: ds.beir, depth: K, buildSeconds: r3(buildSeconds),
  };
  for (const exactLengths of [false, true]) {
    const s = createBm25Searcher(loaded, { exactLengths });
    const run: Run = new Map(queries.map((q) => [q.id, searchBm25(s, q.text, K)]));
    out[exactLengths ? 'exactLengths' : 'luceneLengths'] = measures(qrels, run, ds.beir);
  }
  if (ds.reference) out.reference = ds.reference;
  if (ds.note) out.note = ds.note;
  return { out, docs, queries, qrels };
}

async function speed(name: string, docs: readonly TextRecord[], queries: readonly TextRecord[], qrels: Qrels, beir: boolean) {
  // Warm-up (JIT, stem caches on both sides are per analyzer instance, built inside each timed build).
  await buildBm25Index(docs);
  miniSearchIndex(docs);
  const oursBuild: number[] = [];
  const anchorBuild: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    oursBuild.push(await timeItAsync(() => buildBm25Index(docs)));
    anchorBuild.push(timeIt(() => miniSearchIndex(docs)));
  }
  const s = createBm25Searcher(await buildBm25Index(docs));
  const ms = miniSearchIndex(docs);
  // Each timed sample passes over the query set enough times to search about 2000 queries.
  const reps = Math.max(1, Math.ceil(2000 / queries.length));
  const ours = (): void => { for (let i = 0; i < reps; i++) for (const q of queries) searchBm25(s, q.text, K); };
  const anchor = (): void => { for (let i = 0; i < reps; i++) miniSearchRun(ms, queries); };
  ours();
  anchor();
  const oursSearch: number[] = [];
  const anchorSearch: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    oursSearch.push(timeIt(ours));
    anchorSearch.push(timeIt(anchor));
  }
  const ob = median(oursBuild);
  const ab = median(anchorBuild);
  const oq = (reps * queries.length) / median(oursSearch);
  const aq = (reps * queries.length) / median(anchorSearch);
  return {
    dataset: name, documents: docs.length, queries: queries.length, queriesPerSample: reps * queries.length, runs: RUNS, k: K,
    anchor: 'minisearch@7 (same analyzer, BM25 k=0.9 b=0.4 d=0)',
    buildSeconds: { lion: r3(ob), anchor: r3(ab), speedup: r3(ab / ob) },
    queriesPerSecond: { lion: Math.round(oq), anchor: Math.round(aq), speedup: r3(oq / aq) },
    anchorNdcg10: measures(qrels, miniSearchRun(ms, queries), beir).ndcg10,
    samples: { lionBuild: oursBuild.map(r3), anchorBuild: anchorBuild.map(r3), lionSearch: oursSearch.map(r3), anchorSearch: anchorSearch.map(r3) },
  };
}

async function main(): Promise<number> {
  if (!existsSync(data)) {
    console.error(`bench:bm25: ${data} is absent; the benchmark needs the shared collections (set LION_SHARED).`);
    return 2;
  }
  const results: Record<string, unknown>[] = [];
  const speeds: Record<string, unknown>[] = [];
  let scifactNdcg: number | undefined;
  for (const ds of DATASETS) {
    if (![ds.corpus, ds.queries, ds.qrels].every((p) => existsSync(p))) {
      console.log(`${ds.name}: skipped (files missing)`);
      continue;
    }
    const { out, docs, queries, qrels } = await accuracy(ds);
    results.push(out);
    const l = out.luceneLengths as Record<string, number>;
    const e = out.exactLengths as Record<string, number>;
    console.log(`${ds.name.padEnd(10)} docs ${String(docs.length).padStart(6)}  queries ${String(queries.length).padStart(4)}  nDCG@10 ${l.ndcg10!.toFixed(4)} (exact lengths ${e.ndcg10!.toFixed(4)})  R@100 ${l.recall100!.toFixed(4)}  R@1000 ${l.recall1000!.toFixed(4)}${ds.reference ? `  reference ${ds.reference.ndcg10}` : ''}`);
    if (ds.name === 'scifact') scifactNdcg = l.ndcg10;
    if (ds.name === 'scifact' || ds.name === 'dl19-pool') {
      const sp = await speed(ds.name, docs, queries, qrels, ds.beir);
      speeds.push(sp);
      console.log(`  speed (${sp.runs} runs, medians): build ${sp.buildSeconds.lion}s vs minisearch ${sp.buildSeconds.anchor}s (x${sp.buildSeconds.speedup}); ` +
        `${sp.queriesPerSecond.lion} q/s vs ${sp.queriesPerSecond.anchor} q/s (x${sp.queriesPerSecond.speedup}); minisearch nDCG@10 ${sp.anchorNdcg10}`);
    }
  }
  const bar: [number, number] = [0.6689, 0.6889];
  const pass = scifactNdcg !== undefined && scifactNdcg >= bar[0] && scifactNdcg <= bar[1];
  const report = {
    benchmark: 'bm25',
    command: 'npm run bench:bm25',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg().map(r3) },
    settings: { k1: 0.9, b: 0.4, analyzer: 'lucene-english (StandardTokenizer, possessive, lowercase, 33 stop words, Porter)', docText: "title + ' ' + text", depth: K },
    accuracyBar: { dataset: 'scifact', measure: 'ndcg_cut.10 (BEIR mode)', range: bar, value: scifactNdcg ?? null, pass },
    accuracy: results,
    speed: speeds,
  };
  const outFile = join(repoRoot, 'bench', 'results', 'bm25.json');
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`SciFact nDCG@10 ${scifactNdcg?.toFixed(4)} ${pass ? 'is' : 'is NOT'} within [${bar[0]}, ${bar[1]}]; wrote ${outFile}`);
  return pass ? 0 : 1;
}

process.exitCode = await main();
