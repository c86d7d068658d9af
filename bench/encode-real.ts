/**
 * Real-shape encoding benchmark (issue 9): a random checkpoint with the exact Llama-3.2-1B shape (vocabulary
 * 128,256, d 2048, 16 layers, 32 heads / 8 kv heads, head_dim 64, SwiGLU 8192, llama3 rope scaling, tied
 * embeddings), written as bf16 safetensors by scripts/gen_llama_checkpoint.py (N(0, 0.02)) into
 * bench/work/llama-1b, loaded from disk and used to encode random 128- and 512-token documents with the sparse
 * and the dense head: documents per second and peak RSS for Lion fp32 / bf16 / int8 (`loadModel(dir, { dtype })`,
 * `encodeTokens`) and PyTorch fp32 / bf16 (scripts/bench_torch_encode_real.py: model.to(torch.bfloat16) under
 * no_grad, as users run a bf16 checkpoint; the sparse head chunked over the vocabulary), at 1 and 2 threads.
 *
 * Each (implementation, precision, head, threads) runs in its own process; inside it, each document length is
 * a phase: one warm-up batch of BENCH_WARMUP_DOCS (1) document, then BENCH_DOCS_128 (8) documents in batches of
 * BENCH_BATCH_128 (8) and BENCH_DOCS_512 (4) in batches of BENCH_BATCH_512 (4) (small, so the 20 processes and the
 * 8B run fit in ~25 minutes on 2 cores; each figure is one timed pass over 1024 or 2048 tokens per document set). A phase's peak RSS is VmHWM,
 * reset at the phase start (/proc/self/clear_refs), so it is the resident weights plus that phase's activations;
 * the load's own peak is recorded too. CPU time and load average are recorded beside wall time (the machine is
 * shared).
 *
 * Then the 8B-shaped run (BENCH_8B=0 skips it): a Llama-3-8B-shaped checkpoint (d 4096, 32 layers, SwiGLU 14336,
 * untied head; 16 GB of bf16) generated tensor by tensor straight to bf16, loaded by Lion in bf16, encoding
 * BENCH_8B_DOCS (2) 128-token documents with the sparse head; its peak RSS against 1.15 × the bf16 weight bytes
 * plus activations (target: Lion-SP-8B fits a 24 GB machine). The checkpoint is deleted afterwards
 * (BENCH_KEEP_8B=1 keeps it). The anchor must run with jemalloc, OpenBLAS and oneDNN (bench/anchor.ts) or the
 * bench refuses to write a result.
 *
 * Targets (same run, both thread counts): bf16 ≥ 1.3× PyTorch bf16, sparse and dense; int8 ≥ 2× PyTorch bf16;
 * 8B peak RSS ≤ 1.15 × weight bytes + activations.
 *
 * Run: npm run bench:encode-real   (writes bench/results/encode-real.json; on a shared machine wrap it:
 *      flock /tmp/lion-bench.lock npm run bench:encode-real)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeTokens } from '../src/encoders/encode.js';
import { getKernels } from '../src/kernels/index.js';
import { loadModel, type LoadOptions } from '../src/model/checkpoint.js';
import { anchorCommand, anchorEnv, checkRefusal, prepareAnchor, PYTHON, repoRoot } from './anchor.js';
import { host, randomSeqs, round, writeResult } from './step-common.js';

const self = fileURLToPath(import.meta.url);
const env = process.env;
const LENGTHS = (env.BENCH_LENGTHS ?? '128,512').split(',').map(Number);
const DOCS: Record<number, number> = { 128: Number(env.BENCH_DOCS_128 ?? 8), 512: Number(env.BENCH_DOCS_512 ?? 4) };
const BATCH: Record<number, number> = { 128: Number(env.BENCH_BATCH_128 ?? 8), 512: Number(env.BENCH_BATCH_512 ?? 4) };
const WARMUP_DOCS = Number(env.BENCH_WARMUP_DOCS ?? 1);
const THREADS = (env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const LION_DTYPES = (env.BENCH_LION_DTYPES ?? 'fp32,bf16,int8').split(',');
const TORCH_DTYPES = (env.BENCH_TORCH_DTYPES ?? 'fp32,bf16').split(',');
const HEADS = (env.BENCH_HEADS ?? 'sparse,dense').split(',') as ('sparse' | 'dense')[];
const RUN_8B = env.BENCH_8B !== '0';
const DOCS_8B = Number(env.BENCH_8B_DOCS ?? 2);
const DIR_1B = join(repoRoot, 'bench/work/llama-1b');
const DIR_8B = join(repoRoot, 'bench/work/llama-8b');

/** Bytes of a /proc/self/status field (VmHWM, VmRSS). */
function statusBytes(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function resetPeak(): boolean {
  try { writeFileSync('/proc/self/clear_refs', '5'); return true; } catch { return false; }
}

/** Lion's weight bytes as stored (every parameter buffer the model holds, whatever its element type). */
function weightBytes(model: unknown): number | null {
  const m = model as { weightBytes?: number | (() => number) };
  if (typeof m.weightBytes === 'number') return m.weightBytes;
  if (typeof m.weightBytes === 'function') return m.weightBytes();
  return null;
}

interface WorkerArgs { dir: string; dtype: string; head: 'sparse' | 'dense'; lengths: number[]; docs: number[]; batch: number[]; warmupDocs: number }

/** Child: load the checkpoint in `dtype`, then one phase per length. Prints one JSON line. */
function worker(a: WorkerArgs): void {
  const k = getKernels();
  const t0 = performance.now(), c0 = process.cpuUsage();
  const model = loadModel(a.dir, { withHead: a.head === 'sparse', trainable: 'none', dtype: a.dtype } as LoadOptions & { dtype: string });
  const cl = process.cpuUsage(c0);
  const load = { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cl.user + cl.system) / 1e6, peakRssBytes: statusBytes('VmHWM'), rssBytes: statusBytes('VmRSS') };
  const V = model.config.vocabSize;
  const phases = [];
  for (let i = 0; i < a.lengths.length; i++) {
    const T = a.lengths[i]!, n = a.docs[i]!, bs = a.batch[i]!;
    const docs = randomSeqs(n, T, V, 7 + T);
    const opts = { paradigm: a.head, maxLength: T, maxBatch: bs, maxTokens: bs * T };
    const reset = resetPeak();
    const tw = performance.now();
    encodeTokens(model, docs.slice(0, a.warmupDocs), 0, opts);
    const warm = (performance.now() - tw) / 1000;
    const la0 = loadavg();
    const t1 = performance.now(), c1 = process.cpuUsage();
    const batchSeconds: number[] = [];
    let nnz = 0;
    for (let b0 = 0; b0 < n; b0 += bs) {
      const tb = performance.now();
      for (const r of encodeTokens(model, docs.slice(b0, b0 + bs), 0, opts)) nnz += r instanceof Float32Array ? r.length : r.terms.length;
      batchSeconds.push((performance.now() - tb) / 1000);
    }
    const s = (performance.now() - t1) / 1000, c = process.cpuUsage(c1);
    phases.push({ tokens: T, docs: n, batch: bs, warmupDocs: a.warmupDocs, warmupSeconds: warm, seconds: s, cpuSeconds: (c.user + c.system) / 1e6,
      batchSeconds, docsPerSec: n / s, peakRssBytes: statusBytes('VmHWM'), peakReset: reset, loadavg: [la0, loadavg()], nnzPerDoc: nnz / n });
  }
  const isa = typeof k.isa === 'function' ? k.isa() : null;
  process.stdout.write(`${JSON.stringify({ impl: 'lion', dtype: a.dtype, head: a.head, threads: k.threads, backend: k.name,
    cpuLevel: (k as unknown as { cpuLevel?: string }).cpuLevel ?? null, isa, weightBytes: weightBytes(model), load, phases,
    modelDtype: (model as unknown as { dtype?: string }).dtype ?? null })}\n`);
}

