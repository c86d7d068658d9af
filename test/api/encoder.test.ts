/**
 * The simple API (SparseEncoder, DenseEncoder, Retriever) against Lion's own pipeline and PyTorch goldens:
 * on the shipped demo models it gives exactly what encodeRecords + the exact indexes give; on the BERT golden
 * model it gives the golden-checked trunk's SPLADE and pooled outputs for the [CLS] … [SEP] tokens; the
 * sentence-transformers folder files (modules.json, 1_Pooling, Normalize, SpladePooling, prompts,
 * max_seq_length) and the options that override them take effect; byte tokens merge in `decode`.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DenseEncoder, SparseEncoder, decodeSparse } from '../../src/api/encoder.js';
import { Retriever } from '../../src/api/retriever.js';
import { encodeRecords, scoreMatrix } from '../../src/encoders/encode.js';
import { finishDense, poolDense } from '../../src/encoders/pooling.js';
import { tokenBatch } from '../../src/encoders/batch.js';
import { loadBertModel } from '../../src/model/bert.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { shippedModels } from '../../src/assets.js';
import { llama3Tokenizer, loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { fixtures, tempDir } from '../helpers.js';

const DOCS = [
  'The boundary layer of a flat plate in supersonic flow.',
  'Heat transfer to a blunt body at hypersonic speeds.',
  'Paris is the capital of France.',
  'Buckling of thin cylindrical shells under axial compression.',
  'Lions live in the savanna of Africa.',
];
const QUERIES = ['supersonic boundary layer', 'what is the capital of france', 'shell buckling'];

test('SparseEncoder = encodeRecords on the demo model; progress; similarity = scoreMatrix', async () => {
  const dir = shippedModels().sparse;
  const m = await SparseEncoder.load(dir, { batchSize: 2 });
  const progress: number[] = [];
  const docs = await m.encodeDocuments(DOCS, { onProgress: (done, total) => { assert.equal(total, DOCS.length); progress.push(done); } });
  assert.deepEqual(progress, [2, 4, 5]);
  const model = loadModel(dir, { withHead: true, trainable: 'none' });
  const tok = loadTokenizer(dir);
  const ref = [];
  for await (const e of encodeRecords(model, tok, DOCS.map((text, i) => ({ id: String(i), text })), { paradigm: 'sparse', maxLength: 192, maxBatch: 64, maxTokens: 16384 })) ref.push(e.sparse!);
  assert.deepEqual(docs, ref);
  const q = await m.encodeQueries(QUERIES);
  const want = scoreMatrix(model, tok, QUERIES, DOCS, 'sparse', 64);
  m.similarity(q, docs).forEach((row, i) => row.forEach((s, j) => assert.ok(Math.abs(s - want[i]![j]!) <= 1e-5 * Math.abs(want[i]![j]!), `${i},${j}`)));
  const top = m.decode(q[0]!, 5);
  assert.equal(top.length, 5);
  assert.ok(top.every((t, i) => i === 0 || t.weight <= top[i - 1]!.weight));
  const heaviest = Array.from(q[0]!.weights).sort((a, b) => b - a).slice(0, 5);
  assert.deepEqual(top.map((t) => t.weight).sort((a, b) => b - a), heaviest);
});

test('DenseEncoder = encodeRecords on the demo model (mean of normalised tokens)', async () => {
  const dir = shippedModels().dense;
  const m = await DenseEncoder.load(dir);
  assert.equal(m.pooling, 'mean-normalized');
  const docs = await m.encodeDocuments(DOCS);
  const model = loadModel(dir, { withHead: false, trainable: 'none' });
  const tok = loadTokenizer(dir);
  const ref = [];
  for await (const e of encodeRecords(model, tok, DOCS.map((text, i) => ({ id: String(i), text })), { paradigm: 'dense', maxLength: 192, maxBatch: 64, maxTokens: 16384 })) ref.push(e.dense!);
  assert.deepEqual(docs, ref);
});

for (const kind of ['sparse', 'dense'] as const) {
  test(`Retriever (${kind}): hits are the exact ranking by similarity; explain sums to the score`, async () => {
    const m = kind === 'sparse' ? await SparseEncoder.load(shippedModels().sparse) : await DenseEncoder.load(shippedModels().dense);
    const r = Retriever.fromCorpus(m, DOCS.map((text, i) => ({ id: `d${i}`, text })));
    const hits = await r.searchMany(QUERIES, 3);
    const q = await m.encodeQueries(QUERIES);
    const d = await m.encodeDocuments(DOCS);
    const sims = (m.similarity as (a: unknown[], b: unknown[]) => number[][])(q, d);
    hits.forEach((h, qi) => {
      // an inverted index returns only documents sharing a term with the query (score > 0)
      const order = sims[qi]!.map((s, i) => ({ s, i })).filter((o) => kind === 'dense' || o.s > 0).sort((a, b) => b.s - a.s || a.i - b.i).slice(0, 3);
      assert.ok(order.length > 0);
      assert.deepEqual(h.map((x) => x.id), order.map((o) => `d${o.i}`));
      h.forEach((x, j) => assert.ok(Math.abs(x.score - order[j]!.s) <= 1e-5 * Math.max(1, Math.abs(order[j]!.s))));
      assert.equal(h[0]!.text, DOCS[order[0]!.i]);
    });
    if (kind === 'sparse') {
      const parts = await r.explain(QUERIES[0]!, hits[0]![0]!.id, 1e9);
      const sum = parts.reduce((a, p) => a + p.weight, 0);
      assert.ok(Math.abs(sum - hits[0]![0]!.score) <= 1e-4 * hits[0]![0]!.score, `${sum} vs ${hits[0]![0]!.score}`);
    } else {
      await assert.rejects(r.explain(QUERIES[0]!, 'd0'), /needs a sparse encoder/);
    }
    // dense ranks every document; sparse only those whose vector shares an active id with the query's (the
    // fine-tuned demo model gives even a stop word a few small weights, so count them from the vectors)
    for (const text of ['anything', 'capital of france and supersonic flow']) {
      const [qv] = await m.encodeQueries([text]);
      const overlapping = (m.similarity as (a: unknown[], b: unknown[]) => number[][])([qv], d)[0]!.filter((x) => kind === 'dense' || x > 0).length;
      assert.equal(await r.search(text, 100).then((x) => x.length), kind === 'dense' ? DOCS.length : overlapping, text);
    }
  });
}

/** A copy of the golden BERT folder with sentence-transformers files. */
function stFolder(files: Record<string, unknown>): string {
  const dir = tempDir('lion-st-');
  cpSync(join(fixtures, 'golden', 'bert'), dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), JSON.stringify(body));
  }
  return dir;
}

