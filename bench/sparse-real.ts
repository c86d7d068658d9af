/**
 * bench:sparse-real — the sparse index end to end on real data, before learned encoders exist: BM25 written as
 * sparse vectors. Each document's vector holds its BM25 term saturation tf·n / (1 + tf·n) (n = Lucene's
 * length normalisation, k1 0.9, b 0.4) and each query's vector holds count × idf, so the dot product is the
 * BM25 score. Vectors go through the real path (binary shard -> `buildSparseIndex` -> `.lidx` -> `searchIndex`)
 * (float32, and 8- and 16-bit impacts) and runs are evaluated with `evaluate` against the qrels, next to the BM25 module's own run (the anchor)
 * on the same collection. Writes bench/results/sparse-real.json. Needs ../shared (SciFact).
 * Reproduce: `npm run bench:sparse-real`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildBm25Index, docIdOf } from '../src/bm25/build.js';
import { createBm25Searcher, queryTerms, searchBm25All } from '../src/bm25/search.js';
import { collect, readCorpus, readQueries } from '../src/io/corpus.js';
import { evaluate } from '../src/eval/evaluate.js';
import { readQrels } from '../src/io/trec.js';
import { SparseShardWriter, writeSparseJsonl } from '../src/io/vectors.js';
import { buildSparseIndex } from '../src/index/inverted/build.js';
import { searchIndex } from '../src/index/search.js';
import type { Run, SparseVec } from '../src/types.js';

const data = process.env.LION_SHARED ? join(process.env.LION_SHARED, 'data') : join('..', 'shared', 'data');
const f = Math.fround;

async function main(): Promise<void> {
  const dir = join(data, 'scifact');
  const work = join(tmpdir(), `lion-bench-sparse-real-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const bm = await buildBm25Index(readCorpus(join(dir, 'corpus.jsonl')));
  const s = createBm25Searcher(bm);
  // Document vectors: invert the BM25 postings into per-document rows (terms ascending).
  const D = bm.numDocs;
  const rows: Array<Array<[number, number]>> = Array.from({ length: D }, () => []);
  for (let t = 0; t < bm.numTerms; t++) {
    for (let p = bm.postingOffsets[t]!; p < bm.postingOffsets[t + 1]!; p++) {
      const d = bm.postingDocs[p]!;
      const x = f(bm.postingTfs[p]! * s.normInv[d]!);
      rows[d]!.push([t, f(x / f(1 + x))]);
    }
  }
  const w = new SparseShardWriter(join(work, 'docs.lsv'), bm.numTerms);
  for (let d = 0; d < D; d++) w.add(docIdOf(bm, d), { terms: Uint32Array.from(rows[d]!, (r) => r[0]), weights: Float32Array.from(rows[d]!, (r) => r[1]) });
  w.close();
  const queries = await collect(readQueries(join(dir, 'queries.jsonl')));
  const qrels = await readQrels(join(dir, 'qrels', 'test.tsv'));
  const testQueries = queries.filter((q) => qrels.has(q.id));
  await writeSparseJsonl(join(work, 'queries.jsonl'), testQueries.map((q) => {
    const qt = queryTerms(s, q.text).sort((a, b) => a.term - b.term);
    const vec: SparseVec = { terms: Uint32Array.from(qt, (x) => x.term), weights: Float32Array.from(qt, (x) => x.weight) };
    return { id: q.id, vec };
  }));
  let t0 = performance.now();
  await buildSparseIndex([join(work, 'docs.lsv')], join(work, 'docs.lidx'), { vocabSize: bm.numTerms });
  const buildS = (performance.now() - t0) / 1000;
  const k = 1000;
  const measures = ['ndcg_cut.10', 'recall.100,1000'];
  const ev = (run: Run) => evaluate(qrels, run, { measures }).mean;
  t0 = performance.now();
  const anchorRun = await searchBm25All(s, testQueries, { k });
  const anchorS = (performance.now() - t0) / 1000;
  const out: Record<string, unknown> = {
    bench: 'sparse-real', command: 'npm run bench:sparse-real', collection: 'SciFact (BEIR), test queries', documents: D, vocabulary: bm.numTerms,
    queries: testQueries.length, k, buildSeconds: Number(buildS.toFixed(3)),
    anchorBm25Module: { seconds: Number(anchorS.toFixed(3)), ...ev(anchorRun) },
  };
  for (const [name, opts] of [['exact', { mode: 'exact' as const }], ['impact cut=5 lambda=100', { mode: 'impact' as const, cut: 5, lambda: 100 }], ['impact cut=10 lambda=1000', { mode: 'impact' as const, cut: 10, lambda: 1000 }], ['blockmax alpha=1', { mode: 'blockmax' as const, alpha: 1 }]] as const) {
    t0 = performance.now();
    const { run, stats } = await searchIndex([join(work, 'docs.lidx')], join(work, 'queries.jsonl'), { k, ...opts });
    out[name] = { seconds: Number(((performance.now() - t0) / 1000).toFixed(3)), meanPostingsVisited: Math.round(stats.meanVisited!), ...ev(run) };
  }
  // Quantised impacts: the same vectors stored as 8- and 16-bit codes, searched exactly.
  for (const dtype of ['u8', 'u16'] as const) {
    await buildSparseIndex([join(work, 'docs.lsv')], join(work, `docs-${dtype}.lidx`), { vocabSize: bm.numTerms, dtype });
    const { run } = await searchIndex([join(work, `docs-${dtype}.lidx`)], join(work, 'queries.jsonl'), { k, mode: 'exact' });
    out[`exact ${dtype} impacts`] = ev(run);
  }
  console.log(JSON.stringify(out, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/sparse-real.json', `${JSON.stringify(out, null, 2)}\n`);
}

void main();
