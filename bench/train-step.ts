/**
 * Training-step benchmark (issue 3, deliverable 5): one full fine-tuning step of the reference configuration
 * (bidirectional Llama, 4 layers, d = 256, 4 heads, SwiGLU 688, V = 32,000; 16 queries × 32 tokens and
 * 128 documents × 128 tokens; sparse head, InfoNCE over every document of the batch, backward, clip, AdamW),
 * Lion against PyTorch written two ways (scripts/bench_torch_step.py): "literal" (materialised (B, T, V)
 * logits, masked max, log1p∘ReLU, spec §2.4) and "frugal" (the same chunked over the vocabulary).
 *
 * For each thread count (BENCH_THREADS, default "1,2") it runs, each in its own process: Lion
 * (LION_THREADS = t), the frugal anchor and the literal anchor (torch.set_num_threads(t)). Each takes
 * BENCH_WARMUP (1) unmeasured and BENCH_STEPS (3) measured steps; figures are medians; peak RSS is the
 * process's. Lion's worker also measures its GEMM on the step's own shapes (the FLOP/s target compares the
 * step's useful FLOP/s, counted as in step-common.ts `stepFlops`, with the best of them) and times every
 * kernel call and every phase of the step (the breakdown lands in the JSON).
 *
 * Targets at 1 and 2 threads: ≥ 4× the literal step, ≥ 3× the frugal one, ≤ ¼ of its peak memory, useful
 * FLOP/s ≥ 0.6× GEMM throughput. Reduced precision (issue 9; BENCH_PRECISIONS=fp32,bf16 selects): Lion
 * `precision: 'bf16'` without and with `recompute` against PyTorch under bf16 autocast (frugal and literal
 * heads): ≥ 2× the frugal autocast step with ≤ ½ of its peak memory. Run: npm run bench:train-step (writes bench/results/train-step.json).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  adamState, benchEnv, buildModel, precisionArgs, field, gemmThroughput, getKernels, host, kernelTable, resetTimer, lionStep, median, peakRssBytes, ratio, REF, round,
  runAnchor, runLionChild, stepFlops, stepInputs, timedKernels, writeResult, type ChildResult,
} from './step-common.js';

const { steps: STEPS, warmup: WARMUP, threads: THREADS } = benchEnv;
const SKIP_LITERAL = process.env.BENCH_SKIP_LITERAL === '1';
const PRECISIONS = (process.env.BENCH_PRECISIONS ?? 'fp32,bf16').split(',');
const self = fileURLToPath(import.meta.url);

function worker(): void {
  const t = timedKernels(getKernels());
  const prec = precisionArgs(process.argv);
  const model = buildModel('all', t.kernels, true, prec);
  const m = model as unknown as { precision?: string; recompute?: boolean };
  if ((prec.precision === 'bf16' && m.precision !== 'bf16') || (prec.recompute && m.recompute !== true)) {
    throw new Error(`LlamaModel ignored ${JSON.stringify(prec)} (this build has no reduced-precision training)`);
  }
  const adam = adamState(model);
  const { seqs, teacher } = stepInputs();
  const seconds: number[] = [], cpuSeconds: number[] = [];
  const phases: Record<string, number[]> = {}, phasesCpu: Record<string, number[]> = {};
  let loss = NaN, nnz = 0;
  for (let i = 0; i < WARMUP + STEPS; i++) {
    if (i === WARMUP) { resetTimer(t); }
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = lionStep(model, adam, 'sparse', 'cl', seqs, teacher);
    const s = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
    if (i < WARMUP) continue;
    seconds.push(s);
    cpuSeconds.push((c.user + c.system) / 1e6);
    loss = r.loss; nnz = r.nnzPerRow;
    for (const [k, v] of Object.entries(r.phases)) (phases[k] ??= []).push(v);
    for (const [k, v] of Object.entries(r.phasesCpu)) (phasesCpu[k] ??= []).push(v);
  }
  const peak = peakRssBytes(); // before the GEMM probe below allocates its own operands
  const kernels = kernelTable(t, STEPS);
  const gemm = gemmThroughput(getKernels());
  const kernelMs = kernels.reduce((a, k) => a + k.msPerStep, 0), kernelCpuMs = kernels.reduce((a, k) => a + k.cpuMsPerStep, 0);
  process.stdout.write(`${JSON.stringify({
    threads: getKernels().threads, backend: getKernels().name, precision: prec.precision, recompute: prec.recompute,
    isa: typeof getKernels().isa === 'function' ? getKernels().isa() : null, seconds, median: median(seconds),
    cpuSeconds, cpuMedian: median(cpuSeconds), loadavg: loadavg(), peakRssBytes: peak,
    loss, nnzPerRow: nnz, gemm,
    phasesMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v), 1)])),
    phasesCpuMs: Object.fromEntries(Object.entries(phasesCpu).map(([k, v]) => [k, round(median(v), 1)])),
    kernelsMsPerStep: kernels,
    outsideKernelsMsPerStep: round(median(seconds) * 1000 - kernelMs, 1),
    outsideKernelsCpuMsPerStep: round(median(cpuSeconds) * 1000 - kernelCpuMs, 1),
  })}\n`);
}

const num = field;

function driver(): void {
  const args = ['--steps', String(STEPS), '--warmup', String(WARMUP)];
  const rows: Record<string, unknown>[] = [];
  const started = new Date().toISOString();
  for (const threads of THREADS) {
    const bf16 = PRECISIONS.includes('bf16') ? bf16Row(threads, args) : null;
    if (!PRECISIONS.includes('fp32')) { rows.push({ threads, bf16 }); continue; }
    const lion = runLionChild(self, [], threads);
    const frugal = runAnchor(['train-step', '--head', 'frugal', ...args], threads);
    const literal = SKIP_LITERAL ? { ok: false, error: 'skipped (BENCH_SKIP_LITERAL=1)', command: '' } : runAnchor(['train-step', '--head', 'literal', ...args], threads);
    const lionS = num(lion, 'median'), litS = num(literal, 'median'), frgS = num(frugal, 'median');
    const lionMem = num(lion, 'peakRssBytes'), frgMem = num(frugal, 'peakRssBytes'), litMem = num(literal, 'peakRssBytes');
    const nnz = num(lion, 'nnzPerRow') ?? REF.V;
    const useful = stepFlops({ head: 'sparse', nnzPerRow: nnz });
    const executedByTorch = stepFlops({ head: 'sparse', denseHeadBackward: true });
    const gemm = (lion.data?.gemm as { shape: string; gflops: number; gflopsPerCpuSecond: number }[] | undefined) ?? [];
    const bestGemm = gemm.length ? Math.max(...gemm.map((g) => g.gflops)) : null;
    const bestGemmCpu = gemm.length ? Math.max(...gemm.map((g) => g.gflopsPerCpuSecond)) : null;
    const usefulGflops = lionS ? useful.total! / lionS / 1e9 : null;
    const lionCpu = num(lion, 'cpuMedian');
    const usefulPerCpu = lionCpu ? useful.total! / lionCpu / 1e9 : null;
    rows.push({
      threads,
      lion: lion.ok ? lion.data : { error: lion.error },
      anchorLiteral: literal.ok ? literal.data : { error: literal.error },
      anchorFrugal: frugal.ok ? frugal.data : { error: frugal.error },
      speedupVsLiteral: ratio(litS, lionS),
      speedupVsFrugal: ratio(frgS, lionS),
      cpuTimeRatioVsLiteral: ratio(num(literal, 'cpuMedian'), num(lion, 'cpuMedian')),
      cpuTimeRatioVsFrugal: ratio(num(frugal, 'cpuMedian'), num(lion, 'cpuMedian')),
      memoryVsFrugal: ratio(lionMem, frgMem),
      memoryVsLiteral: ratio(lionMem, litMem),
      usefulGflop: round(useful.total! / 1e9, 1),
      usefulGflopBreakdown: Object.fromEntries(Object.entries(useful).map(([k, v]) => [k, round(v / 1e9, 1)])),
      torchExecutedGflop: round(executedByTorch.total! / 1e9, 1),
      usefulGflopsPerSec: usefulGflops === null ? null : round(usefulGflops, 1),
      gemmGflopsBest: bestGemm,
      flopsVsGemm: ratio(usefulGflops, bestGemm),
      usefulGflopPerCpuSecond: usefulPerCpu === null ? null : round(usefulPerCpu, 1),
      gemmGflopPerCpuSecondBest: bestGemmCpu,
      flopsVsGemmCpuTime: ratio(usefulPerCpu, bestGemmCpu),
      targetsMet: {
        speedupVsLiteral4x: litS && lionS ? litS / lionS >= 4 : null,
        speedupVsFrugal3x: frgS && lionS ? frgS / lionS >= 3 : null,
        memoryQuarterOfFrugal: lionMem && frgMem ? lionMem / frgMem <= 0.25 : null,
        flops06OfGemm: usefulGflops !== null && bestGemm ? usefulGflops / bestGemm >= 0.6 : null,
      },
      commands: { lion: lion.command, literal: literal.command, frugal: frugal.command },
      bf16,
    });
    const f = (x: number | null, d = 2) => (x === null ? '-' : x.toFixed(d));
    console.log(`threads ${threads}: lion ${f(lionS)} s (${f(lionMem && lionMem / 2 ** 30)} GiB), literal ${f(litS)} s (${f(litMem && litMem / 2 ** 30)} GiB), ` +
      `frugal ${f(frgS)} s (${f(frgMem && frgMem / 2 ** 30)} GiB); ×${f(ratio(litS, lionS))} literal, ×${f(ratio(frgS, lionS))} frugal; ` +
      `${f(usefulGflops, 1)} useful GFLOP/s vs GEMM ${f(bestGemm, 1)}; CPU-time ratios ×${f(ratio(num(literal, 'cpuMedian'), lionCpu))} literal, ` +
      `×${f(ratio(num(frugal, 'cpuMedian'), lionCpu))} frugal, ${f(usefulPerCpu, 1)} useful GFLOP per CPU-s vs GEMM ${f(bestGemmCpu, 1)}`);
    for (const r of [lion, literal, frugal]) if (!r.ok && r.error) console.log(`  ! ${r.error}`);
  }
  const path = writeResult('train-step', {
    benchmark: 'train-step', command: 'npm run bench:train-step', started, finished: new Date().toISOString(), host: host(),
    configuration: { ...REF, paradigm: 'sparse', objective: 'InfoNCE over all 128 documents (query i positive = document i)',
      training: 'full fine-tuning, clip 1.0, AdamW lr 1e-4', lionBatch: 'queries (T = 32) and documents (T = 128) as two batches in two activation slots, as src/train/trainer.ts',
      anchorBatch: 'queries (T = 32) and documents (T = 128) encoded separately, as the authors\' code' },
    runs: { warmup: WARMUP, measured: STEPS, statistic: 'median' },
    targets: { speedupVsLiteral: 4, speedupVsFrugal: 3, memoryVsFrugal: 0.25, flopsVsGemm: 0.6,
      bf16: { speedupVsAutocastFrugal: 2, memoryVsAutocastFrugal: 0.5 } },
    bf16: 'Lion precision bf16 (bf16 matmuls, fp32 master weights, optimiser, loss and reductions), with and without recompute, against PyTorch under torch.autocast(\'cpu\', dtype=torch.bfloat16) (scripts/bench_torch_step.py --autocast), literal and frugal heads',
    flopCounting: 'stepFlops in bench/step-common.ts: 2 FLOP per multiply-add on the 16·32 + 128·128 real tokens; trunk linears 2P/token forward, 4P backward; attention 4T²C per sequence-layer forward, 8T²C backward; head 2NVC forward, backward 4C per non-zero rep entry (argmax route); loss 6·B·Nc·V. Padding Lion computes is not counted as useful.',
    results: rows,
  });
  console.log(`wrote ${path}`);
}

/**
 * The reduced-precision rows at `threads` threads: Lion bf16 without and with recompute against PyTorch bf16
 * autocast, frugal and literal heads (issue 9 targets: ≥ 2× the frugal autocast step, ≤ ½ of its peak memory).
 */
