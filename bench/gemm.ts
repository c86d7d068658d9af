/**
 * GEMM benchmark: Lion's native fp32 GEMM against OpenBLAS (numpy on /usr/bin/python3), in one command.
 *
 * Shapes (M, K, N) from issue 3: (4096,256,1024), (4096,1024,256), (2048,512,32000), (512,512,512),
 * (128,2048,8192); layouts "nn" (C = A·B, B stored (K, N)) and "nt" (C = A·Bᵀ, B stored (N, K): a Linear
 * layer's forward). Each runs on 1 thread and on all cores. Our side runs in a child process per thread count
 * (LION_THREADS is read once per process); the anchor runs scripts/bench_gemm_openblas.py with
 * OPENBLAS_NUM_THREADS set to the same count and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from that
 * subprocess's environment only. If the host's numpy is not linked to OpenBLAS, a copy unpacked by
 * scripts/bench_gemm_openblas.sh into bench/work/openblas is put first on the anchor's LD_LIBRARY_PATH.
 * Rounds alternate ours and the anchor (BENCH_ROUNDS, default 3) so a noisy neighbour hits both; figures
 * are medians over all timed runs. Targets: ≥ 0.9× OpenBLAS on 1 thread; ≥ 1.8× speed-up on 2 threads.
 * Besides wall-clock GFLOP/s, each side's process CPU time is recorded: on a shared machine, where other
 * processes take turns on the cores, flops per CPU-second on 1 thread still compares the two kernels fairly
 * (the load average at the end of the run is recorded with the results), and the best run of each case is
 * kept too: the run in which the cores were freest.
 *
 *
 * Reduced precision (issue 9), same run: a Linear layer's product y = x·Wᵀ on shapes ≥ 1024 (the Llama-3.2-1B
 * linears at 512 and 1024 tokens, and 2048³), Lion fp32 (`gemm`), bf16 (`gemmBf16` on bf16 operands) and int8
 * (`linearForwardInt8`: per-row dynamic activation quantisation, per-channel int8 weights) against PyTorch
 * (scripts/bench_gemm_torch.py): `torch.matmul` on float32 (OpenBLAS) and on bfloat16 tensors (oneDNN), and
 * `torch.ao.nn.quantized.dynamic.Linear` for int8 (oneDNN/fbgemm quantized engine). The anchor runs with jemalloc,
 * OpenBLAS and oneDNN checked from inside its process (bench/anchor.ts); otherwise the bench refuses to write.
 * Targets: bf16 ≥ 1.0× PyTorch bf16 and ≥ 1.8× Lion fp32 (AVX512-BF16; ≥ 4× on AMX); int8 is compared with
 * PyTorch's int8 and bf16 and Lion's bf16. BENCH_PARTS=fp32,lowp selects the parts (default both).
 *
 * Run: npm run bench:gemm          (writes bench/results/gemm.json)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../src/kernels/native.js';
import { AnchorRefused, anchorCommand, anchorEnv, checkRefusal, prepareAnchor } from './anchor.js';
import { median } from './stats.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHAPES: [number, number, number][] = [[4096, 256, 1024], [4096, 1024, 256], [2048, 512, 32000], [512, 512, 512], [128, 2048, 8192]];
const LAYOUTS = ['nn', 'nt'] as const;
const REPS = Number(process.env.BENCH_REPS ?? 7);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PYTHON = process.env.LION_BENCH_PYTHON ?? '/usr/bin/python3';

const NOT_OPENBLAS = "refusing to write a result: the anchor's numpy is not linked to OpenBLAS (reference BLAS is ~30x slower); " +
  'run scripts/bench_gemm_openblas.sh once and re-run';

interface Sample { M: number; K: number; N: number; layout: string; seconds: number[]; cpuSeconds: number[] }

/** Child mode: time our GEMM on every shape with this process's LION_THREADS. */
function worker(): void {
  const k = loadNative();
  const out: Sample[] = [];
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (const [M, K, N] of SHAPES) {
    const a = Float32Array.from({ length: M * K }, rnd);
    const b = Float32Array.from({ length: K * N }, rnd);
    const c = new Float32Array(M * N);
    for (const layout of LAYOUTS) {
      const tb = layout === 'nt';
      k.gemm(c, a, b, M, N, K, false, tb, 1, 0); // warm-up: first touch of c and of the packing buffers
      const seconds: number[] = [], cpuSeconds: number[] = [];
      for (let r = 0; r < REPS; r++) {
        const t = process.hrtime.bigint(), u = process.cpuUsage();
        k.gemm(c, a, b, M, N, K, false, tb, 1, 0);
        seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
        const du = process.cpuUsage(u);
        cpuSeconds.push((du.user + du.system) / 1e6);
      }
      out.push({ M, K, N, layout, seconds, cpuSeconds });
    }
  }
  process.stdout.write(JSON.stringify({ threads: k.threads, cpu: (k as unknown as { cpuLevel: string }).cpuLevel, results: out }));
}