test('BERT SPLADE: [CLS] … [SEP], max without scale, sum from SpladePooling, as the golden-checked trunk', async () => {
  const dir = join(fixtures, 'golden', 'bert');
  const m = await SparseEncoder.load(dir);
  assert.equal(m.family, 'bert');
  assert.equal(m.scale, 1);
  const text = 'What is the capital of France?';
  const ids = m.tokenizer.encodeTemplate(text);
  assert.equal(ids[0], m.tokenizer.tokenId('[CLS]'));
  assert.equal(ids.at(-1), m.tokenizer.tokenId('[SEP]'));
  const bert = loadBertModel(dir);
  const batch = tokenBatch([ids], m.tokenizer.padId, 512);
  const rep = bert.sparseRep(batch, 'max');
  const [v] = await m.encodeQueries([text]);
  assert.deepEqual(Array.from(v!.terms), Array.from(rep.keys()).filter((i) => rep[i]! > 0));
  const st = stFolder({
    'modules.json': [{ idx: 0, name: '0', path: '', type: 'sentence_transformers.sparse_encoder.models.MLMTransformer' },
      { idx: 1, name: '1', path: '1_SpladePooling', type: 'sentence_transformers.sparse_encoder.models.SpladePooling' }],
    '1_SpladePooling/config.json': { pooling_strategy: 'sum', activation_function: 'relu' },
    'sentence_bert_config.json': { max_seq_length: 6 },
  });
  const s = await SparseEncoder.load(st);
  assert.equal(s.pooling, 'sum');
  assert.deepEqual(s.maxLength, { query: 6, document: 6 });
  const cut = [...ids.slice(0, 5), ids.at(-1)!]; // truncation keeps [SEP]
  const want = bert.sparseRep(tokenBatch([cut], 0, 6), 'sum');
  const [sv] = await s.encodeDocuments([text]);
  sv!.terms.forEach((t, i) => assert.ok(Math.abs(sv!.weights[i]! - want[t]!) <= 1e-6 * want[t]!));
  assert.equal(sv!.terms.length, want.filter((x) => x > 0).length);
});

test('BERT dense: 1_Pooling cls + Normalize + prompts from the folder; options override; Matryoshka', async () => {
  const st = stFolder({
    'modules.json': [{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }],
    '1_Pooling/config.json': { word_embedding_dimension: 32, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false },
    'config_sentence_transformers.json': { prompts: { query: 'query: ', document: 'passage: ' }, similarity_fn_name: 'cosine' },
  });
  const m = await DenseEncoder.load(st);
  assert.deepEqual([m.pooling, m.normalize, m.similarityFn, m.prompts.query], ['cls', true, 'cosine', 'query: ']);
  const bert = loadBertModel(st, { withHead: false });
  const ids = m.tokenizer.encodeTemplate('query: the big cat');
  const batch = tokenBatch([ids], 0, 64);
  const want = finishDense(poolDense(bert.forward(batch), batch.mask, 1, batch.T, 32, 'cls'), 1, 32, { normalize: true });
  const [q] = await m.encodeQueries(['the big cat']);
  assert.deepEqual(q, want);
  const m8 = await DenseEncoder.load(st, { pooling: 'mean', dim: 8, queryPrompt: '' });
  const ids8 = m8.tokenizer.encodeTemplate('the big cat');
  const b8 = tokenBatch([ids8], 0, 64);
  const want8 = finishDense(poolDense(bert.forward(b8), b8.mask, 1, b8.T, 32, 'mean'), 1, 32, { normalize: true, dim: 8 });
  const [q8] = await m8.encodeQueries(['the big cat']);
  assert.deepEqual(q8, want8);
  assert.equal(m8.dimension, 8);
  const bad = stFolder({ 'modules.json': [{ idx: 0, name: '0', path: '2_Dense', type: 'sentence_transformers.models.Dense' }] });
  await assert.rejects(DenseEncoder.load(bad), /Dense is not supported/);
});

test('decode merges partial UTF-8 byte tokens of a byte-level BPE into one readable token', () => {
  const tok = llama3Tokenizer();
  const ids = tok.encode('獅').slice(1); // drop BOS
  assert.ok(ids.length >= 2, '獅 (lion) is two byte tokens in Llama-3');
  const word = tok.encode(' capital').slice(1);
  const terms = [...ids, ...word].sort((a, b) => a - b);
  const weights = terms.map((t) => (word.includes(t) ? 2 : 1 + ids.indexOf(t) / 10));
  const out = decodeSparse(tok, { terms: Uint32Array.from(terms), weights: Float32Array.from(weights) }, 10);
  assert.deepEqual(out.map((o) => o.token), ['capital', '獅']);
  assert.deepEqual(out[1]!.ids.slice().sort((a, b) => a - b), ids.slice().sort((a, b) => a - b));
});
