/**
 * Encoding benchmark (issue 3, deliverable 5): documents per second at 128 tokens for the sparse and the dense
 * head on the reference model (bidirectional Llama, 4 layers, d = 256, 4 heads, SwiGLU 688, V = 32,000),
 * Lion's `encodeTokens` (src/encoders/encode.ts: trunk in inference mode, fused sparse head or mean pooling,
 * sparse rows turned into SparseVecs) against PyTorch no-grad inference (scripts/bench_torch_step.py encode):
 * the sparse head literal (materialised logits) and frugal (chunked over the vocabulary), and the dense head.
 *
 * BENCH_DOCS (256) documents in batches of BENCH_BATCH (64), BENCH_WARMUP (1) unmeasured pass, BENCH_PASSES (3)
 * measured; medians. Each configuration runs in its own process (LION_THREADS / torch threads = 1 and 2,
 * BENCH_THREADS). Targets at the same thread count: sparse ≥ 2× the frugal PyTorch encoder, dense ≥ 3× PyTorch.
 * Run: npm run bench:encode (writes bench/results/encode.json).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { encodeTokens } from '../src/encoders/encode.js';
import {
  benchEnv, buildModel, field, getKernels, host, kernelTable, resetTimer, median, peakRssBytes, randomSeqs, ratio, REF, round, runAnchor, runLionChild,
  shown, timedKernels, writeResult, type ChildResult,
} from './step-common.js';

const DOCS = Number(process.env.BENCH_DOCS ?? 256);
const BATCH = Number(process.env.BENCH_BATCH ?? 64);
const PASSES = Number(process.env.BENCH_PASSES ?? 3);
const { warmup: WARMUP, threads: THREADS } = benchEnv;
const self = fileURLToPath(import.meta.url);

function worker(paradigm: 'sparse' | 'dense'): void {
  const t = timedKernels(getKernels());
  const model = buildModel('none', t.kernels, paradigm === 'sparse');
  const docs = randomSeqs(DOCS, REF.Td, REF.V, 7);
  const opts = { paradigm, maxLength: REF.Td, maxBatch: BATCH, maxTokens: BATCH * REF.Td };
  const seconds: number[] = [], cpuSeconds: number[] = [];
  let nnz = 0;
  for (let i = 0; i < WARMUP + PASSES; i++) {
    if (i === WARMUP) { resetTimer(t); }
    const t0 = performance.now(), c0 = process.cpuUsage();
    nnz = 0;
    for (let b0 = 0; b0 < DOCS; b0 += BATCH) {
      const reps = encodeTokens(model, docs.slice(b0, b0 + BATCH), 0, opts);
      for (const r of reps) nnz += r instanceof Float32Array ? r.length : r.terms.length;
    }
    const s = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
    if (i < WARMUP) continue;
    seconds.push(s);
    cpuSeconds.push((c.user + c.system) / 1e6);
  }
  process.stdout.write(`${JSON.stringify({
    paradigm, threads: getKernels().threads, docs: DOCS, batch: BATCH, seconds, median: median(seconds), docsPerSec: DOCS / median(seconds),
    cpuSeconds, cpuMedian: median(cpuSeconds), loadavg: loadavg(), peakRssBytes: peakRssBytes(), nnzPerDoc: nnz / DOCS,
    kernelsMsPerPass: kernelTable(t, PASSES),
  })}\n`);
}

const dps = (r: ChildResult): number | null => field(r, 'docsPerSec');
const cpu = (r: ChildResult): number | null => field(r, 'cpuMedian');
const show = shown;

function driver(): void {
  const started = new Date().toISOString();
  const args = ['--docs', String(DOCS), '--batch', String(BATCH), '--steps', String(PASSES), '--warmup', String(WARMUP)];
  const rows: Record<string, unknown>[] = [];
  for (const threads of THREADS) {
    const lionSparse = runLionChild(self, ['sparse'], threads);
    const lionDense = runLionChild(self, ['dense'], threads);
    const frugal = runAnchor(['encode', '--head', 'frugal', ...args], threads);
    const literal = runAnchor(['encode', '--head', 'literal', ...args], threads);
    const dense = runAnchor(['encode', '--head', 'dense', ...args], threads);
    const row = {
      threads,
      lionSparse: show(lionSparse), lionDense: show(lionDense),
      anchorSparseFrugal: show(frugal), anchorSparseLiteral: show(literal), anchorDense: show(dense),
      docsPerSec: {
        lionSparse: dps(lionSparse) && round(dps(lionSparse)!, 1), lionDense: dps(lionDense) && round(dps(lionDense)!, 1),
        torchSparseFrugal: dps(frugal) && round(dps(frugal)!, 1), torchSparseLiteral: dps(literal) && round(dps(literal)!, 1),
        torchDense: dps(dense) && round(dps(dense)!, 1),
      },
      sparseVsFrugal: ratio(dps(lionSparse), dps(frugal)),
      sparseVsLiteral: ratio(dps(lionSparse), dps(literal)),
      denseVsTorch: ratio(dps(lionDense), dps(dense)),
      cpuTimeRatio: { sparseVsFrugal: ratio(cpu(frugal), cpu(lionSparse)), sparseVsLiteral: ratio(cpu(literal), cpu(lionSparse)), denseVsTorch: ratio(cpu(dense), cpu(lionDense)) },
      targetsMet: {
        sparse2xFrugal: dps(lionSparse) && dps(frugal) ? dps(lionSparse)! / dps(frugal)! >= 2 : null,
        dense3xTorch: dps(lionDense) && dps(dense) ? dps(lionDense)! / dps(dense)! >= 3 : null,
      },
      commands: { lionSparse: lionSparse.command, lionDense: lionDense.command, frugal: frugal.command, literal: literal.command, dense: dense.command },
    };
    rows.push(row);
    console.log(`threads ${threads}: docs/s ${JSON.stringify(row.docsPerSec)}; sparse ×${row.sparseVsFrugal} frugal (×${row.sparseVsLiteral} literal), dense ×${row.denseVsTorch}; CPU-time ratios ${JSON.stringify(row.cpuTimeRatio)}`);
    for (const r of [lionSparse, lionDense, frugal, literal, dense]) if (!r.ok) console.log(`  ! ${r.error}`);
  }
  const path = writeResult('encode', {
    benchmark: 'encode', command: 'npm run bench:encode', started, finished: new Date().toISOString(), host: host(),
    configuration: { ...REF, docs: DOCS, tokensPerDoc: REF.Td, batch: BATCH, lion: 'encodeTokens (SparseVec / Float32Array per document)', anchor: 'torch.no_grad(), model.eval(); dense (B, V) or (B, C) tensors' },
    runs: { warmup: WARMUP, measured: PASSES, statistic: 'median' },
    targets: { sparseVsFrugal: 2, denseVsTorch: 3 },
    results: rows,
  });
  console.log(`wrote ${path}`);
}

const w = process.argv.indexOf('--worker');
if (w >= 0) worker(process.argv[w + 1] === 'dense' ? 'dense' : 'sparse');
else driver();
