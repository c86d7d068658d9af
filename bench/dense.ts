/**
 * bench:dense — exact inner-product search over seeded vectors with a realistic spectrum (a random rotation of
 * components whose scale decays as i^-0.5, plus a shared mean direction, as LLM embeddings have), queries
 * drawn near documents. Anchor in the same run: usearch's exact search (`exactSearch`, same thread count).
 * Reports throughput (queries/s, medians over REPEATS) of batched exact search for float32, bf16 and int8
 * storage with the recall@10 of each against float32, and usearch HNSW build time, latency and recall@10.
 * Writes bench/results/dense.json. Reproduce: `npm run bench:dense` (LION_BENCH_DENSE_DOCS=n to resize).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { exactSearch, MetricKind } from 'usearch';
import { Rng } from '../src/util/rng.js';
import { type DenseDtype, searchDense, vectorIndexFromMatrix, writeVectorIndex } from '../src/index/vector/flat.js';
import { buildHnsw, loadHnsw, saveHnsw, searchHnsw } from '../src/index/vector/hnsw.js';
import type { SearchResult } from '../src/index/topk.js';
import { median } from './stats.js';

const N = Number(process.env.LION_BENCH_DENSE_DOCS ?? 100_000);
const Q = Number(process.env.LION_BENCH_DENSE_QUERIES ?? 1000);
const D = 768;
const K = 10;
const REPEATS = 3;
const threads = availableParallelism();
const round = (x: number, d = 3) => Number(x.toFixed(d));

/** Vectors with a decaying spectrum: x = mean + sum_i z_i * i^-0.5 * e_i, then mixed by random sign flips and a permutation. */
function vectors(n: number, r: Rng, mean: Float32Array, scale: Float32Array, perm: Uint32Array, sign: Float32Array, near?: Float32Array): Float32Array {
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < D; c++) {
      const base = near ? near[(i % (near.length / D)) * D + perm[c]!]! * 0.8 : mean[perm[c]!]!;
      out[i * D + perm[c]!] = base + sign[c]! * scale[c]! * r.normal() * (near ? 0.6 : 1);
    }
  }
  return out;
}

function recall(ref: SearchResult, got: SearchResult, nq: number): number {
  let s = 0;
  for (let q = 0; q < nq; q++) {
    const want = new Set(Array.from(ref.docs.subarray(q * K, q * K + ref.counts[q]!)));
    let h = 0;
    for (let i = 0; i < got.counts[q]!; i++) if (want.has(got.docs[q * K + i]!)) h++;
    s += want.size ? h / want.size : 1;
  }
  return s / nq;
}

