import { strict as assert } from 'node:assert';
import test from 'node:test';
import { lengthBatches, tokenBatch } from '../../src/encoders/batch.js';
import { denseBackward, denseForward } from '../../src/encoders/dense.js';
import { encodeRecords, parseShard, shardOf } from '../../src/encoders/encode.js';
import { sparseBackward, sparseForward, sparseScale, toSparseVec } from '../../src/encoders/sparse.js';
import { tinyModel } from './tiny.js';

const seqs = [[1, 5, 9, 12], [1, 7], [1, 3, 3, 8, 20, 33, 40]];

test('token batches are left-padded with the pad id and truncated at the maximum length', () => {
  const b = tokenBatch(seqs, 2, 5);
  assert.equal(b.T, 5);
  assert.deepEqual(Array.from(b.ids), [2, 1, 5, 9, 12, 2, 2, 2, 1, 7, 1, 3, 3, 8, 20]);
  assert.deepEqual(Array.from(b.mask), [0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
});

test('length buckets respect both limits and cover every sequence once', () => {
  const lengths = [5, 100, 7, 7, 30, 2, 64, 64, 1];
  const groups = lengthBatches(lengths, { maxBatch: 3, maxTokens: 128 });
  assert.deepEqual(groups.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  for (const g of groups) {
    assert.ok(g.length <= 3);
    const longest = Math.max(...g.map((i) => lengths[i]!));
    assert.ok(g.length === 1 || g.length * longest <= 128, `group ${g}`);
  }
});

test('sparse encoder = log1p(relu(max over real tokens of scaled LM-head logits)), independent of padding', () => {
  const model = tinyModel();
  const { vocabSize: V, hiddenSize: C } = model.config;
  const f = sparseForward(model, tokenBatch(seqs, 2, 16));
  for (let b = 0; b < seqs.length; b++) {
    const alone = tokenBatch([seqs[b]!], 2, 16);
    const h = model.forward(alone, { train: false });
    const T = alone.T;
    const logits = new Float32Array(T * V);
    model.lmHeadForward(logits, h, T);
    for (let v = 0; v < V; v++) {
      let m = -Infinity;
      for (let t = 0; t < T; t++) m = Math.max(m, logits[t * V + v]! * sparseScale(C));
      const want = Math.log1p(Math.max(0, m));
      assert.ok(Math.abs(f.rep[b * V + v]! - want) < 1e-5, `rep[${b},${v}] ${f.rep[b * V + v]} vs ${want}`);
    }
  }
  const full = toSparseVec(f.rep, V, 0);
  assert.ok(full.terms.length > 0);
  for (let i = 1; i < full.terms.length; i++) assert.ok(full.terms[i]! > full.terms[i - 1]!);
  const top = toSparseVec(f.rep, V, 0, 3);
  assert.equal(top.terms.length, 3);
  const sorted = Array.from(full.weights).sort((a, b) => b - a);
  assert.deepEqual(Array.from(top.weights).sort((a, b) => b - a), sorted.slice(0, 3));
});

test('dense encoder = masked mean of L2-normalised states, not re-normalised', () => {
  const model = tinyModel();
  const C = model.config.hiddenSize;
  const f = denseForward(model, tokenBatch(seqs, 2, 16));
  for (let b = 0; b < seqs.length; b++) {
    const alone = tokenBatch([seqs[b]!], 2, 16);
    const h = model.forward(alone, { train: false });
    const want = new Float64Array(C);
    for (let t = 0; t < alone.T; t++) {
      let n = 0;
      for (let c = 0; c < C; c++) n += h[t * C + c]! ** 2;
      for (let c = 0; c < C; c++) want[c] += h[t * C + c]! / Math.max(Math.sqrt(n), 1e-12) / alone.T;
    }
    for (let c = 0; c < C; c++) assert.ok(Math.abs(f.rep[b * C + c]! - want[c]!) < 1e-5);
    let norm = 0;
    for (let c = 0; c < C; c++) norm += f.rep[b * C + c]! ** 2;
    assert.ok(Math.sqrt(norm) <= 1 + 1e-6);
  }
});

test('encoder backward passes agree with finite differences through the trunk', () => {
  for (const paradigm of ['sparse', 'dense'] as const) {
    const model = tinyModel({ trainable: 'all' });
    const batch = tokenBatch(seqs, 2, 16);
    const run = (train: boolean) => (paradigm === 'sparse' ? sparseForward(model, batch, train) : denseForward(model, batch, train));
    const first = run(false);
    const R = Float32Array.from(first.rep, (_, i) => Math.sin(i * 1.7));
    const lossOf = (rep: Float32Array) => rep.reduce((s, x, i) => s + x * R[i]!, 0);
    model.zeroGrad();
    const f = run(true);
    if (paradigm === 'sparse') sparseBackward(model, f as ReturnType<typeof sparseForward>, R);
    else denseBackward(model, f as ReturnType<typeof denseForward>, R);
    const p = model.trainableParams().find((x) => x.name === 'model.layers.1.mlp.up_proj.weight')!;
    for (const k of [0, 7, 33, 101]) {
      const x = p.value[k]!, h = 1e-2;
      p.value[k] = x + h; const up = lossOf(run(false).rep);
      p.value[k] = x - h; const dn = lossOf(run(false).rep);
      p.value[k] = x;
      const fd = (up - dn) / (2 * h);
      assert.ok(Math.abs(fd - p.grad[k]!) < 2e-3 + 2e-2 * Math.abs(fd), `${paradigm} grad[${k}] ${p.grad[k]} vs fd ${fd}`);
    }
  }
});

test('encodeRecords yields every record in input order; shards split a stream', async () => {
  const model = tinyModel();
  const tok = { padId: 2, encode: (s: string) => [1, ...Array.from(s, (ch) => 3 + (ch.charCodeAt(0) % 50))] };
  const recs = ['a', 'a much longer text here', 'mid size', 'zz', 'another one'].map((text, i) => ({ id: `d${i}`, text }));
  const opts = { paradigm: 'sparse' as const, maxLength: 8, maxBatch: 2, maxTokens: 16, window: 3 };
  const out = [];
  for await (const e of encodeRecords(model, tok, recs, opts)) out.push(e);
  assert.deepEqual(out.map((e) => e.id), ['d0', 'd1', 'd2', 'd3', 'd4']);
  const single = [];
  for await (const e of encodeRecords(model, tok, [recs[1]!], opts)) single.push(e);
  assert.deepEqual(Array.from(single[0]!.sparse!.terms), Array.from(out[1]!.sparse!.terms));
  const s = [];
  for await (const x of shardOf([0, 1, 2, 3, 4, 5, 6], parseShard('1/3'))) s.push(x);
  assert.deepEqual(s, [1, 4]);
  assert.throws(() => parseShard('3/3'), /0 ≤ i < N/);
});

test('scoreMatrix scores every query against every passage with one encoder', async () => {
  const { scoreMatrix, encodeTokens } = await import('../../src/encoders/encode.js');
  const model = tinyModel();
  const tok = { padId: 2, encode: (s: string) => [1, ...Array.from(s, (ch) => 3 + (ch.charCodeAt(0) % 50))] };
  const qs = ['What is the capital of France?', "Who wrote '1984'?"];
  const ps = ['Paris is the capital of France.', "George Orwell wrote '1984'."];
  for (const paradigm of ['sparse', 'dense'] as const) {
    const m = scoreMatrix(model, tok, qs, ps, paradigm);
    const reps = encodeTokens(model, [...qs, ...ps].map((t) => tok.encode(t)), 2, { paradigm, maxLength: 192, maxBatch: 8, maxTokens: 4096 });
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let want = 0;
        if (paradigm === 'dense') { const a = reps[i] as Float32Array, b = reps[2 + j] as Float32Array; for (let c = 0; c < a.length; c++) want += a[c]! * b[c]!; }
        else {
          const a = reps[i] as { terms: Uint32Array; weights: Float32Array }, b = reps[2 + j] as typeof a;
          const w = new Map<number, number>(); a.terms.forEach((t, k) => w.set(t, a.weights[k]!));
          b.terms.forEach((t, k) => { want += (w.get(t) ?? 0) * b.weights[k]!; });
        }
        assert.ok(Math.abs(m[i]![j]! - want) < 1e-4 * Math.max(1, Math.abs(want)), `${paradigm} [${i},${j}] ${m[i]![j]} vs ${want}`);
      }
    }
  }
});
