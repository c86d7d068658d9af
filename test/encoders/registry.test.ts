/**
 * The encoder registry: the built-in head types declare what the pipeline used to decide by testing the
 * paradigm, and a head type registered here (last-token pooling, with its own forward and backward) runs end
 * to end with no other change: trained by `trainRetriever`, written by `encodeCollection`, loaded by
 * `loadEncoder`, indexed and searched by the `Retriever`, served by the server's in-memory systems. Its
 * vectors are checked against the trunk's hidden states computed directly.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Retriever } from '../../src/api/retriever.js';
import type { Encoder, HeadForward } from '../../src/encoders/contract.js';
import { denseEncoder } from '../../src/encoders/dense.js';
import { encodeCollection } from '../../src/encoders/encode.js';
import { loadEncoder } from '../../src/encoders/load.js';
import { encoderFor, encoderKinds, registerEncoder, unregisterEncoder } from '../../src/encoders/registry.js';
import { sparseEncoder } from '../../src/encoders/sparse.js';
import { tokenBatch } from '../../src/encoders/batch.js';
import { isLionError } from '../../src/errors.js';
import { readDenseShard } from '../../src/io/vectors.js';
import { ref } from '../../src/kernels/ref/index.js';
import { loadModel } from '../../src/model/checkpoint.js';
import type { LlamaModel, TokenBatch } from '../../src/model/llama.js';
import { shippedModels } from '../../src/assets.js';
import { memorySystem } from '../../src/server/neural.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { trainRetriever } from '../../src/train/trainer.js';
import { tempDir, writeTemp } from '../helpers.js';
import { tinySetup } from '../train/setup.js';

/** Position of each row's last real token (the batch is padded on the left, but the mask decides). */
function lastPositions(batch: TokenBatch): Int32Array {
  const { B, T, mask } = batch;
  const at = new Int32Array(B).fill(-1);
  for (let b = 0; b < B; b++) for (let t = T - 1; t >= 0; t--) if (mask[b * T + t]) { at[b] = t; break; }
  return at;
}

/** A head type the library does not ship: the final hidden state of the last real token (no normalisation). */
const lastToken: Encoder<HeadForward> = {
  ...denseEncoder,
  kind: 'dense-last',
  forward(model: LlamaModel, batch: TokenBatch, train = false, slot = 'main'): HeadForward {
    const C = model.config.hiddenSize, { B, T } = batch;
    const hidden = model.forward(batch, { train, slot });
    const at = lastPositions(batch);
    const rep = new Float32Array(B * C);
    for (let b = 0; b < B; b++) if (at[b]! >= 0) rep.set(hidden.subarray((b * T + at[b]!) * C, (b * T + at[b]! + 1) * C), b * C);
    return { rep, hidden, batch, slot };
  },
  backward(model: LlamaModel, f: HeadForward, drep: Float32Array): void {
    const C = model.config.hiddenSize, { B, T } = f.batch;
    const dh = new Float32Array(B * T * C);
    const at = lastPositions(f.batch);
    for (let b = 0; b < B; b++) if (at[b]! >= 0) dh.set(drep.subarray(b * C, (b + 1) * C), (b * T + at[b]!) * C);
    model.backward(dh, { slot: f.slot });
  },
};

registerEncoder(lastToken);
after(() => unregisterEncoder('dense-last'));

const DOCS = [
  'The boundary layer of a flat plate in supersonic flow.',
  'Heat transfer to a blunt body at hypersonic speeds.',
  'Buckling of thin cylindrical shells under axial compression.',
  'Lions live in the savanna of Africa.',
];

/** The last-token state of `text` computed directly: the trunk on a one-row batch. */
function directLastState(model: LlamaModel, ids: number[]): Float32Array {
  const C = model.config.hiddenSize;
  const h = model.forward(tokenBatch([ids], 0, ids.length), { train: false });
  return h.slice((ids.length - 1) * C, ids.length * C);
}

test('the built-in head types declare what the pipeline used to test the paradigm for', () => {
  assert.deepEqual(encoderKinds().slice(0, 2), ['sparse', 'dense']);
  assert.equal(encoderFor('sparse'), sparseEncoder);
  assert.equal(encoderFor(denseEncoder), denseEncoder);
  const config = { vocabSize: 4096, hiddenSize: 128 } as Parameters<Encoder['dimension']>[0];
  assert.deepEqual([sparseEncoder.dimension(config), sparseEncoder.needsLmHead, sparseEncoder.index, sparseEncoder.vectors, sparseEncoder.flops, sparseEncoder.scoreScale(0.01), sparseEncoder.adapterLayout],
    [4096, true, 'inverted', 'sparse', true, 1, 'sparse']);
  assert.deepEqual([denseEncoder.dimension(config), denseEncoder.needsLmHead, denseEncoder.index, denseEncoder.vectors, denseEncoder.flops, denseEncoder.scoreScale(0.01), denseEncoder.adapterLayout],
    [128, false, 'flat', 'dense', false, 100, 'dense']);
});

