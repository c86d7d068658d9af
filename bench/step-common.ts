/**
 * What bench/train-step.ts, bench/encode.ts and bench/train-losses.ts share: the reference configuration of
 * issue 3 (bidirectional Llama, 4 layers, d = 256, 4 heads, SwiGLU 688, V = 32,000; 16 queries × 32 tokens,
 * 128 documents × 128 tokens), building Lion's model on it, one Lion training step exactly as the trainer
 * (src/train/trainer.ts, microStep + runLoop) takes it, a per-kernel timer, the FLOP count of a step, and the
 * PyTorch anchor (scripts/bench_torch_step.py) run the way it runs well here.
 *
 * Layout: each bench is a driver that spawns one child per measured configuration (Lion at LION_THREADS = 1
 * and 2, read once per process by the addon; the anchor at torch.set_num_threads = 1 and 2), so every child's
 * peak RSS is that configuration's own. Children print one JSON line on stdout.
 *
 * Anchor environment (bench/anchor.ts): jemalloc via LD_PRELOAD with MALLOC_CONF keeping freed memory, OpenBLAS
 * for torch's float32 matmuls, oneDNN for its bf16 ones, installed with apt-get when missing (as root); the
 * anchor checks inside its own process what it loaded (scripts/anchor_env.py) and the bench refuses to write a
 * result when jemalloc or OpenBLAS is not actually loaded (without them PyTorch ran 3x slower on a fresh
 * machine and the ratios were inflated).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { anchorCommand, anchorEnv, checkRefusal, PYTHON, repoRoot } from './anchor.js';
import { tokenBatch } from '../src/encoders/batch.js';
import { denseBackward, denseForward, type DenseForward } from '../src/encoders/dense.js';
import { sparseBackward, sparseForward, type SparseForward } from '../src/encoders/sparse.js';
import { getKernels } from '../src/kernels/index.js';
import type { Kernels } from '../src/kernels/types.js';
import { LlamaModel, type Trainable } from '../src/model/llama.js';
import type { ModelConfig } from '../src/model/registry.js';
import { initWeights } from '../src/train/init.js';
import { retrievalLoss, type Objective } from '../src/train/losses.js';
import { adamwStep, clipGradNorm, type AdamWState } from '../src/train/optimizer.js';

export { anchorEnv, AnchorRefused, JEMALLOC, PYTHON, repoRoot } from './anchor.js';

/** The reference configuration of issue 3. */
export const REF = { V: 32000, C: 256, L: 4, H: 4, F: 688, B: 16, Tq: 32, Nc: 128, Td: 128 } as const;

export const refConfig: ModelConfig = {
  modelType: 'llama', vocabSize: REF.V, hiddenSize: REF.C, numLayers: REF.L, numHeads: REF.H, numKvHeads: REF.H,
  headDim: REF.C / REF.H, intermediateSize: REF.F, rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: null,
  maxPositionEmbeddings: 2048, tieWordEmbeddings: false, qkvBias: false, oBias: false, mlpBias: false,
  bosTokenId: null, eosTokenId: null,
};

import { median } from './stats.js';
export { median };

export const round = (x: number, d = 3): number => +x.toFixed(d);

/** a ÷ b to 2 decimals, null when either is missing. */
export const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? round(a / b, 2) : null);

/** A child's figure `key` when it is a number. */
export const field = (r: ChildResult, key: string): number | null => (typeof r.data?.[key] === 'number' ? (r.data[key] as number) : null);

/** A child's record for the JSON: its data, or its error. */
export const shown = (r: ChildResult): unknown => (r.ok ? r.data : { error: r.error });

/** Run counts and thread list every bench reads from the environment. */
export const benchEnv = {
  steps: Number(process.env.BENCH_STEPS ?? 3),
  warmup: Number(process.env.BENCH_WARMUP ?? 1),
  threads: (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number),
};

/** Seeded token ids in [0, V), the anchor draws its own with the same sizes. */
export function randomSeqs(n: number, len: number, V: number, seed: number): number[][] {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  return Array.from({ length: n }, () => Array.from({ length: len }, () => next() % V));
}