interface Child { ok: boolean; data?: Record<string, unknown>; error?: string; command: string; wallSeconds: number; loadavg: [number[], number[]] }

function parse(p: ReturnType<typeof spawnSync>, command: string, t0: number, la0: number[]): Child {
  const out = String(p.stdout ?? '').trim().split('\n').pop() ?? '';
  const base = { command, wallSeconds: round((performance.now() - t0) / 1000, 1), loadavg: [la0, loadavg()] as [number[], number[]] };
  if (p.status === 0) { try { return { ok: true, data: JSON.parse(out) as Record<string, unknown>, ...base }; } catch { /* below */ } }
  return { ok: false, error: `exit ${p.status ?? p.signal}: ${String(p.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`, ...base };
}

function runLion(dir: string, dtype: string, head: string, threads: number, lengths: number[], docs: number[], batch: number[], warmupDocs: number): Child {
  const args = ['--worker', dir, dtype, head, lengths.join(','), docs.join(','), batch.join(','), String(warmupDocs)];
  const command = `LION_THREADS=${threads} node dist/bench/encode-real.js ${args.join(' ').replace(repoRoot + '/', '')}`;
  const t0 = performance.now(), la0 = loadavg();
  const p = spawnSync(process.execPath, [self, ...args], { env: { ...process.env, LION_THREADS: String(threads), LION_BACKEND: process.env.LION_BACKEND ?? 'native' }, encoding: 'utf8', maxBuffer: 1 << 26 });
  return parse(p, command, t0, la0);
}