test('an unknown head type is a usage error naming the registered ones; kinds are checked', () => {
  assert.throws(() => encoderFor('splade'), (e: unknown) => isLionError(e) && /--paradigm must be sparse, dense or dense-last, got 'splade'/.test(e.message));
  assert.throws(() => registerEncoder({ ...denseEncoder }), /registered already/);
  assert.throws(() => registerEncoder({ ...denseEncoder, kind: 'Bad Kind' }), /lower-case/);
  assert.throws(() => unregisterEncoder('sparse'), /built-in/);
});

test('a registered head type: encodeCollection writes its vectors, the Retriever searches them exactly, the server serves them', { timeout: 120_000 }, async () => {
  const dir = shippedModels().dense;
  const model = loadModel(dir, { withHead: false, trainable: 'none' });
  const tok = loadTokenizer(dir);
  const want = DOCS.map((d) => directLastState(model, tok.encode(d)));

  const corpus = writeTemp(DOCS.map((text, i) => JSON.stringify({ _id: `d${i}`, text })).join('\n') + '\n', 'corpus.jsonl');
  const out = join(tempDir(), 'docs.f32');
  assert.equal(await encodeCollection({ paradigm: 'dense-last', model: dir, input: corpus, out, dtype: 'fp32' }), DOCS.length);
  const shard = readDenseShard(out);
  assert.deepEqual(shard.ids, DOCS.map((_, i) => `d${i}`));
  assert.equal(shard.dim, model.config.hiddenSize);
  want.forEach((w, i) => {
    const row = shard.data.subarray(i * shard.dim, (i + 1) * shard.dim);
    for (let c = 0; c < shard.dim; c++) assert.ok(Math.abs(row[c]! - w[c]!) <= 1e-5 * (1 + Math.abs(w[c]!)), `doc ${i} component ${c}`);
  });
  const meta = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
  assert.equal(meta.paradigm, 'dense-last');
  assert.equal(meta.encoder.head, 'dense');

  const enc = loadEncoder(dir, { head: 'dense-last' });
  assert.deepEqual([enc.kind, enc.index, enc.dimension], ['dense-last', 'flat', model.config.hiddenSize]);
  const r = Retriever.fromCorpus(enc, DOCS.map((text, i) => ({ id: `d${i}`, text })));
  const query = 'heat transfer at hypersonic speed';
  const q = directLastState(model, tok.encode(query));
  const scores = want.map((w) => w.reduce((s, x, c) => s + x * q[c]!, 0));
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((x) => `d${x[1]}`);
  const hits = await r.search(query, DOCS.length);
  assert.deepEqual(hits.map((h) => h.id), order, 'the exact ranking by inner product');
  hits.forEach((h) => assert.ok(Math.abs(h.score - scores[Number(h.id.slice(1))]!) <= 1e-4, `${h.id} score`));
  await assert.rejects(r.explain(query, 'd0'), /explain needs a sparse encoder/);

  const sys = memorySystem('last', await r.index());
  assert.deepEqual([sys.info.kind, sys.info.docs, sys.info.dim], ['dense', DOCS.length, model.config.hiddenSize]);
  const served = await sys.search({ dense: q }, 2);
  assert.deepEqual(served.map((h) => h.docid), order.slice(0, 2));
});

test('a registered head type trains: trainRetriever runs it forward and backward and saves a loadable adapter', { timeout: 120_000 }, async () => {
  const s = await tinySetup();
  const output = tempDir();
  const losses: number[] = [];
  await trainRetriever({
    paradigm: 'dense-last', objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, tokenizer: loadTokenizer(s.model), kernels: ref,
    output, batchSize: 3, negatives: 2, maxSteps: 3, lr: 5e-3, logEvery: 1, saveEvery: 10, queryMaxLength: 12, docMaxLength: 16, loraR: 2, loraAlpha: 4,
    onStep: (_step, stats) => losses.push(stats['loss']!),
  });
  assert.equal(losses.length, 3);
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(existsSync(join(output, 'adapter_config.json')));
  const log = readFileSync(join(output, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual([log[0].lambdaQ, log[0].nnzQ], [0, 0], 'no FLOPS for a dense head');
  // the trained adapter changes the encoder: its vectors differ from the base's
  const base = loadEncoder(s.model, { head: 'dense-last', kernels: ref });
  const tuned = loadEncoder(s.model, { head: 'dense-last', adapter: output, kernels: ref });
  const [a] = await base.encodeDocuments(['boundary layer flow']), [b] = await tuned.encodeDocuments(['boundary layer flow']);
  assert.ok(a instanceof Float32Array && b instanceof Float32Array);
  assert.equal(a.length, b.length);
  assert.notDeepEqual(a, b);
});