/**
 * A `Kernels` backend that times every call by kernel name: wall milliseconds and process CPU milliseconds (all
 * threads, so the pool's work counts; on a shared machine the CPU figure is the one that survives contention).
 * The overhead is a `performance.now` and a `process.cpuUsage` pair per call (~2 µs).
 */
export function timedKernels(k: Kernels): { kernels: Kernels; ms: Map<string, number>; cpuMs: Map<string, number>; calls: Map<string, number> } {
  const ms = new Map<string, number>(), cpuMs = new Map<string, number>(), calls = new Map<string, number>();
  const kernels = new Proxy(k, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      const name = String(prop);
      return (...args: unknown[]) => {
        const t = performance.now(), c = process.cpuUsage();
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        const dc = process.cpuUsage(c);
        ms.set(name, (ms.get(name) ?? 0) + performance.now() - t);
        cpuMs.set(name, (cpuMs.get(name) ?? 0) + (dc.user + dc.system) / 1000);
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return r;
      };
    },
  });
  return { kernels, ms, cpuMs, calls };
}

/** Reduced-precision options of a bench model (issue 9): matmul precision and activation recomputation. */
export interface BenchPrecision { precision?: 'fp32' | 'bf16'; recompute?: boolean }

/** `--precision bf16` / `--recompute` from a worker's argv. */
export function precisionArgs(argv: string[]): BenchPrecision {
  const i = argv.indexOf('--precision');
  return { precision: i >= 0 && argv[i + 1] === 'bf16' ? 'bf16' : 'fp32', recompute: argv.includes('--recompute') };
}

/** Lion's model on the reference configuration, weights N(0, 0.02) as transformers initialises them. */
export function buildModel(trainable: Trainable, kernels: Kernels, withHead = true, prec: BenchPrecision = {}): LlamaModel {
  const extra = prec.precision === 'bf16' || prec.recompute ? { precision: prec.precision ?? 'fp32', recompute: prec.recompute ?? false } : {};
  const model = new LlamaModel(refConfig, { trainable, withHead, bidirectional: true, kernels, ...extra } as ConstructorParameters<typeof LlamaModel>[1]);
  initWeights(model, 0);
  return model;
}

/** Phase timings (ms) of one step, each around a public Lion call. */
export type Phases = Record<string, number>;

/** Inputs of one training step: the 16 query token lists, then the 128 document token lists. */
export function stepInputs(seed = 1): { seqs: number[][]; teacher: Float64Array } {
  const seqs = [...randomSeqs(REF.B, REF.Tq, REF.V, seed), ...randomSeqs(REF.Nc, REF.Td, REF.V, seed + 1)];
  const n = REF.Nc / REF.B - 1;
  const teacher = Float64Array.from({ length: REF.B * (1 + n) }, (_, i) => Math.sin(i * 12.9898) * 3);
  return { seqs, teacher };
}

/**
 * One optimiser step as src/train/trainer.ts runs it (one micro-batch): zero gradients, encode queries (T = 32)
 * and contexts (T = 128) as two batches in two activation slots, the loss and its gradient w.r.t. the reps, the head's and the trunk's backward, clip
 * the global gradient norm to 1.0, AdamW. Returns the loss and the time of each phase.
 */
