/**
 * bench:sparse-learned — sparse search on real learned vectors: a collection encoded by a Lion sparse model
 * (`lion encode --paradigm sparse --format shard`), its queries, and (optionally) qrels. Reports the vectors'
 * statistics (the same measures as the generators, bench/gen-topics.ts) and, on one thread, one query per call,
 * every mode against exact search on the same reordered index: ms and CPU ms per query, accuracy@10 and
 * recall@1000, and nDCG@10 with the qrels. Documents keep their `LION_BENCH_TOPK` (default 128) and queries their
 * `LION_BENCH_QTOPK` (default 32) largest weights, as `lion encode --top-k` does, the sparsity of regularised
 * SPLADE vectors (the shipped lexical demo encoder gives ~146 non-zeros per DL passage and ~21 per query).
 *
 * Reproduce (the TREC DL 2019 + 2020 judged pools, 30,005 passages, with the shipped demo model):
 *   cat ../shared/data/trec-dl-2019/passages.pool.tsv ../shared/data/trec-dl-2020/passages.pool.tsv | sort -u -t$'\t' -k1,1 > /tmp/p.tsv
 *   cat ../shared/data/trec-dl-2019/topics.dl19-passage.judged43.tsv ../shared/data/trec-dl-2020/msmarco-test2020-queries.tsv > /tmp/q.tsv
 *   lion encode --paradigm sparse --model models/lion-demo-sp --corpus /tmp/p.tsv --out /tmp/docs.lsv --format shard
 *   lion encode --paradigm sparse --model models/lion-demo-sp --queries /tmp/q.tsv --out /tmp/queries.lsv --format shard
 *   cat ../shared/data/trec-dl-2019/2019qrels-pass.txt ../shared/data/trec-dl-2020/2020qrels-pass.txt > /tmp/qrels.txt
 *   LION_BENCH_DOCS=/tmp/docs.lsv LION_BENCH_QUERIES=/tmp/queries.lsv LION_BENCH_QRELS=/tmp/qrels.txt npm run bench:sparse-learned
 * Writes bench/results/sparse-learned.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { evaluate } from '../src/eval/evaluate.js';
import { invert } from '../src/index/inverted/build.js';
import type { InvertedIndex } from '../src/index/inverted/format.js';
import { type QueryBatch, resolvedSparseSettings, searchSparse, type SparseSearchOptions } from '../src/index/inverted/search.js';
import { toRun } from '../src/index/topk.js';
import { readQrels } from '../src/io/trec.js';
import { readSparseShard } from '../src/io/vectors.js';
import type { Csr } from './gen-splade.js';
import { stats } from './gen-topics.js';
import { agreement, one } from './sparse-compare.js';
import { median } from './stats.js';

const round = (x: number, d = 4) => Number(x.toFixed(d));

function readCsr(path: string, topK = 0): { csr: Csr; ids: string[]; vocab: number } {
  const off: number[] = [0], terms: number[] = [], weights: number[] = [];
  const ids: string[] = [];
  let vocab = 0;
  for (const r of readSparseShard(path)) {
    let t = Array.from(r.vec.terms), w = Array.from(r.vec.weights);
    if (topK > 0 && t.length > topK) {
      const keep = t.map((_, i) => i).sort((a, b) => w[b]! - w[a]! || a - b).slice(0, topK).sort((a, b) => a - b);
      t = keep.map((i) => t[i]!); w = keep.map((i) => w[i]!);
    }
    for (const x of t) if (x + 1 > vocab) vocab = x + 1;
    terms.push(...t); weights.push(...w); off.push(terms.length); ids.push(r.id);
  }
  return { csr: { off: Uint32Array.from(off), terms: Uint32Array.from(terms), weights: Float32Array.from(weights) }, ids, vocab };
}

async function main(): Promise<void> {
  const docsPath = process.env.LION_BENCH_DOCS, queriesPath = process.env.LION_BENCH_QUERIES, qrelsPath = process.env.LION_BENCH_QRELS;
  if (!docsPath || !queriesPath) { console.error('bench:sparse-learned: set LION_BENCH_DOCS and LION_BENCH_QUERIES to .lsv shards written by lion encode (see the header of bench/sparse-learned.ts); no result written'); process.exit(1); }
  const qrels = qrelsPath ? await readQrels(qrelsPath) : undefined;
  const topK = Number(process.env.LION_BENCH_TOPK ?? 128);
  const qTopK = Number(process.env.LION_BENCH_QTOPK ?? 32);
  // The encoding's own record (`lion encode` writes <out>.json beside the vectors): which model made them.
  const sidecar = existsSync(`${docsPath}.json`) ? JSON.parse(readFileSync(`${docsPath}.json`, 'utf8')) as { encoder?: unknown; maxLength?: number; topK?: number } : null;
  const out: Record<string, unknown> = {
    bench: 'sparse-learned', docs: docsPath, queries: queriesPath, qrels: qrelsPath ?? null,
    encoder: sidecar?.encoder ?? null, encodeMaxLength: sidecar?.maxLength ?? null,
    cpu: cpus()[0]?.model, threads: 1,
    kernel: `native/search/sparse.h (scalar accumulation for exact; forward-index rescoring row loop ${process.env.LION_SEARCH_ROWS ?? 'plain'}, cluster and impact candidates ${process.env.LION_SEARCH_GROUP === '1' ? 'one row at a time' : 'four rows at a time'}, blockmax one row at a time)`,
    defaultClusterSetting: resolvedSparseSettings({ mode: 'cluster', k: 10 }),
    loadAverage: { start: loadavg() },
  };
  const qAll = readCsr(queriesPath, qTopK);
  // The statistics of the vectors as encoded are reported; the pruned case (as `lion encode --top-k`) is indexed
  // and searched.
  {
    const { csr: d, vocab: dv } = readCsr(docsPath, 0);
    out['all weights'] = { stats: stats(d, qAll.csr, Math.max(dv, qAll.vocab)) };
    console.log(`all weights: stats ${JSON.stringify(out['all weights'])}`);
  }
  for (const [name, keep] of [[`top ${topK} weights per document`, topK]] as const) {
    const { csr: d, ids, vocab: dv } = readCsr(docsPath, keep);
    const vocab = Math.max(dv, qAll.vocab);
    const st = stats(d, qAll.csr, vocab);
    const t0 = performance.now();
    const ix: InvertedIndex = invert(d.off, d.terms, d.weights, ids, { vocabSize: vocab, reorder: 'bp' });
    const buildS = (performance.now() - t0) / 1000;
    const qb: QueryBatch = { off: qAll.csr.off, terms: qAll.csr.terms, weights: qAll.csr.weights };
    const nq = qb.off.length - 1;
    const rows: Record<string, unknown> = {};
    for (const k of [10, 1000]) {
      const ex = searchSparse(ix, qb, { k, mode: 'exact', threads: 1 });
      const settings: Array<[string, SparseSearchOptions]> = [['exact', { mode: 'exact' }], ['blockmax alpha=1', { mode: 'blockmax', alpha: 1 }], ['blockmax alpha=0.9', { mode: 'blockmax', alpha: 0.9 }],
        ['impact cut=5 lambda=100', { mode: 'impact', cut: 5, lambda: 100 }], ['cluster (defaults)', { mode: 'cluster' }], ['cluster cut=20 gamma=1.5', { mode: 'cluster', cut: 20, gamma: 1.5 }], ['cluster cut=40 gamma=3', { mode: 'cluster', cut: 40, gamma: 3 }]];
      for (const [sname, o] of settings) {
        const res = searchSparse(ix, qb, { ...o, k, threads: 1 });
        const lat: number[] = [], cpu: number[] = [];
        for (let rep = 0; rep < 2; rep++) {
          const c0 = process.cpuUsage(), w0 = performance.now();
          for (let q = 0; q < nq; q++) searchSparse(ix, one(qb, q), { ...o, k, threads: 1 });
          lat.push((performance.now() - w0) / nq); cpu.push(process.cpuUsage(c0).user / 1000 / nq);
        }
        const row: Record<string, unknown> = { ms: round(median(lat)), cpuMs: round(median(cpu)), accuracyAt10: round(agreement(ex, res, 10)), [`recallAt${k}`]: round(agreement(ex, res, k)) };
        if (qrels && k === 10) row.ndcgAt10 = round(evaluate(qrels, toRun(res, qAll.ids, (p) => ix.ids[p]!), { measures: ['ndcg_cut.10'] }).mean.ndcg_cut_10!);
        rows[`k=${k} ${sname}`] = row;
        console.log(`${name} k=${k} ${sname}: ${JSON.stringify(row)}`);
      }
    }
    out[name] = { stats: st, buildSeconds: round(buildS, 1), build: ix.meta.buildSeconds, results: rows };
    console.log(`${name}: stats ${JSON.stringify(st)}`);
  }
  (out.loadAverage as Record<string, unknown>).end = loadavg();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/sparse-learned.json', `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/sparse-learned.json');
}

void main();
