/**
 * Training-loss benchmark (issue 4, deliverable 7): one CL+KD sparse training step (InfoNCE over every document
 * of the batch plus KL(teacher ‖ student) over each query's own 1 + 7 documents, halved, plus the FLOPS
 * regulariser λq = 0.05, λd = 0.04) and one CL+KD dense step (τ = 0.01, no FLOPS) of the reference
 * configuration of issue 3 (bidirectional Llama, 4 layers, d = 256, 4 heads, SwiGLU 688, V = 32,000;
 * 16 queries × 32 tokens, 128 documents × 128 tokens; full fine-tuning, clip 1.0, AdamW), Lion (the trainer's
 * step: src/train/losses.ts `retrievalLoss` between the encoders' forward and backward) against the same loss
 * written in PyTorch (scripts/bench_torch_step.py train-losses; sparse head frugal, i.e. chunked over the
 * vocabulary; BENCH_LITERAL=1 adds the literal head too).
 *
 * Each configuration in its own process at BENCH_THREADS (default "1,2"); BENCH_WARMUP (1) + BENCH_STEPS (3)
 * steps; medians; the ratio is PyTorch seconds / Lion seconds. Run: npm run bench:train-losses
 * (writes bench/results/train-losses.json).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  adamState, benchEnv, buildModel, field, getKernels, host, kernelTable, resetTimer, lionStep, median, peakRssBytes, ratio, REF, round, runAnchor,
  runLionChild, shown, stepInputs, timedKernels, writeResult, type ChildResult,
} from './step-common.js';

const { steps: STEPS, warmup: WARMUP, threads: THREADS } = benchEnv;
const LITERAL = process.env.BENCH_LITERAL === '1';
const self = fileURLToPath(import.meta.url);
const LAMBDAS: [number, number] = [0.05, 0.04];

function worker(paradigm: 'sparse' | 'dense'): void {
  const t = timedKernels(getKernels());
  const model = buildModel('all', t.kernels, paradigm === 'sparse');
  const adam = adamState(model);
  const { seqs, teacher } = stepInputs();
  const seconds: number[] = [], cpuSeconds: number[] = [];
  const phases: Record<string, number[]> = {}, phasesCpu: Record<string, number[]> = {};
  let loss = NaN;
  for (let i = 0; i < WARMUP + STEPS; i++) {
    if (i === WARMUP) { resetTimer(t); }
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = lionStep(model, adam, paradigm, 'cl+kd', seqs, teacher, paradigm === 'sparse' ? LAMBDAS : [0, 0]);
    const s = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
    if (i < WARMUP) continue;
    seconds.push(s);
    cpuSeconds.push((c.user + c.system) / 1e6);
    loss = r.loss;
    for (const [k, v] of Object.entries(r.phases)) (phases[k] ??= []).push(v);
    for (const [k, v] of Object.entries(r.phasesCpu)) (phasesCpu[k] ??= []).push(v);
  }
  process.stdout.write(`${JSON.stringify({
    paradigm, objective: 'cl+kd', threads: getKernels().threads, seconds, median: median(seconds), cpuSeconds,
    cpuMedian: median(cpuSeconds), loadavg: loadavg(), peakRssBytes: peakRssBytes(), loss,
    phasesMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v), 1)])),
    phasesCpuMs: Object.fromEntries(Object.entries(phasesCpu).map(([k, v]) => [k, round(median(v), 1)])),
    kernelsMsPerStep: kernelTable(t, STEPS),
  })}\n`);
}

const sec = (r: ChildResult): number | null => field(r, 'median');
const mem = (r: ChildResult): number | null => field(r, 'peakRssBytes');
const show = shown;

function driver(): void {
  const started = new Date().toISOString();
  const args = ['--steps', String(STEPS), '--warmup', String(WARMUP)];
  const rows: Record<string, unknown>[] = [];
  for (const threads of THREADS) {
    const cases: [string, 'sparse' | 'dense', string][] = [['sparse CL+KD (frugal torch head)', 'sparse', 'frugal'], ['dense CL+KD', 'dense', 'dense']];
    if (LITERAL) cases.splice(1, 0, ['sparse CL+KD (literal torch head)', 'sparse', 'literal']);
    const lionRuns = new Map<string, ChildResult>();
    for (const [name, paradigm, head] of cases) {
      const lion = lionRuns.get(paradigm) ?? runLionChild(self, [paradigm], threads);
      lionRuns.set(paradigm, lion);
      const torch = runAnchor(['train-losses', '--head', head, ...args], threads);
      const row = {
        threads, case: name, lion: show(lion), anchor: show(torch),
        lionSeconds: sec(lion) && round(sec(lion)!, 2), torchSeconds: sec(torch) && round(sec(torch)!, 2),
        speedup: ratio(sec(torch), sec(lion)),
        memoryRatio: ratio(mem(lion), mem(torch)),
        cpuTimeRatio: ratio(field(torch, 'cpuMedian'), field(lion, 'cpuMedian')),
        commands: { lion: lion.command, torch: torch.command },
      };
      rows.push(row);
      console.log(`threads ${threads} ${name}: lion ${row.lionSeconds} s, torch ${row.torchSeconds} s, ×${row.speedup} (CPU time ×${row.cpuTimeRatio}); memory ×${row.memoryRatio}`);
      for (const r of [lion, torch]) if (!r.ok) console.log(`  ! ${r.error}`);
    }
  }
  const path = writeResult('train-losses', {
    benchmark: 'train-losses', command: 'npm run bench:train-losses', started, finished: new Date().toISOString(), host: host(),
    configuration: { ...REF, objective: 'CL+KD = (InfoNCE + KL(teacher‖student over own 1+7 docs)) / 2', flops: { lambdaQ: LAMBDAS[0], lambdaD: LAMBDAS[1], sparseOnly: true },
      denseTau: 0.01, teacher: 'fixed synthetic scores (B, 1+n)', training: 'full fine-tuning, clip 1.0, AdamW lr 1e-4' },
    runs: { warmup: WARMUP, measured: STEPS, statistic: 'median' },
    results: rows,
  });
  console.log(`wrote ${path}`);
}

const w = process.argv.indexOf('--worker');
if (w >= 0) worker(process.argv[w + 1] === 'dense' ? 'dense' : 'sparse');
else driver();
