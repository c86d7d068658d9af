/**
 * bench:sparse-stats — the statistics docs/indexing.md compares against published SPLADE figures: non-zeros per
 * document and query, posting-length distribution, weight skew, for each seeded generator (at
 * LION_BENCH_DOCS documents, default 50,000) and for vectors a Lion encoder wrote (LION_BENCH_LSV_DOCS /
 * LION_BENCH_LSV_QUERIES, `.lsv` shards from `lion encode --format shard`; optional). Pruning each document to
 * its `LION_BENCH_TOPK` (default 128) largest weights, as `lion encode --top-k` does, is reported too.
 * No timing. Writes bench/results/sparse-stats.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readSparseShard } from '../src/io/vectors.js';
import { type Csr, DEFAULT_SPEC, generateSplade } from './gen-splade.js';
import { CONCEPTS_SPEC, generateDocs, generateQueries, stats, TOPICS_SPEC } from './gen-topics.js';

const N = Number(process.env.LION_BENCH_DOCS ?? 50_000);

function readCsr(path: string, topK: number): { csr: Csr; vocab: number } {
  const off: number[] = [0];
  let terms = new Uint32Array(1 << 20), weights = new Float32Array(1 << 20), o = 0, vocab = 0;
  for (const r of readSparseShard(path)) {
    let idx = Array.from({ length: r.vec.terms.length }, (_, i) => i);
    if (topK > 0 && idx.length > topK) idx = idx.sort((a, b) => r.vec.weights[b]! - r.vec.weights[a]! || a - b).slice(0, topK).sort((a, b) => a - b);
    while (o + idx.length > terms.length) {
      const t = new Uint32Array(terms.length * 2); t.set(terms); terms = t;
      const w = new Float32Array(weights.length * 2); w.set(weights); weights = w;
    }
    for (const i of idx) { terms[o] = r.vec.terms[i]!; weights[o] = r.vec.weights[i]!; if (terms[o]! + 1 > vocab) vocab = terms[o]! + 1; o++; }
    off.push(o);
  }
  return { csr: { off: Uint32Array.from(off), terms: terms.slice(0, o), weights: weights.slice(0, o) }, vocab };
}

function main(): void {
  const out: Record<string, unknown> = { bench: 'sparse-stats', command: 'npm run bench:sparse-stats', documents: N };
  for (const spec of [TOPICS_SPEC, CONCEPTS_SPEC]) {
    const s = { ...spec, docs: N };
    out[spec.kind] = stats(generateDocs(s), generateQueries(s, 200, 2), s.vocab);
    console.log(spec.kind, JSON.stringify(out[spec.kind]));
  }
  const ind = generateSplade({ ...DEFAULT_SPEC, docs: N, queries: 200 });
  out.independent = stats(ind.docs, ind.queries, DEFAULT_SPEC.vocab);
  console.log('independent', JSON.stringify(out.independent));
  const d = process.env.LION_BENCH_LSV_DOCS, q = process.env.LION_BENCH_LSV_QUERIES;
  if (d && q) {
    const topK = Number(process.env.LION_BENCH_TOPK ?? 128);
    const qs = readCsr(q, 0);
    for (const [name, k] of [['lion encoder, all weights', 0], [`lion encoder, top ${topK}`, topK]] as const) {
      const ds = readCsr(d, k);
      out[name] = { source: d, ...stats(ds.csr, qs.csr, Math.max(ds.vocab, qs.vocab)) };
      console.log(name, JSON.stringify(out[name]));
    }
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/sparse-stats.json', `${JSON.stringify(out, null, 2)}\n`);
}

main();