export function lionStep(model: LlamaModel, adam: AdamWState, paradigm: 'sparse' | 'dense', objective: Objective,
  seqs: number[][], teacher: Float64Array, lambdas: [number, number] = [0, 0]): { loss: number; phases: Phases; phasesCpu: Phases; nnzPerRow: number } {
  const phases: Phases = {}, phasesCpu: Phases = {};
  let t = performance.now(), c = process.cpuUsage();
  const lap = (name: string) => {
    const now = performance.now(), dc = process.cpuUsage(c);
    phases[name] = (phases[name] ?? 0) + now - t;
    phasesCpu[name] = (phasesCpu[name] ?? 0) + (dc.user + dc.system) / 1000;
    t = now; c = process.cpuUsage();
  };
  const B = REF.B, Nc = REF.Nc, n = Nc / B - 1;
  model.zeroGrad();
  lap('zeroGrad');
  // Queries and contexts as two batches in two activation slots, each padded to its own longest row.
  const qb = tokenBatch(seqs.slice(0, B), 0, REF.Tq), cb = tokenBatch(seqs.slice(B), 0, REF.Td);
  const sparse = paradigm === 'sparse';
  const run = (tb: typeof qb, slot: string): SparseForward | DenseForward => (sparse ? sparseForward(model, tb, true, slot) : denseForward(model, tb, true, slot));
  const fq = run(qb, 'queries'), fc = run(cb, 'contexts');
  lap('forward (trunk + head)');
  const dim = sparse ? REF.V : REF.C;
  const grads = { dq: new Float32Array(B * dim), dc: new Float32Array(Nc * dim) }; // (B, dim), (Nc, dim)
  const terms = retrievalLoss(objective, { q: fq.rep, c: fc.rep, B, n, dim, scale: sparse ? 1 : 100 },
    { scores: teacher }, grads, { lambdaQ: lambdas[0], lambdaD: lambdas[1], weight: 1, kernels: model.k });
  lap('loss (+ gradient w.r.t. reps)');
  if (sparse) { sparseBackward(model, fc as SparseForward, grads.dc); sparseBackward(model, fq as SparseForward, grads.dq); }
  else { denseBackward(model, fc as DenseForward, grads.dc); denseBackward(model, fq as DenseForward, grads.dq); }
  lap('backward (head + trunk)');
  const params = model.trainableParams();
  clipGradNorm(params, 1.0);
  lap('clipGradNorm (TypeScript)');
  adamwStep(params, adam, 1e-4, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  lap('adamwStep (TypeScript)');
  let nnz = 0;
  if (sparse) for (const r of [fq.rep, fc.rep]) for (let i = 0; i < r.length; i++) if (r[i] !== 0) nnz++;
  return { loss: terms.loss, phases, phasesCpu, nnzPerRow: sparse ? nnz / (B + Nc) : dim };
}

/** AdamW state over the model's moments (as runLoop builds it). */
export function adamState(model: LlamaModel): AdamWState {
  const adam: AdamWState = { step: 0, m: new Map(), v: new Map() };
  for (const p of model.trainableParams()) { const mv = model.moments(p.name); adam.m.set(p.name, mv.m); adam.v.set(p.name, mv.v); }
  return adam;
}

/**
 * FLOPs of one training step on the real tokens (16·32 + 128·128), counting 2 per multiply-add:
 * trunk linears 2·P per token forward and 4·P backward (dx and dW; P = per-layer linear weights × layers),
 * attention 4·T²·C per sequence and layer forward and 8·T²·C backward (4 products, no recomputation counted),
 * sparse head forward 2·N·V·C; its backward either through the argmax positions only (4·C per non-zero rep entry,
 * Lion) or dense through the (N, V) logits (4·N·V·C, what autograd runs); the loss 6·B·Nc·dim.
 */
export function stepFlops(opts: { head: 'sparse' | 'dense'; nnzPerRow?: number; denseHeadBackward?: boolean }): Record<string, number> {
  const { V, C, L, F, B, Tq, Nc, Td } = REF;
  const P = L * (4 * C * C + 3 * C * F);
  const tokens = B * Tq + Nc * Td;
  const attn = L * 4 * C * (B * Tq * Tq + Nc * Td * Td);
  const out: Record<string, number> = {
    trunkForward: 2 * P * tokens + attn,
    trunkBackward: 4 * P * tokens + 2 * attn,
  };
  if (opts.head === 'sparse') {
    out.headForward = 2 * tokens * V * C;
    out.headBackward = opts.denseHeadBackward ? 4 * tokens * V * C : 4 * C * (opts.nnzPerRow ?? V) * (B + Nc);
    out.loss = 6 * B * Nc * V;
  } else {
    out.headForward = 4 * tokens * C;
    out.headBackward = 8 * tokens * C;
    out.loss = 6 * B * Nc * C;
  }
  out.total = Object.values(out).reduce((a, b) => a + b, 0);
  return out;
}

/** GFLOP/s of Lion's GEMM on the step's own shapes, measured in this process (median of `reps`). */
export function gemmThroughput(k: Kernels, reps = 3): { shape: string; gflops: number; gflopsPerCpuSecond: number }[] {
  const shapes: [number, number, number][] = [[18432, 256, 688], [18432, 688, 256], [512, 256, 32000]];
  const out: { shape: string; gflops: number; gflopsPerCpuSecond: number }[] = [];
  for (const [M, K, N] of shapes) {
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i) * 0.1);
    const b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i) * 0.1);
    const c = new Float32Array(M * N);
    k.gemm(c, a, b, M, N, K, false, true, 1, 0);
    const s: number[] = [], cs: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now(), c0 = process.cpuUsage();
      k.gemm(c, a, b, M, N, K, false, true, 1, 0);
      const dc = process.cpuUsage(c0);
      s.push((performance.now() - t) / 1000);
      cs.push((dc.user + dc.system) / 1e6);
    }
    const flop = 2 * M * N * K;
    out.push({ shape: `(${M},${K},${N}) x·Wᵀ`, gflops: round(flop / median(s) / 1e9, 1), gflopsPerCpuSecond: round(flop / median(cs) / 1e9, 1) });
  }
  return out;
}

