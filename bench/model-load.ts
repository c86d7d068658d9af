/**
 * Model loading benchmark: peak memory and time to load a Llama-3.2-1B-shaped bf16 checkpoint (random
 * weights, 1,235,814,400 parameters, written here in safetensors layout) into Lion's float32 arena.
 * Target (issue 3): peak resident memory ≤ 2× the model's float32 size. Anchor: the same file loaded the
 * plain Python way (numpy reads each tensor and widens it to float32, as `torch_dtype=float32` loading
 * does), in the same run when /usr/bin/python3 with numpy exists.
 *
 * Each load runs in a fresh child process so its peak RSS (getrusage maxrss) is its own; medians of
 * BENCH_RUNS runs (default 3). Writes bench/results/model-load.json.
 *
 * Run: npm run bench:model-load   (BENCH_SIZE=small for a 0.1B-parameter quick check; needs ~2.5 GB disk)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/model/checkpoint.js';
import { normaliseConfig, parameterSpecs } from '../src/model/registry.js';
import { ref } from '../src/kernels/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const CONFIGS: Record<string, Record<string, unknown>> = {
  '1b': {
    model_type: 'llama', vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, rms_norm_eps: 1e-5, rope_theta: 500000,
    max_position_embeddings: 131072, tie_word_embeddings: true, bos_token_id: 128000, eos_token_id: 128001,
    rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  },
  small: {
    model_type: 'llama', vocab_size: 32000, hidden_size: 1024, intermediate_size: 2816, num_hidden_layers: 6,
    num_attention_heads: 16, num_key_value_heads: 4, rms_norm_eps: 1e-5, rope_theta: 10000,
    max_position_embeddings: 4096, tie_word_embeddings: false,
  },
};

/** Streams a random bf16 checkpoint to dir (values ~N(0, 0.02)-ish, exponents kept small). */
function writeCheckpoint(dir: string, raw: Record<string, unknown>): number {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  const specs = parameterSpecs(normaliseConfig({ file: 'config.json', raw }));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0, params = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    header[s.name] = { dtype: 'BF16', shape: s.shape, data_offsets: [off, off + 2 * n] };
    off += 2 * n; params += n;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(h.length));
  writeSync(fd, len); writeSync(fd, h);
  const chunk = new Uint16Array(1 << 22);
  let seed = 12345;
  for (let i = 0; i < chunk.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    chunk[i] = (seed >>> 16) & 0x80ff | 0x3c00; // sign, small exponent, random mantissa: |x| in [2^-8, 2^-7)
  }
  let left = off;
  while (left > 0) {
    const n = Math.min(left, chunk.byteLength);
    writeSync(fd, new Uint8Array(chunk.buffer, 0, n));
    left -= n;
  }
  closeSync(fd);
  return params;
}

const PY_ANCHOR = String.raw`
import json, struct, sys, time, resource, numpy as np
f = sys.argv[1]
t0 = time.time()
with open(f, 'rb') as fh:
    n = struct.unpack('<Q', fh.read(8))[0]
    hdr = json.loads(fh.read(n))
    base = 8 + n
    sd = {}
    for k, v in hdr.items():
        if k == '__metadata__': continue
        b, e = v['data_offsets']
        fh.seek(base + b)
        u = np.frombuffer(fh.read(e - b), dtype=np.uint16)
        sd[k] = (u.astype(np.uint32) << 16).view(np.float32).reshape(v['shape'])
print(json.dumps({'seconds': time.time() - t0, 'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
`;
import { median } from './stats.js';


function child(dir: string): void {
  const t0 = performance.now();
  const m = loadModel(dir, { kernels: ref, trainable: 'none' });
  const seconds = (performance.now() - t0) / 1000;
  const arenaBytes = m.weights.bytes;
  process.stdout.write(JSON.stringify({ seconds, arenaBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

function main(): void {
  const size = process.env.BENCH_SIZE ?? '1b';
  const raw = CONFIGS[size];
  if (!raw) throw new Error(`BENCH_SIZE must be one of ${Object.keys(CONFIGS).join(', ')}`);
  const dir = join(tmpdir(), `lion-bench-load-${size}-${process.pid}`);
  try {
    const params = writeCheckpoint(dir, raw);
    const fp32 = params * 4;
    const lion: { seconds: number; maxRssBytes: number }[] = [];
    const py: { seconds: number; maxRssBytes: number }[] = [];
    const self = fileURLToPath(import.meta.url);
    const hasPy = existsSync('/usr/bin/python3');
    for (let r = 0; r < RUNS; r++) {
      const c = spawnSync(process.execPath, [self, '--child', dir], { encoding: 'utf8' });
      if (c.status !== 0) throw new Error(`child failed: ${c.stderr}`);
      lion.push(JSON.parse(c.stdout.trim().split('\n').at(-1)!));
      if (hasPy) {
        const p = spawnSync('/usr/bin/python3', ['-c', PY_ANCHOR, join(dir, 'model.safetensors')], { encoding: 'utf8' });
        if (p.status === 0) py.push(JSON.parse(p.stdout.trim()));
      }
    }
    const gb = (b: number) => Math.round((b / 2 ** 30) * 1000) / 1000;
    const lionRss = median(lion.map((x) => x.maxRssBytes));
    const out = {
      bench: 'model-load', size, params, fp32GiB: gb(fp32), fileGiB: gb(params * 2), runs: RUNS,
      lion: { seconds: median(lion.map((x) => x.seconds)), peakRssGiB: gb(lionRss), peakOverFp32: Math.round((lionRss / fp32) * 1000) / 1000 },
      anchor: py.length ? { what: 'numpy: read each bf16 tensor and widen to float32 (python3)', seconds: median(py.map((x) => x.seconds)), peakRssGiB: gb(median(py.map((x) => x.maxRssBytes))), peakOverFp32: Math.round((median(py.map((x) => x.maxRssBytes)) / fp32) * 1000) / 1000 } : null,
      target: 'peak RSS <= 2x float32 size',
      pass: lionRss <= 2 * fp32,
      command: `BENCH_SIZE=${size} npm run bench:model-load`,
    };
    console.log(JSON.stringify(out, null, 2));
    mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench', 'results', size === '1b' ? 'model-load.json' : `model-load-${size}.json`), JSON.stringify(out, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(process.argv[3]!);
else main();