function runOurs(threads: number): { cpu: string; results: Sample[] } {
  const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker'], {
    env: { ...process.env, LION_THREADS: String(threads), LION_BACKEND: 'native' }, encoding: 'utf8', maxBuffer: 1 << 26,
  });
  if (p.status !== 0) throw new Error(`bench worker failed: ${p.stderr}`);
  return JSON.parse(p.stdout) as { cpu: string; results: Sample[] };
}

/** OpenBLAS for the anchor: installed (as root) or unpacked by bench/anchor.ts `prepareAnchor`. */
function openblasDir(): string | undefined {
  return prepareAnchor().openblasDir;
}

function runAnchor(threads: number): { blas: string[]; results: Sample[] } | { error: string } {
  if (!existsSync(PYTHON)) return { error: `${PYTHON} not found` };
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const lib = openblasDir();
  if (lib) env.LD_LIBRARY_PATH = [lib, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const p = spawnSync(PYTHON, [join(repoRoot, 'scripts/bench_gemm_openblas.py'), '--threads', String(threads),
    '--reps', String(REPS), '--shapes', JSON.stringify(SHAPES)], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0) return { error: p.stderr.trim().split('\n').slice(-1)[0] ?? 'anchor failed' };
  return JSON.parse(p.stdout) as { blas: string[]; results: Sample[] };
}

const key = (s: { M: number; K: number; N: number; layout: string }, t: number): string => `${s.M}x${s.K}x${s.N}/${s.layout}/${t}`;

function main(lowp?: Record<string, unknown>): void {
  const all = availableParallelism();
  const counts = all > 1 ? [1, all] : [1];
  const ours = new Map<string, number[]>(), anchor = new Map<string, number[]>();
  const oursCpu = new Map<string, number[]>(), anchorCpu = new Map<string, number[]>();
  let cpu = '', blas: string[] = [], anchorError: string | undefined;
  const add = (m: Map<string, number[]>, cm: Map<string, number[]>, s: Sample, t: number): void => {
    m.set(key(s, t), [...(m.get(key(s, t)) ?? []), ...s.seconds]);
    cm.set(key(s, t), [...(cm.get(key(s, t)) ?? []), ...s.cpuSeconds]);
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of counts) {
      const o = runOurs(t);
      cpu = o.cpu;
      for (const s of o.results) add(ours, oursCpu, s, t);
      const a = runAnchor(t);
      if ('error' in a) anchorError = a.error;
      else {
        // A weak anchor is worse than none: refuse to write a result when numpy's BLAS is not OpenBLAS.
        if (!a.blas.some((b) => /openblas/i.test(b))) throw new AnchorRefused(`${NOT_OPENBLAS} (mapped: ${a.blas.join(', ') || 'none'})`);
        blas = a.blas; for (const s of a.results) add(anchor, anchorCpu, s, t);
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  const rows = [];
  for (const [M, K, N] of SHAPES) for (const layout of LAYOUTS) for (const t of counts) {
    const flop = 2 * M * K * N;
    const k = key({ M, K, N, layout }, t);
    const lion = flop / median(ours.get(k)!) / 1e9;
    const ob = anchor.has(k) ? flop / median(anchor.get(k)!) / 1e9 : null;
    const lion1 = flop / median(ours.get(key({ M, K, N, layout }, 1))!) / 1e9;
    const ob1 = anchor.has(key({ M, K, N, layout }, 1)) ? flop / median(anchor.get(key({ M, K, N, layout }, 1))!) / 1e9 : null;
    // CPU-time throughput: flops per CPU-second of the whole process (all its threads). On 1 thread it is
    // immune to time slicing by other processes; on n threads it measures parallel efficiency.
    const lionCpu = flop / median(oursCpu.get(k)!) / 1e9;
    const obCpu = anchorCpu.has(k) ? flop / median(anchorCpu.get(k)!) / 1e9 : null;
    rows.push({
      M, K, N, layout, threads: t,
      lionCpuGflops: +lionCpu.toFixed(1), openblasCpuGflops: obCpu === null ? null : +obCpu.toFixed(1),
      cpuRatio: obCpu === null ? null : +(lionCpu / obCpu).toFixed(3),
      lionGflops: +lion.toFixed(1), openblasGflops: ob === null ? null : +ob.toFixed(1),
      ratio: ob === null ? null : +(lion / ob).toFixed(3),
      lionSpeedup: t === 1 ? 1 : +(lion / lion1).toFixed(2),
      // Best of all timed runs: on a shared machine the fastest run is the one where the cores were free.
      lionBestGflops: +(flop / Math.min(...ours.get(k)!) / 1e9).toFixed(1),
      openblasBestGflops: anchor.has(k) ? +(flop / Math.min(...anchor.get(k)!) / 1e9).toFixed(1) : null,
      openblasSpeedup: ob === null || ob1 === null ? null : t === 1 ? 1 : +(ob / ob1).toFixed(2),
    });
  }
  const result = {
    benchmark: 'gemm', command: 'npm run bench:gemm', date: new Date().toISOString(),
    host: { cpu: cpus()[0]?.model ?? 'unknown', cores: all, loadavgAtEnd: loadavg(), lionCpuLevel: cpu },
    anchor: anchorError ? { error: anchorError } : {
      what: 'numpy matmul (float32) via OpenBLAS', python: PYTHON, blas,
      ...(blas.some((b) => /openblas/i.test(b)) ? {} : { warning: NOT_OPENBLAS }),
    },
    runs: { rounds: ROUNDS, repsPerRound: REPS, statistic: 'median' },
    targets: { ratio1Thread: 0.9, speedup2Threads: 1.8 },
    results: rows,
    ...(lowp ? { lowPrecision: lowp } : {}),
  };
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench/results/gemm.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`GEMM fp32, GFLOP/s (median of ${ROUNDS}×${REPS}); Lion ${cpu} vs ${anchorError ? `no anchor (${anchorError})` : blas.join(', ')}`);
  console.log('   M     K      N  layout thr    lion  openblas  ratio  lion-speedup  | per CPU-second: lion openblas ratio');
  for (const r of rows) {
    console.log(`${String(r.M).padStart(5)} ${String(r.K).padStart(5)} ${String(r.N).padStart(6)}  ${r.layout.padEnd(6)} ${String(r.threads).padStart(3)}` +
      ` ${r.lionGflops.toFixed(1).padStart(7)} ${r.openblasGflops === null ? '      -' : r.openblasGflops.toFixed(1).padStart(9)}` +
      ` ${r.ratio === null ? '    -' : r.ratio.toFixed(2).padStart(6)}  ${r.lionSpeedup.toFixed(2).padStart(12)}` +
      `  | ${r.lionCpuGflops.toFixed(1).padStart(19)} ${r.openblasCpuGflops === null ? '       -' : r.openblasCpuGflops.toFixed(1).padStart(8)}` +
      ` ${r.cpuRatio === null ? '    -' : r.cpuRatio.toFixed(2).padStart(5)}`);
  }
  if (!anchorError && !blas.some((b) => /openblas/i.test(b))) console.log(`warning: ${NOT_OPENBLAS}`);
  console.log('best of all runs (the cores freest), GFLOP/s and 2-thread speed-up:');
  for (const r of rows.filter((x) => x.threads !== 1)) {
    const one = rows.find((x) => x.M === r.M && x.K === r.K && x.N === r.N && x.layout === r.layout && x.threads === 1)!;
    console.log(`${String(r.M).padStart(5)} ${String(r.K).padStart(5)} ${String(r.N).padStart(6)}  ${r.layout}` +
      `  lion ${one.lionBestGflops} -> ${r.lionBestGflops} (${(r.lionBestGflops / one.lionBestGflops).toFixed(2)}x)` +
      (r.openblasBestGflops !== null && one.openblasBestGflops !== null
        ? `  openblas ${one.openblasBestGflops} -> ${r.openblasBestGflops} (${(r.openblasBestGflops / one.openblasBestGflops).toFixed(2)}x)` : ''));
  }
  console.log('wrote bench/results/gemm.json');
}

// ------------------------------------------------------------------------------ reduced precision (issue 9)
const LOWP_SHAPES: [number, number, number][] = [[512, 2048, 2048], [512, 2048, 8192], [512, 8192, 2048], [1024, 2048, 2048], [2048, 2048, 2048]];
const LOWP_REPS = Number(process.env.BENCH_LOWP_REPS ?? 5);
const PARTS = (process.env.BENCH_PARTS ?? 'fp32,lowp').split(',');

interface LowpSample { M: number; K: number; N: number; dtype: string; seconds: number[]; cpuSeconds: number[] }

/** Child mode: Lion's fp32, bf16 and int8 products y = x·Wᵀ on LOWP_SHAPES with this process's LION_THREADS. */
function lowpWorker(): void {
  const k = loadNative();
  const out: LowpSample[] = [];
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const time = (fn: () => void): { seconds: number[]; cpuSeconds: number[] } => {
    fn();
    const seconds: number[] = [], cpuSeconds: number[] = [];
    for (let r = 0; r < LOWP_REPS; r++) {
      const t = process.hrtime.bigint(), u = process.cpuUsage();
      fn();
      seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
      const du = process.cpuUsage(u);
      cpuSeconds.push((du.user + du.system) / 1e6);
    }
    return { seconds, cpuSeconds };
  };
  for (const [M, K, N] of LOWP_SHAPES) {
    const x = Float32Array.from({ length: M * K }, rnd), w = Float32Array.from({ length: N * K }, () => rnd() * 2 / Math.sqrt(K));
    const y = new Float32Array(M * N);
    out.push({ M, K, N, dtype: 'fp32', ...time(() => k.gemm(y, x, w, M, N, K, false, true, 1, 0)) });
    const xb = new Uint16Array(M * K), wb = new Uint16Array(N * K);
    k.toBf16(xb, x, M * K);
    k.toBf16(wb, w, N * K);
    out.push({ M, K, N, dtype: 'bf16', ...time(() => k.gemmBf16(y, xb, wb, M, N, K, false, true, 1, 0)) });
    const q = new Int8Array(N * K), sc = new Float32Array(N);
    k.quantizeInt8(q, sc, w, N, K);
    out.push({ M, K, N, dtype: 'int8', ...time(() => k.linearForwardInt8(y, x, q, sc, null, M, K, N)) });
  }
  process.stdout.write(JSON.stringify({ threads: k.threads, cpu: k.cpuLevel, isa: k.isa(), results: out }));
}

function runLowpOurs(threads: number): { cpu: string; isa: unknown; results: LowpSample[] } {
  const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--lowp-worker'], {
    env: { ...process.env, LION_THREADS: String(threads), LION_BACKEND: 'native' }, encoding: 'utf8', maxBuffer: 1 << 26,
  });
  if (p.status !== 0) throw new Error(`bench lowp worker failed: ${p.stderr}`);
  return JSON.parse(p.stdout) as { cpu: string; isa: unknown; results: LowpSample[] };
}

