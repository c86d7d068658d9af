/**
 * The encoders in reduced precision, on the shipped demonstration models over Cranfield documents: the sparse
 * head's search pass in bf16/int8 against the exact head on the same hidden states (how often the maximum
 * lands on another token, top-10 overlap, largest weight change), the whole bf16/int8 encoder against fp32
 * (sparse top-10 overlap, dense cosine), and `compareSparse` on a hand-made case.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tokenBatch } from '../../src/encoders/batch.js';
import { denseForward } from '../../src/encoders/dense.js';
import { compareSparse, sparseForward, sparseHeadAgreement } from '../../src/encoders/sparse.js';
import { docText, readCorpus } from '../../src/io/corpus.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { QueryEncoderPool } from '../../src/server/encoder-pool.js';
import { loadEncoder } from '../../src/encoders/load.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { lowpBackends } from '../model/lowp.js';
import { fixtures, repoRoot } from '../helpers.js';

const sp = join(repoRoot, 'models', 'lion-demo-sp'), ds = join(repoRoot, 'models', 'lion-demo-ds');

async function docs(n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readCorpus(join(fixtures, 'cranfield', 'corpus.jsonl'))) { out.push(docText(r)); if (out.length >= n) break; }
  return out;
}

test('compareSparse counts moved maxima only where a weight is non-zero, and top-10 overlap per text', () => {
  const V = 12, B = 2;
  const exact = { rep: new Float32Array(B * V), argmax: new Int32Array(B * V) };
  for (let v = 0; v < V; v++) { exact.rep[v] = v + 1; exact.rep[V + v] = v < 3 ? 1 : 0; }
  const reduced = { rep: Float32Array.from(exact.rep), argmax: Int32Array.from(exact.argmax) };
  reduced.rep[0] = 13; reduced.argmax[0] = 2; // text 0: term 0 jumps into the top 10, pushing out term 2
  reduced.argmax[V + 5] = 4; // a zero weight whose position moved: not counted
  const a = compareSparse(exact, reduced, B, V);
  assert.equal(a.active, 12 + 3);
  assert.equal(a.positionsDiffer, 1);
  assert.equal(a.maxAbsDiff, 12);
  assert.equal(a.top10Overlap, (0.9 + 1) / 2);
  assert.equal(a.nnzExact, (12 + 3) / 2);
});

for (const be of lowpBackends()) {
  describe(`demo encoders in reduced precision on ${be.name}`, { skip: be.skip }, async () => {
    const k = be.k!;
    const tok = loadTokenizer(sp);
    const texts = await docs(be.name === 'ref' ? 4 : 32);
    const batch = tokenBatch(texts.map((t) => tok.encode(t)), tok.padId, be.name === 'ref' ? 48 : 128);
    const { B, T } = batch;

    test('sparse head alone: bf16 and int8 search passes against the exact head on the same hidden states', (t) => {
      for (const dtype of ['fp32', 'bf16', 'int8'] as const) {
        const m = loadModel(sp, { kernels: k, dtype });
        const h = m.forward(batch, { train: false });
        const a = sparseHeadAgreement(m, h, batch.mask, B, T);
        t.diagnostic(`${dtype} head: ${a.positionsDiffer}/${a.active} maxima moved (${(100 * a.positionDiffRate).toFixed(2)} %), top-10 overlap ${a.top10Overlap.toFixed(3)}, max |Δw| ${a.maxAbsDiff.toExponential(2)} of ${a.maxWeight.toFixed(3)}`);
        if (dtype === 'fp32') { assert.equal(a.positionsDiffer, 0); assert.equal(a.maxAbsDiff, 0); continue; }
        // a maximum moves only between near-equal logits, so the weight there barely changes (the fine-tuned
        // sparse demo model has many tiny near-tied weights: 22 % of its maxima move under bf16 on ref)
        assert.ok(a.positionDiffRate < (dtype === 'bf16' ? 0.25 : 0.35), `${dtype}: ${a.positionDiffRate} of maxima moved`);
        assert.ok(a.top10Overlap >= 0.95, `${dtype}: top-10 overlap ${a.top10Overlap}`);
        assert.ok(a.maxAbsDiff <= (dtype === 'bf16' ? 0.01 : 0.03) * a.maxWeight, `${dtype}: max |Δw| ${a.maxAbsDiff}`);
      }
    });

    test('whole encoders: bf16 and int8 against fp32 (sparse top-10 overlap, dense cosine)', (t) => {
      const s32 = sparseForward(loadModel(sp, { kernels: k }), batch);
      const d32 = Float32Array.from(denseForward(loadModel(ds, { kernels: k, withHead: false }), batch).rep);
      for (const dtype of ['bf16', 'int8'] as const) {
        const s = sparseForward(loadModel(sp, { kernels: k, dtype }), batch);
        const a = compareSparse(s32, s, B, s32.rep.length / B);
        const d = denseForward(loadModel(ds, { kernels: k, dtype, withHead: false }), batch).rep;
        const C = d.length / B;
        let minCos = 1;
        for (let b = 0; b < B; b++) {
          let x = 0, y = 0, z = 0;
          for (let c = b * C; c < (b + 1) * C; c++) { x += d[c]! * d32[c]!; y += d[c]! ** 2; z += d32[c]! ** 2; }
          minCos = Math.min(minCos, x / Math.sqrt(y * z));
        }
        t.diagnostic(`${dtype} encoders: sparse top-10 overlap ${a.top10Overlap.toFixed(3)}, maxima moved ${(100 * a.positionDiffRate).toFixed(2)} %, max |Δw| ${a.maxAbsDiff.toExponential(2)}, nnz ${a.nnzReduced.toFixed(1)} vs ${a.nnzExact.toFixed(1)}; dense min cosine ${minCos.toFixed(6)}`);
        assert.ok(a.top10Overlap >= (dtype === 'bf16' ? 0.9 : 0.8), `${dtype} sparse top-10 overlap ${a.top10Overlap}`);
        assert.ok(minCos >= (dtype === 'bf16' ? 0.999 : 0.995), `${dtype} dense cosine ${minCos}`);
      }
    });
  });
}

test('the server\'s encoder loader passes the dtype on (as `lion serve --dtype` does for its workers)', () => {
  for (const dtype of ['bf16', 'int8'] as const) {
    const { model } = loadEncoder(sp, { head: 'sparse', dtype });
    assert.equal(model.dtype, dtype);
    assert.equal(model.weight('model.layers.0.mlp.up_proj.weight').dtype, dtype);
  }
  assert.equal(loadEncoder(ds, { head: 'dense' }).model.dtype, 'fp32', 'fp32 unless asked');
});

test('query encoder workers load in the dtype they are given (lion serve --dtype)', async () => {
  const q = 'what are the structural and aeroelastic problems associated with flight of high speed aircraft';
  const enc = async (dtype: 'fp32' | 'int8') => {
    const pool = await QueryEncoderPool.start({ model: ds, paradigm: 'dense', maxLength: 64, maxBatch: 4, workers: 1, timeoutMs: 60_000, dtype });
    try { return (await pool.encode(q)) as Float32Array; } finally { await pool.close(); }
  };
  const a = await enc('fp32'), b = await enc('int8');
  let dot = 0, x = 0, y = 0, same = true;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; x += a[i]! ** 2; y += b[i]! ** 2; same &&= a[i] === b[i]; }
  assert.ok(!same, 'the int8 worker computes in int8');
  assert.ok(dot / Math.sqrt(x * y) > 0.995, `cosine ${dot / Math.sqrt(x * y)}`);
});