function main(): void {
  const loadAtStart = loadavg()[0];
  console.log(`bench:dense: ${N} x ${D} documents, ${Q} queries, top-${K}, ${threads} threads`);
  const r = new Rng(7);
  const mean = Float32Array.from({ length: D }, () => r.normal() * 0.05);
  const scale = Float32Array.from({ length: D }, (_, i) => 0.2 / Math.sqrt(i + 1));
  const perm = Uint32Array.from({ length: D }, (_, i) => i);
  for (let i = D - 1; i > 0; i--) { const j = r.int(i + 1); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
  const sign = Float32Array.from({ length: D }, () => (r.float() < 0.5 ? -1 : 1));
  const docs = vectors(N, r, mean, scale, perm, sign);
  const queries = vectors(Q, r, mean, scale, perm, sign, docs.subarray(0, Q * D));
  const ids = Array.from({ length: N }, (_, i) => `d${i}`);
  const m = { data: docs, rows: N, dim: D, ids };

  // Anchor: usearch exact search, same threads.
  const anchorS: number[] = [], anchorCpu: number[] = [];
  let anchorRes: ReturnType<typeof exactSearch> | undefined;
  for (let rep = 0; rep < REPEATS; rep++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    anchorRes = exactSearch(docs, queries, D, K, MetricKind.IP, threads);
    const c = process.cpuUsage(c0);
    anchorS.push((performance.now() - t0) / 1000);
    anchorCpu.push((c.user + c.system) / 1e6);
  }
  const anchorQps = Q / median(anchorS);
  const anchorQpsPerCpuSecond = Q / median(anchorCpu);
  console.log(`  usearch exactSearch: ${anchorQps.toFixed(0)} q/s (median of ${REPEATS})`);

  const results: Record<string, unknown> = {};
  let f32Res: SearchResult | undefined;
  for (const dtype of ['f32', 'bf16', 'i8'] as DenseDtype[]) {
    const ix = vectorIndexFromMatrix(m, dtype);
    const times: number[] = [], cpu: number[] = [];
    let res!: SearchResult;
    for (let rep = 0; rep < REPEATS; rep++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      res = searchDense(ix, queries, { k: K, threads });
      const c = process.cpuUsage(c0);
      times.push((performance.now() - t0) / 1000);
      cpu.push((c.user + c.system) / 1e6);
    }
    if (dtype === 'f32') f32Res = res;
    const qps = Q / median(times);
    const row = { queriesPerSecond: round(qps, 1), gflops: round((2 * N * D * Q) / median(times) / 1e9, 1), gflopsPerCpuSecond: round((2 * N * D * Q) / median(cpu) / 1e9, 1), ratioVsUsearchExact: round(qps / anchorQps, 2), ratioPerCpuSecond: round(Q / median(cpu) / anchorQpsPerCpuSecond, 2), recallAt10VsF32: round(recall(f32Res!, res, Q), 4), bytesPerVector: ix.data.byteLength / N + (ix.rowScale.byteLength / N) };
    results[`exact-${dtype}`] = row;
    console.log(`  lion exact ${dtype}: ${JSON.stringify(row)}`);
  }
  // usearch's exact results agree with ours (sanity: same top-10 sets).
  let agree = 0;
  for (let q = 0; q < Q; q++) {
    const s = new Set(Array.from(f32Res!.docs.subarray(q * K, q * K + K)));
    for (let i = 0; i < K; i++) if (s.has(Number(anchorRes!.keys[q * K + i]!))) agree++;
  }
  const usearchAgreement = agree / (Q * K);

  const ix = vectorIndexFromMatrix(m, 'f32');
  let t0 = performance.now();
  const h = buildHnsw(ix, { threads, connectivity: 16, expansionAdd: 64, expansionSearch: 64 });
  const hnswBuild = (performance.now() - t0) / 1000;
  const graphPath = join(tmpdir(), `lion-bench-dense-${process.pid}.usearch`);
  writeVectorIndex(ix, graphPath.replace(/\.usearch$/, '.lvec')); // the graph is bound to its written index
  saveHnsw(h, graphPath, ix);
  const hnsw: Record<string, unknown> = { connectivity: 16, expansionAdd: 64, buildSeconds: round(hnswBuild, 2) };
  for (const ef of [64, 256]) {
    const g = loadHnsw(graphPath, ix, { expansionSearch: ef });
    const hTimes: number[] = [];
    let hres!: SearchResult;
    for (let rep = 0; rep < REPEATS; rep++) {
      t0 = performance.now();
      hres = searchHnsw(g, queries, K, threads);
      hTimes.push((performance.now() - t0) / 1000);
    }
    // single-thread per-query latency
    const lat: number[] = [];
    for (let q = 0; q < Math.min(Q, 200); q++) { const t = performance.now(); searchHnsw(g, queries.subarray(q * D, (q + 1) * D), K, 1); lat.push(performance.now() - t); }
    hnsw[`expansionSearch=${ef}`] = { queriesPerSecond: round(Q / median(hTimes), 1), latencyMs1ThreadMedian: round(median(lat), 4), recallAt10VsExact: round(recall(f32Res!, hres, Q), 4) };
  }
  for (const f of [graphPath, `${graphPath}.json`, graphPath.replace(/\.usearch$/, '.lvec')]) rmSync(f, { force: true });
  console.log(`  usearch HNSW: ${JSON.stringify(hnsw)}`);
  const out = {
    bench: 'dense', command: 'npm run bench:dense', docs: N, queries: Q, dim: D, k: K, threads, repeats: REPEATS,
    loadAverageAtStart: loadAtStart,
    anchor: { usearchExactQueriesPerSecond: round(anchorQps, 1), usearchExactQueriesPerCpuSecond: round(anchorQpsPerCpuSecond, 1), topTenAgreementWithLion: round(usearchAgreement, 4) },
    results, hnsw, target: 'batched exact >= 5x usearch exact throughput at the same thread count',
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/dense.json', `${JSON.stringify(out, null, 2)}\n`);
  console.log('  wrote bench/results/dense.json');
}

main();