function runLowpAnchor(threads: number): { anchorEnv: Record<string, unknown>; int8Engine: string | null; int8Error: string | null; int8What: string; results: LowpSample[]; command: string } {
  const { env, described } = anchorEnv(threads);
  const args = ['--threads', String(threads), '--reps', String(LOWP_REPS), '--shapes', JSON.stringify(LOWP_SHAPES)];
  const p = spawnSync(PYTHON, [join(repoRoot, 'scripts/bench_gemm_torch.py'), ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  checkRefusal(p, 'bench_gemm_torch.py');
  if (p.status !== 0) throw new Error(`PyTorch GEMM anchor failed: ${p.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return { ...JSON.parse(p.stdout), command: anchorCommand(described, 'scripts/bench_gemm_torch.py', args.map((a) => (a.startsWith('[') ? `'${a}'` : a))) };
}

function lowpMain(): Record<string, unknown> {
  prepareAnchor();
  const all = availableParallelism();
  const counts = all > 1 ? [1, all] : [1];
  const lion = new Map<string, number[]>(), torch = new Map<string, number[]>();
  const lionCpu = new Map<string, number[]>(), torchCpu = new Map<string, number[]>();
  const k2 = (s: { M: number; K: number; N: number; dtype: string }, t: number): string => `${s.M}x${s.K}x${s.N}/${s.dtype}/${t}`;
  const push = (m: Map<string, number[]>, key: string, v: number[]): void => { m.set(key, [...(m.get(key) ?? []), ...v]); };
  let isa: unknown = null, cpuLevel = '', anchorInfo: Record<string, unknown> = {}, int8: { engine: string | null; error: string | null; what: string } = { engine: null, error: null, what: '' };
  const commands: Record<string, string> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of counts) {
      const o = runLowpOurs(t);
      isa = o.isa; cpuLevel = o.cpu;
      for (const s of o.results) { push(lion, k2(s, t), s.seconds); push(lionCpu, k2(s, t), s.cpuSeconds); }
      const a = runLowpAnchor(t);
      anchorInfo = a.anchorEnv; int8 = { engine: a.int8Engine, error: a.int8Error, what: a.int8What };
      commands[`torch${t}`] = a.command;
      commands[`lion${t}`] = `LION_THREADS=${t} node dist/bench/gemm.js --lowp-worker`;
      for (const s of a.results) { push(torch, k2(s, t), s.seconds); push(torchCpu, k2(s, t), s.cpuSeconds); }
    }
    process.stderr.write(`lowp round ${round + 1}/${ROUNDS} done\n`);
  }
  const gf = (m: Map<string, number[]>, key: string, flop: number): number | null => (m.has(key) ? +(flop / median(m.get(key)!) / 1e9).toFixed(1) : null);
  const r2 = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? +(a / b).toFixed(2) : null);
  const rows = [];
  for (const [M, K, N] of LOWP_SHAPES) for (const t of counts) {
    const flop = 2 * M * K * N;
    const g = (m: Map<string, number[]>, dtype: string) => gf(m, k2({ M, K, N, dtype }, t), flop);
    const row = {
      M, K, N, threads: t,
      gflops: { lionFp32: g(lion, 'fp32'), lionBf16: g(lion, 'bf16'), lionInt8: g(lion, 'int8'), torchFp32: g(torch, 'fp32'), torchBf16: g(torch, 'bf16'), torchInt8: g(torch, 'int8') },
      gflopsPerCpuSecond: { lionFp32: g(lionCpu, 'fp32'), lionBf16: g(lionCpu, 'bf16'), lionInt8: g(lionCpu, 'int8'), torchFp32: g(torchCpu, 'fp32'), torchBf16: g(torchCpu, 'bf16'), torchInt8: g(torchCpu, 'int8') },
      ratios: {} as Record<string, number | null>,
    };
    const x = row.gflops;
    row.ratios = {
      bf16VsTorchBf16: r2(x.lionBf16, x.torchBf16), bf16VsLionFp32: r2(x.lionBf16, x.lionFp32),
      int8VsTorchInt8: r2(x.lionInt8, x.torchInt8), int8VsTorchBf16: r2(x.lionInt8, x.torchBf16), int8VsLionBf16: r2(x.lionInt8, x.lionBf16),
      fp32VsTorchFp32: r2(x.lionFp32, x.torchFp32),
    };
    rows.push(row);
  }
  const amx = typeof isa === 'object' && isa !== null && /amx/.test(String((isa as { bf16?: string }).bf16));
  console.log(`reduced precision, y = x·Wᵀ, GFLOP/s (median of ${ROUNDS}×${LOWP_REPS}); Lion ISA ${JSON.stringify(isa)}; torch int8 ${int8.engine ?? int8.error}`);
  console.log('    M     K     N thr | lion fp32  bf16  int8 | torch fp32  bf16  int8 | bf16/torch bf16/fp32 int8/torchI8 int8/torchBf16 int8/lionBf16');
  for (const r of rows) {
    const f = (v: number | null, w = 6) => (v === null ? '-' : v.toFixed(0)).padStart(w);
    const q = (v: number | null, w = 9) => (v === null ? '-' : v.toFixed(2)).padStart(w);
    console.log(`${String(r.M).padStart(5)} ${String(r.K).padStart(5)} ${String(r.N).padStart(5)} ${String(r.threads).padStart(3)} |` +
      `${f(r.gflops.lionFp32, 10)}${f(r.gflops.lionBf16)}${f(r.gflops.lionInt8)} |${f(r.gflops.torchFp32, 11)}${f(r.gflops.torchBf16)}${f(r.gflops.torchInt8)} |` +
      `${q(r.ratios.bf16VsTorchBf16, 11)}${q(r.ratios.bf16VsLionFp32)}${q(r.ratios.int8VsTorchInt8, 11)}${q(r.ratios.int8VsTorchBf16, 14)}${q(r.ratios.int8VsLionBf16, 14)}`);
  }
  return {
    what: 'y = x·Wᵀ (x (M, K), W (N, K)); Lion gemm / gemmBf16 (bf16 operands) / linearForwardInt8 (dynamic per-row activation scales, per-channel weights) vs torch.matmul float32 / bfloat16 and torch.ao.nn.quantized.dynamic.Linear',
    lionIsa: isa, lionCpuLevel: cpuLevel, anchorEnv: anchorInfo, torchInt8: int8,
    runs: { rounds: ROUNDS, repsPerRound: LOWP_REPS, statistic: 'median' },
    targets: { bf16VsTorchBf16: 1.0, bf16VsLionFp32: amx ? 4 : 1.8 },
    commands, results: rows,
  };
}

function all(): void {
  let lowp: Record<string, unknown> | undefined;
  if (PARTS.includes('lowp')) lowp = lowpMain();
  if (PARTS.includes('fp32')) main(lowp);
  else {
    // Only the reduced-precision part ran: keep the fp32 part of an earlier result file.
    const path = join(repoRoot, 'bench/results/gemm.json');
    const old = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> : { benchmark: 'gemm' };
    const result = { ...old, lowPrecision: { ...lowp, command: 'BENCH_PARTS=lowp npm run bench:gemm', date: new Date().toISOString(),
      host: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), loadavgAtEnd: loadavg() } } };
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
    console.log('wrote bench/results/gemm.json (low-precision part; the fp32 part is kept from the earlier run)');
  }
}

if (process.argv.includes('--worker')) worker();
else if (process.argv.includes('--lowp-worker')) lowpWorker();
else all();