function bf16Row(threads: number, args: string[]): Record<string, unknown> {
  const lion = runLionChild(self, ['--precision', 'bf16'], threads);
  const lionRc = runLionChild(self, ['--precision', 'bf16', '--recompute'], threads);
  const frugal = runAnchor(['train-step', '--head', 'frugal', '--autocast', ...args], threads);
  const literal = SKIP_LITERAL ? { ok: false, error: 'skipped (BENCH_SKIP_LITERAL=1)', command: '' } : runAnchor(['train-step', '--head', 'literal', '--autocast', ...args], threads);
  const s = (r: ChildResult) => num(r, 'median'), mem = (r: ChildResult) => num(r, 'peakRssBytes'), c = (r: ChildResult) => num(r, 'cpuMedian');
  const f = (x: number | null, d = 2) => (x === null ? '-' : x.toFixed(d));
  const gib = (x: number | null) => f(x && x / 2 ** 30);
  console.log(`threads ${threads} bf16: lion ${f(s(lion))} s (${gib(mem(lion))} GiB), +recompute ${f(s(lionRc))} s (${gib(mem(lionRc))} GiB); ` +
    `autocast frugal ${f(s(frugal))} s (${gib(mem(frugal))} GiB), literal ${f(s(literal))} s (${gib(mem(literal))} GiB); ` +
    `×${f(ratio(s(frugal), s(lion)))} frugal (×${f(ratio(s(frugal), s(lionRc)))} with recompute), memory ${f(ratio(mem(lion), mem(frugal)))} (${f(ratio(mem(lionRc), mem(frugal)))})`);
  for (const r of [lion, lionRc, literal, frugal]) if (!r.ok && r.error) console.log(`  ! ${r.error}`);
  return {
    lion: shownR(lion), lionRecompute: shownR(lionRc), anchorAutocastFrugal: shownR(frugal), anchorAutocastLiteral: shownR(literal),
    speedupVsAutocastFrugal: ratio(s(frugal), s(lion)), speedupVsAutocastLiteral: ratio(s(literal), s(lion)),
    recomputeSpeedupVsAutocastFrugal: ratio(s(frugal), s(lionRc)), recomputeSpeedupVsAutocastLiteral: ratio(s(literal), s(lionRc)),
    cpuTimeRatioVsAutocastFrugal: ratio(c(frugal), c(lion)), recomputeCpuTimeRatioVsAutocastFrugal: ratio(c(frugal), c(lionRc)),
    memoryVsAutocastFrugal: ratio(mem(lion), mem(frugal)), recomputeMemoryVsAutocastFrugal: ratio(mem(lionRc), mem(frugal)),
    memoryVsAutocastLiteral: ratio(mem(lion), mem(literal)),
    targetsMet: {
      speedup2xAutocastFrugal: s(lion) && s(frugal) ? s(frugal)! / s(lion)! >= 2 : null,
      recomputeSpeedup2xAutocastFrugal: s(lionRc) && s(frugal) ? s(frugal)! / s(lionRc)! >= 2 : null,
      memoryHalfOfAutocastFrugal: mem(lion) && mem(frugal) ? mem(lion)! / mem(frugal)! <= 0.5 : null,
      recomputeMemoryHalfOfAutocastFrugal: mem(lionRc) && mem(frugal) ? mem(lionRc)! / mem(frugal)! <= 0.5 : null,
    },
    commands: { lion: lion.command, lionRecompute: lionRc.command, autocastFrugal: frugal.command, autocastLiteral: literal.command },
  };
}

const shownR = (r: ChildResult): unknown => (r.ok ? r.data : { error: r.error });

if (process.argv.includes('--worker')) worker();
else driver();
