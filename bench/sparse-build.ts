/**
 * The index build of bench:sparse, run as its own process so that its peak resident memory is its own:
 * `node dist/bench/sparse-build.js <docs.lsv> <out.lidx> <dtype>` builds with graph-bisection reordering
 * through the same streamed path as `lion index --kind sparse --reorder bp` and writes `<out>.build.json`
 * (wall and CPU seconds, peak resident bytes, the build's own step times).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildSparseIndex } from '../src/index/inverted/build.js';
import type { WeightDtype } from '../src/index/inverted/format.js';

async function main(): Promise<void> {
  const [src, out, dtype] = process.argv.slice(2) as [string, string, WeightDtype];
  const load0 = loadavg();
  const t0 = performance.now();
  const ix = await buildSparseIndex([src], out, { dtype, reorder: 'bp' });
  const ru = process.resourceUsage();
  const info = {
    documents: ix.numDocs, postings: ix.numPostings, dtype, wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: (ru.userCPUTime + ru.systemCPUTime) / 1e6, peakRssBytes: ru.maxRSS * 1024, steps: ix.meta.buildSeconds,
    threads: process.env.LION_THREADS ?? 'all', loadAverage: { start: load0, end: loadavg() },
  };
  writeFileSync(`${out}.build.json`, `${JSON.stringify(info, null, 2)}\n`);
  console.log(JSON.stringify(info));
}

void main();
