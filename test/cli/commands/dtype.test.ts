// `--dtype` end to end through the CLI entry point on the shipped demonstration models: `lion encode` in fp32,
// bf16, int8 and auto prints and records what it computed with, and its vectors stay close to fp32's; bad values
// of --dtype and --precision are usage errors on every command that takes them.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../../src/cli/main.js';
import { readDenseShard, readSparseJsonl } from '../../../src/io/vectors.js';
import { getKernels } from '../../../src/kernels/index.js';
import { defaultDtype } from '../../../src/model/precision.js';
import { fixtures, repoRoot, tempDir } from '../../helpers.js';

async function lion(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  try { return { code: await main(args), err }; } finally { process.stderr.write = write; }
}

const sp = join(repoRoot, 'models', 'lion-demo-sp'), ds = join(repoRoot, 'models', 'lion-demo-ds');

function corpus(n: number): string {
  const lines = readFileSync(join(fixtures, 'cranfield', 'corpus.jsonl'), 'utf8').split('\n').slice(0, n);
  const f = join(tempDir(), 'corpus.jsonl');
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

function top10(v: Record<string, number>): Set<string> {
  return new Set(Object.entries(v).sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0])).slice(0, 10).map(([t]) => t));
}

test('lion encode --dtype fp32|bf16|int8|auto: printed, recorded in <out>.json, vectors close to fp32', async () => {
  const docs = corpus(16), d = tempDir();
  const auto = defaultDtype(getKernels());
  const sparse: Record<string, Map<string, Record<string, number>>> = {};
  const dense: Record<string, Float32Array> = {};
  for (const dtype of ['fp32', 'bf16', 'int8', 'auto'] as const) {
    const outS = join(d, `sp-${dtype}.jsonl`), outD = join(d, `ds-${dtype}.f32`);
    let r = await lion(['encode', '--paradigm', 'sparse', '--model', sp, '--corpus', docs, '--out', outS, '--max-length', '96', '--dtype', dtype]);
    assert.equal(r.code, 0, r.err);
    const want = dtype === 'auto' ? auto : dtype;
    assert.match(r.err, new RegExp(`encode: dtype ${want}${dtype === 'auto' ? ' \\(auto\\)' : ''}, precision fp32, kernels ${getKernels().name}`));
    const meta = JSON.parse(readFileSync(`${outS}.json`, 'utf8')) as Record<string, unknown>;
    assert.equal(meta['dtype'], want);
    assert.equal(meta['dtypeRequested'], dtype);
    assert.deepEqual(Object.keys(meta['isa'] as object), ['bf16', 'int8']);
    const vecs = new Map<string, Record<string, number>>();
    for await (const x of readSparseJsonl(outS)) vecs.set(x.id, Object.fromEntries(Array.from(x.vec.terms, (t, i) => [String(t), x.vec.weights[i]!])));
    sparse[dtype] = vecs;
    r = await lion(['encode', '--paradigm', 'dense', '--model', ds, '--corpus', docs, '--out', outD, '--max-length', '96', '--dtype', dtype]);
    assert.equal(r.code, 0, r.err);
    dense[dtype] = (await readDenseShard(outD)).data;
  }
  for (const dtype of ['bf16', 'int8'] as const) {
    let overlap = 0;
    for (const [id, v] of sparse['fp32']!) {
      const a = top10(v), b = top10(sparse[dtype]!.get(id)!);
      overlap += [...a].filter((t) => b.has(t)).length / 10;
    }
    overlap /= sparse['fp32']!.size;
    assert.ok(overlap >= (dtype === 'bf16' ? 0.95 : 0.9), `${dtype}: sparse top-10 overlap ${overlap}`);
    const a = dense['fp32']!, b = dense[dtype]!, C = 128;
    for (let r = 0; r < a.length / C; r++) {
      let x = 0, y = 0, z = 0;
      for (let c = r * C; c < (r + 1) * C; c++) { x += a[c]! * b[c]!; y += a[c]! ** 2; z += b[c]! ** 2; }
      assert.ok(x / Math.sqrt(y * z) >= (dtype === 'bf16' ? 0.999 : 0.995), `${dtype}: dense cosine of row ${r}`);
    }
  }
  assert.deepEqual(sparse['auto'], sparse[auto], 'auto is the default dtype of these kernels');
});

test('bad --dtype / --precision values are usage errors naming the flag', async () => {
  const d = tempDir();
  const cases: [string[], RegExp][] = [
    [['encode', '--paradigm', 'dense', '--model', ds, '--corpus', corpus(2), '--out', join(d, 'x'), '--dtype', 'fp16'], /--dtype must be one of fp32, bf16, int8, auto, got 'fp16'/],
    [['rerank', 'score', '--reranker', ds, '--input', 'x', '--corpus', 'y', '--out', join(d, 'y'), '--dtype', 'f32'], /--dtype must be/],
    [['serve', '--collection', join(fixtures, 'cranfield'), '--demo-models', '--dtype', 'int4'], /--dtype must be/],
    [['train', '--paradigm', 'sparse', '--objective', 'cl', '--model', sp, '--train', 'x', '--corpus', 'y', '--out', join(d, 'z'), '--precision', 'fp16'], /--precision must be one of fp32, bf16, got 'fp16'/],
    [['mntp', '--model', sp, '--corpus', 'y', '--out', join(d, 'w'), '--precision', 'int8'], /--precision must be one of fp32, bf16/],
  ];
  for (const [args, re] of cases) {
    const r = await lion(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
  for (const cmd of [['encode'], ['serve'], ['rerank', 'score']]) {
    const r = await lion(['help', ...cmd]);
    assert.equal(r.code, 0);
  }
});