function runTorch(dtype: string, head: string, threads: number): Child {
  const { env: e, described } = anchorEnv(threads);
  const args = ['--model', DIR_1B, '--head', head, '--dtype', dtype, '--threads', String(threads), '--lengths', LENGTHS.join(','),
    '--docs', LENGTHS.map((t) => DOCS[t]).join(','), '--batch', LENGTHS.map((t) => BATCH[t]).join(','), '--warmup-docs', String(WARMUP_DOCS)];
  const t0 = performance.now(), la0 = loadavg();
  const p = spawnSync(PYTHON, [join(repoRoot, 'scripts/bench_torch_encode_real.py'), ...args], { env: e, encoding: 'utf8', maxBuffer: 1 << 26 });
  checkRefusal(p, `bench_torch_encode_real.py --dtype ${dtype} --head ${head}`);
  return parse(p, anchorCommand(described, 'scripts/bench_torch_encode_real.py', args.map((x) => x.replace(repoRoot + '/', ''))), t0, la0);
}

function generate(shape: '1b' | '8b', dir: string): Record<string, unknown> {
  const p = spawnSync(PYTHON, [join(repoRoot, 'scripts/gen_llama_checkpoint.py'), '--shape', shape, '--out', dir], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`gen_llama_checkpoint.py --shape ${shape} failed: ${p.stderr}`);
  return JSON.parse(p.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const phase = (c: Child, T: number): Record<string, number> | undefined =>
  (c.data?.phases as Record<string, number>[] | undefined)?.find((p) => p.tokens === T);
const dps = (c: Child | undefined, T: number): number | null => (c?.ok ? phase(c, T)?.docsPerSec ?? null : null);
/** Documents per CPU-second (all threads of the process): on a shared machine the figure that survives contention. */
const dpc = (c: Child | undefined, T: number): number | null => {
  const p = c?.ok ? phase(c, T) : undefined;
  return p && p.cpuSeconds > 0 ? p.docs / p.cpuSeconds : null;
};
const r2 = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? round(a / b, 2) : null);

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function driver(): void {
  const started = new Date().toISOString();
  const la = loadavg(), cpu0 = process.cpuUsage();
  prepareAnchor();
  const gen1b = generate('1b', DIR_1B);
  console.log(`1B-shaped checkpoint: ${JSON.stringify(gen1b)}`);
  const children: Record<string, Child> = {};
  const rows: Record<string, unknown>[] = [];
  const ONLY_8B = env.BENCH_1B === '0';
  for (const threads of ONLY_8B ? [] : THREADS) {
    for (const head of HEADS) {
      const got: Record<string, Child> = {};
      for (const dt of LION_DTYPES) {
        got[`lion-${dt}`] = runLion(DIR_1B, dt, head, threads, LENGTHS, LENGTHS.map((t) => DOCS[t]!), LENGTHS.map((t) => BATCH[t]!), WARMUP_DOCS);
        report(`lion-${dt}`, head, threads, got[`lion-${dt}`]!);
        children[`lion-${dt}/${head}/${threads}`] = got[`lion-${dt}`]!;
        save(rows, children, gen1b, started, la, cpu0, null, true);
      }
      for (const dt of TORCH_DTYPES) {
        got[`torch-${dt}`] = runTorch(dt, head, threads);
        report(`torch-${dt}`, head, threads, got[`torch-${dt}`]!);
        children[`torch-${dt}/${head}/${threads}`] = got[`torch-${dt}`]!;
        save(rows, children, gen1b, started, la, cpu0, null, true);
      }
      for (const [k, c] of Object.entries(got)) children[`${k}/${head}/${threads}`] = c;
      for (const T of LENGTHS) {
        const d = (k: string) => dps(got[k], T);
        const peak = (k: string) => (got[k]?.ok ? phase(got[k]!, T)?.peakRssBytes ?? null : null);
        rows.push({
          threads, head, tokens: T, docs: DOCS[T], batch: BATCH[T],
          docsPerSec: Object.fromEntries(Object.keys(got).map((k) => [k, d(k) === null ? null : round(d(k)!, 3)])),
          docsPerCpuSecond: Object.fromEntries(Object.keys(got).map((k) => [k, dpc(got[k], T) === null ? null : round(dpc(got[k], T)!, 3)])),
          cpuTimeRatios: {
            lionBf16VsTorchBf16: r2(dpc(got['lion-bf16'], T), dpc(got['torch-bf16'], T)), lionInt8VsTorchBf16: r2(dpc(got['lion-int8'], T), dpc(got['torch-bf16'], T)),
            lionFp32VsTorchFp32: r2(dpc(got['lion-fp32'], T), dpc(got['torch-fp32'], T)),
          },
          peakRssGiB: Object.fromEntries(Object.keys(got).map((k) => [k, peak(k) === null ? null : round(peak(k)! / 2 ** 30, 2)])),
          ratios: {
            lionBf16VsTorchBf16: r2(d('lion-bf16'), d('torch-bf16')), lionInt8VsTorchBf16: r2(d('lion-int8'), d('torch-bf16')),
            lionFp32VsTorchFp32: r2(d('lion-fp32'), d('torch-fp32')), lionBf16VsLionFp32: r2(d('lion-bf16'), d('lion-fp32')),
            lionInt8VsLionBf16: r2(d('lion-int8'), d('lion-bf16')),
          },
          targetsMet: {
            bf16AtLeast1_3xTorchBf16: d('lion-bf16') !== null && d('torch-bf16') !== null ? d('lion-bf16')! / d('torch-bf16')! >= 1.3 : null,
            int8AtLeast2xTorchBf16: d('lion-int8') !== null && d('torch-bf16') !== null ? d('lion-int8')! / d('torch-bf16')! >= 2 : null,
          },
        });
      }
      save(rows, children, gen1b, started, la, cpu0, null, true);
    }
  }
  for (const r of rows) console.log(`  per CPU-second t${r.threads} ${r.head} ${r.tokens}: ${JSON.stringify(r.docsPerCpuSecond)} ratios ${JSON.stringify(r.cpuTimeRatios)}`);
  console.log('threads head   T | docs/s lion fp32 bf16 int8 | torch fp32 bf16 | bf16/torchBf16 int8/torchBf16 | peak GiB lion fp32 bf16 int8 torch fp32 bf16');
  for (const r of rows) {
    const d = r.docsPerSec as Record<string, number | null>, g = r.peakRssGiB as Record<string, number | null>, q = r.ratios as Record<string, number | null>;
    const f = (v: number | null | undefined, w = 6) => (v == null ? '-' : v.toFixed(2)).padStart(w);
    console.log(`${String(r.threads).padStart(7)} ${String(r.head).padEnd(6)} ${String(r.tokens).padStart(3)} |${f(d['lion-fp32'], 17)}${f(d['lion-bf16'])}${f(d['lion-int8'])} |` +
      `${f(d['torch-fp32'], 11)}${f(d['torch-bf16'])} |${f(q.lionBf16VsTorchBf16, 15)}${f(q.lionInt8VsTorchBf16, 15)} |` +
      `${f(g['lion-fp32'], 18)}${f(g['lion-bf16'])}${f(g['lion-int8'])}${f(g['torch-fp32'], 11)}${f(g['torch-bf16'])}`);
  }
  let run8b: Record<string, unknown> | null = null;
  // Only when Lion's bf16 load really keeps bf16 weights (1B: 2.5 GB, not 4.9): an fp32 load of 8B needs 32 GB.
  const bf16Load = Object.entries(children).find(([k, x]) => k.startsWith('lion-bf16/') && x.ok)?.[1];
  // BENCH_1B=0 runs the 8B part alone and keeps the 1B results already in encode-real.json.
  const prevPath = join(repoRoot, 'bench/results/encode-real.json');
  const prev = ONLY_8B && existsSync(prevPath) ? JSON.parse(readFileSync(prevPath, 'utf8')) as Record<string, unknown> : null;
  const prevBf16 = prev ? Object.entries(prev.children as Record<string, Child>).find(([k, x]) => k.startsWith('lion-bf16/') && x.ok)?.[1] : undefined;
  const bf16LoadPeak = ((bf16Load ?? prevBf16)?.data?.load as Record<string, number> | undefined)?.peakRssBytes ?? Infinity;
  if (RUN_8B && bf16LoadPeak < 3.5e9) run8b = eightB();
  else if (RUN_8B) {
    run8b = { skipped: `Lion's bf16 load of the 1B checkpoint peaked at ${(bf16LoadPeak / 2 ** 30).toFixed(2)} GiB (bf16 weights are 2.3 GiB): weights are not kept in bf16, so the 8B model (32 GB in fp32) is not loaded` };
    console.log(`8B-shaped run: ${String(run8b.skipped)}`);
  }
  if (prev) {
    const path = writeResult('encode-real', { ...prev, eightB: { ...run8b, measured: started, command: 'BENCH_1B=0 npm run bench:encode-real' } });
    console.log(`wrote ${path} (8B part; the 1B results are kept from ${String(prev.started)})`);
    return;
  }
  const path = save(rows, children, gen1b, started, la, cpu0, run8b, false);
  console.log(`wrote ${path}`);
}

/** Writes bench/results/encode-real.json; called after every head too (`partial: true`), so an interrupted run keeps what it measured. */
function save(rows: Record<string, unknown>[], children: Record<string, Child>, gen1b: Record<string, unknown>, started: string, la: number[],
  cpu0: NodeJS.CpuUsage, run8b: Record<string, unknown> | null, partial: boolean): string {
  const c = process.cpuUsage(cpu0);
  return writeResult('encode-real', { partial,
    benchmark: 'encode-real', command: 'npm run bench:encode-real', started, finished: new Date().toISOString(), host: host(),
    loadavgAtStart: la, driverCpuSeconds: round((c.user + c.system) / 1e6, 1),
    isa: (Object.values(children).find((x) => x.ok && x.data?.impl === 'lion')?.data?.isa) ?? null,
    anchorEnv: Object.values(children).find((x) => x.ok && x.data?.impl === 'torch')?.data?.anchorEnv ?? null,
    checkpoint: { shape: 'Llama-3.2-1B (V 128256, d 2048, 16 layers, 32/8 heads, head_dim 64, SwiGLU 8192, llama3 rope x32, tied)', generator: 'scripts/gen_llama_checkpoint.py --shape 1b', ...gen1b },
    configuration: { lengths: LENGTHS, docs: DOCS, batch: BATCH, warmupDocs: WARMUP_DOCS, threads: THREADS,
      lion: 'loadModel(dir, { dtype }) + encodeTokens (sparse: SparseVec per document; dense: Float32Array)',
      torch: 'scripts/bench_torch_encode_real.py: no_grad; bf16 = model.to(torch.bfloat16); sparse head chunked over 4096 vocabulary rows',
      peakRss: 'VmHWM reset at each phase start: resident weights + that phase\'s activations' },
    targets: { lionBf16VsTorchBf16: 1.3, lionInt8VsTorchBf16: 2, peak8bVsWeights: '≤ 1.15 × bf16 weight bytes + activations' },
    results: rows, eightB: run8b, children,
  });
}

function report(what: string, head: string, threads: number, c: Child): void {
  if (!c.ok) { console.log(`  ${what} ${head} t${threads}: FAILED ${c.error}`); return; }
  const ph = (c.data!.phases as Record<string, number>[]).map((p) => `${p.tokens}: ${p.docsPerSec.toFixed(3)} docs/s, peak ${(p.peakRssBytes / 2 ** 30).toFixed(2)} GiB`).join('; ');
  const ld = c.data!.load as Record<string, number>;
  console.log(`  ${what} ${head} t${threads}: load ${ld.seconds.toFixed(1)} s (peak ${(ld.peakRssBytes / 2 ** 30).toFixed(2)} GiB); ${ph}; wall ${c.wallSeconds} s, load avg ${c.loadavg[1][0]!.toFixed(2)}`);
}

function eightB(): Record<string, unknown> {
  const need = 1.15 * 16.06e9 + 2e9;
  const avail = memAvailable();
  if (avail < need) {
    const why = `MemAvailable ${(avail / 2 ** 30).toFixed(1)} GiB < ${(need / 2 ** 30).toFixed(1)} GiB needed; not run`;
    console.log(`8B-shaped run: ${why}`);
    return { skipped: why };
  }
  const t0 = performance.now();
  const gen = generate('8b', DIR_8B);
  console.log(`8B-shaped checkpoint: ${JSON.stringify(gen)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const threads = Math.max(...THREADS);
  const c = runLion(DIR_8B, 'bf16', 'sparse', threads, [128], [DOCS_8B], [DOCS_8B], 1);
  report('lion-bf16 8B', 'sparse', threads, c);
  if (env.BENCH_KEEP_8B !== '1') rmSync(DIR_8B, { recursive: true, force: true });
  const fileBytes = Number(gen.bytes);
  const out: Record<string, unknown> = { checkpoint: { shape: 'Llama-3-8B (V 128256, d 4096, 32 layers, 32/8 heads, SwiGLU 14336, untied head)', ...gen, deletedAfter: env.BENCH_KEEP_8B !== '1' }, run: c };
  if (c.ok) {
    const ph = phase(c, 128)!, ld = c.data!.load as Record<string, number>;
    const w = (c.data!.weightBytes as number | null) ?? fileBytes;
    const activations = ph.peakRssBytes - ld.rssBytes;
    const peak = Math.max(ph.peakRssBytes, ld.peakRssBytes);
    out.summary = {
      weightBytes: w, loadPeakRssBytes: ld.peakRssBytes, rssAfterLoadBytes: ld.rssBytes, encodePeakRssBytes: ph.peakRssBytes,
      activationBytes: activations, bound: round(1.15 * w + Math.max(0, activations)), peakOverBound: round(peak / (1.15 * w + Math.max(0, activations)), 3),
      loadPeakOverWeights: round(ld.peakRssBytes / w, 3), docsPerSec: ph.docsPerSec, loadSeconds: ld.seconds,
      targetMet: peak <= 1.15 * w + Math.max(0, activations),
    };
    console.log(`8B: weights ${(w / 2 ** 30).toFixed(2)} GiB, load peak ${(ld.peakRssBytes / 2 ** 30).toFixed(2)} GiB, encode peak ${(ph.peakRssBytes / 2 ** 30).toFixed(2)} GiB, ` +
      `activations ${(activations / 2 ** 30).toFixed(2)} GiB -> peak / (1.15 W + A) = ${(out.summary as Record<string, number>).peakOverBound}`);
  }
  return out;
}

const w = process.argv.indexOf('--worker');
if (w >= 0) {
  const [dir, dtype, head, lengths, docs, batch, warm] = process.argv.slice(w + 1);
  const nums = (s: string) => s.split(',').map(Number);
  worker({ dir: dir!, dtype: dtype!, head: head as 'sparse' | 'dense', lengths: nums(lengths!), docs: nums(docs!), batch: nums(batch!), warmupDocs: Number(warm) });
} else if (existsSync('/proc/self/status')) {
  driver();
} else {
  throw new Error('bench:encode-real reads /proc/self/status (Linux only)');
}