export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Host facts recorded next to every figure (the machine is shared; load is part of the context). */
export function host(): Record<string, unknown> {
  return { cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg().map((x) => round(x, 2)),
    totalMemBytes: totalmem(), freeMemBytes: freemem(), node: process.version };
}

export interface ChildResult { ok: boolean; data?: Record<string, unknown>; error?: string; command: string }

/**
 * Run scripts/bench_torch_step.py (or `script`) with `args` on `threads` threads; parses its JSON line. The
 * child checks its own environment (jemalloc, OpenBLAS, oneDNN for --autocast/--dtype bf16) and exits 3 when it
 * is not what the anchor needs: that throws AnchorRefused, so the bench stops without writing a result.
 */
export function runAnchor(args: string[], threads: number, script = 'scripts/bench_torch_step.py'): ChildResult {
  const { env, described } = anchorEnv(threads);
  const full = [...args, '--threads', String(threads)];
  const command = anchorCommand(described, script, full);
  const p = spawnSync(PYTHON, [join(repoRoot, script), ...full], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  checkRefusal(p, `anchor ${script} ${args.join(' ')}`);
  return parseChild(p, command);
}

/** Run this bench file again as a Lion worker child with LION_THREADS = threads. */
export function runLionChild(file: string, args: string[], threads: number): ChildResult {
  const env = { ...process.env, LION_THREADS: String(threads), LION_BACKEND: process.env.LION_BACKEND ?? 'native' };
  const command = `LION_THREADS=${threads} node ${file.replace(repoRoot + '/', '')} --worker ${args.join(' ')}`;
  return parseChild(spawnSync(process.execPath, [file, '--worker', ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 }), command);
}

function parseChild(p: ReturnType<typeof spawnSync>, command: string): ChildResult {
  const stdout = String(p.stdout ?? ''), stderr = String(p.stderr ?? '');
  const line = stdout.trim().split('\n').pop() ?? '';
  if (p.status === 0) {
    try { return { ok: true, data: JSON.parse(line) as Record<string, unknown>, command }; } catch { /* fall through */ }
  }
  return { ok: false, error: `exit ${p.status ?? p.signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, command };
}

/** Writes bench/results/<name>.json (pretty, trailing newline). */
export function writeResult(name: string, obj: unknown): string {
  const dir = join(repoRoot, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(obj, null, 2)}\n`);
  return path;
}

/** Per-kernel wall and CPU milliseconds per step, largest CPU first. */
export function kernelTable(t: { ms: Map<string, number>; cpuMs: Map<string, number>; calls: Map<string, number> }, steps: number):
  { kernel: string; msPerStep: number; cpuMsPerStep: number; callsPerStep: number }[] {
  return [...t.ms.keys()].map((kernel) => ({
    kernel, msPerStep: round((t.ms.get(kernel) ?? 0) / steps, 1), cpuMsPerStep: round((t.cpuMs.get(kernel) ?? 0) / steps, 1),
    callsPerStep: (t.calls.get(kernel) ?? 0) / steps,
  })).sort((a, b) => b.cpuMsPerStep - a.cpuMsPerStep);
}

/** Clears a timer's tallies (after warm-up). */
export function resetTimer(t: { ms: Map<string, number>; cpuMs: Map<string, number>; calls: Map<string, number> }): void {
  t.ms.clear(); t.cpuMs.clear(); t.calls.clear();
}

export { getKernels };
