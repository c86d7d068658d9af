import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import {
  clKd, flops, infoNCE, marginMSE, meanNonZeros, ownContextRow, retrievalLoss, type Objective, type RepBatch,
} from '../../src/train/losses.js';
import { fixtures } from '../helpers.js';

interface GoldenCase {
  name: string; kind: 'cl' | 'kd' | 'clkd'; B: number; n: number; D: number; scale: number;
  lambdaQ: number; lambdaD: number; q: number[]; c: number[]; teacher?: number[]; teacherMargin?: number[];
  rank: number; flopsQ: number; flopsD: number; loss: number; terms: { cl?: number; kl?: number };
  dq: number[]; dc: number[];
}
const golden = JSON.parse(readFileSync(join(fixtures, 'golden-losses', 'losses.json'), 'utf8')) as { cases: GoldenCase[] };

function close(actual: number, expected: number, what: string, rel = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-6), `${what}: ${actual} vs ${expected}`);
}
function closeArr(actual: ArrayLike<number>, expected: number[], what: string, rel = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  const scale = Math.max(...expected.map(Math.abs), 1e-12);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(Math.abs(actual[k]! - expected[k]!) <= rel * Math.max(Math.abs(expected[k]!), scale * 1e-3),
      `${what}[${k}]: ${actual[k]} vs ${expected[k]}`);
  }
}

const objectiveOf = { cl: 'cl', kd: 'kd', clkd: 'cl+kd' } as const satisfies Record<GoldenCase['kind'], Objective>;

for (const g of golden.cases) {
  test(`${g.name} matches PyTorch (loss and gradients)`, () => {
    const r: RepBatch = { q: Float32Array.from(g.q), c: Float32Array.from(g.c), B: g.B, n: g.n, dim: g.D, scale: g.scale };
    const grads = { dq: new Float32Array(r.q.length), dc: new Float32Array(r.c.length) };
    const teacher = { margin: g.teacherMargin && Float64Array.from(g.teacherMargin), scores: g.teacher && Float64Array.from(g.teacher) };
    const t = retrievalLoss(objectiveOf[g.kind], r, teacher, grads, { lambdaQ: g.lambdaQ, lambdaD: g.lambdaD });
    close(t.loss, g.loss, 'loss');
    close(t.rank, g.rank, 'rank');
    close(t.flopsQ, g.flopsQ, 'flopsQ');
    close(t.flopsD, g.flopsD, 'flopsD');
    if (g.terms.cl !== undefined) { close(t.cl!, g.terms.cl, 'cl'); close(t.kl!, g.terms.kl!, 'kl'); }
    closeArr(grads.dq, g.dq, 'dq');
    closeArr(grads.dc, g.dc, 'dc');
  });
}

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
}

test('finite differences agree with the analytic gradients of every loss', () => {
  const rnd = rand(42);
  const B = 2, n = 2, dim = 5;
  const mk = (len: number) => Float32Array.from({ length: len }, () => rnd());
  const q = mk(B * dim), c = mk(B * (1 + n) * dim);
  const teacher = Float64Array.from({ length: B * (1 + n) }, () => rnd() * 4);
  const fns: Array<[string, (r: RepBatch, g: { dq: Float32Array; dc: Float32Array } | null) => number]> = [
    ['infoNCE', (r, gr) => infoNCE(r, gr)],
    ['clKd', (r, gr) => clKd(r, teacher, gr).loss],
    ['flops(c)', (r, gr) => flops(r.c, B * (1 + n), dim, gr ? gr.dc : null)],
  ];
  for (const [name, f] of fns) {
    const r: RepBatch = { q: q.slice(), c: c.slice(), B, n, dim, scale: 3 };
    const gr = { dq: new Float32Array(q.length), dc: new Float32Array(c.length) };
    f(r, gr);
    for (const [buf, grad, label] of [[r.q, gr.dq, 'q'], [r.c, gr.dc, 'c']] as const) {
      for (let k = 0; k < buf.length; k += 3) {
        const h = 1e-2;
        const x = buf[k]!;
        buf[k] = x + h; const up = f(r, null);
        buf[k] = x - h; const dn = f(r, null);
        buf[k] = x;
        const fd = (up - dn) / (2 * h);
        assert.ok(Math.abs(fd - grad[k]!) < 2e-3 + 1e-2 * Math.abs(fd), `${name} d${label}[${k}]: fd ${fd} vs ${grad[k]}`);
      }
    }
  }
});

test('gradients accumulate into the buffers and scale with the weight', () => {
  const g = golden.cases.find((x) => x.name === 'cl-dense')!;
  const r: RepBatch = { q: Float32Array.from(g.q), c: Float32Array.from(g.c), B: g.B, n: g.n, dim: g.D, scale: g.scale };
  const grads = { dq: new Float32Array(r.q.length), dc: new Float32Array(r.c.length) };
  infoNCE(r, grads, 0.5);
  infoNCE(r, grads, 0.5);
  closeArr(grads.dq, g.dq, 'dq (two halves)');
});

test('MarginMSE rejects more than one negative and a wrong teacher length', () => {
  const r: RepBatch = { q: new Float32Array(4), c: new Float32Array(12), B: 2, n: 2, dim: 2, scale: 1 };
  assert.throws(() => marginMSE(r, new Float32Array(2)), /one negative/);
  const r1: RepBatch = { q: new Float32Array(4), c: new Float32Array(8), B: 2, n: 1, dim: 2, scale: 1 };
  assert.throws(() => marginMSE(r1, new Float32Array(3)), /teacher margins/);
  assert.throws(() => retrievalLoss('kd', r1, {}, null), /teacher scores/);
  assert.throws(() => infoNCE({ ...r, c: new Float32Array(5) }), /expected B\(1\+n\)/);
});

test('context layout: positives first, then each query\'s negatives contiguously', () => {
  assert.deepEqual([0, 1, 2].map((j) => ownContextRow(3, 2, 1, j)), [1, 5, 6]);
  assert.equal(meanNonZeros(Float32Array.from([0, 1, 0, 2, 3, 0]), 2, 3), 1.5);
});

for (const backend of ['ref', 'native'] as const) {
  test(`losses run their products on Kernels.gemm: the ${backend} backend matches PyTorch on every golden case`, async (t) => {
    const { ref, loadNative } = await import('../../src/kernels/index.js');
    let k;
    try { k = backend === 'ref' ? ref : loadNative(); } catch (e) { return t.skip(`native kernels do not load: ${(e as Error).message}`); }
    for (const g of golden.cases) {
      const r: RepBatch = { q: Float32Array.from(g.q), c: Float32Array.from(g.c), B: g.B, n: g.n, dim: g.D, scale: g.scale };
      const grads = { dq: new Float32Array(r.q.length), dc: new Float32Array(r.c.length) };
      const teacher = { margin: g.teacherMargin && Float64Array.from(g.teacherMargin), scores: g.teacher && Float64Array.from(g.teacher) };
      const terms = retrievalLoss(objectiveOf[g.kind], r, teacher, grads, { lambdaQ: g.lambdaQ, lambdaD: g.lambdaD, kernels: k });
      close(terms.loss, g.loss, `${g.name} loss`);
      closeArr(grads.dq, g.dq, `${g.name} dq`);
      closeArr(grads.dc, g.dc, `${g.name} dc`);
    }
  });
}
