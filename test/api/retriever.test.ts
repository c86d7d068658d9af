/**
 * The in-memory Retriever over the paper's encoders (what the quickstart, the server's --collection indexes and
 * the study search with): its runs are exactly those of encoding with `encodeRecords` and searching Lion's
 * exact indexes built by hand; k larger than the corpus, empty inputs, duplicate ids and bad k behave; a sparse
 * hit's explanation sums to its score and matches the server's explanation of the same in-memory index.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Retriever } from '../../src/api/retriever.js';
import { encodeRecords } from '../../src/encoders/encode.js';
import { loadEncoder } from '../../src/encoders/load.js';
import { isLionError } from '../../src/errors.js';
import { buildInvertedIndexFromRecords } from '../../src/index/inverted/build.js';
import { searchSparse } from '../../src/index/inverted/search.js';
import { toRun } from '../../src/index/topk.js';
import { searchDense, vectorIndexFromMatrix } from '../../src/index/vector/flat.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { shippedModels } from '../../src/assets.js';
import { memorySystem } from '../../src/server/neural.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import type { Run, TextRecord } from '../../src/types.js';
import { fixtures } from '../helpers.js';

const cran = join(fixtures, 'cranfield');
const read = (f: string, n: number): TextRecord[] => readFileSync(join(cran, f), 'utf8').trim().split('\n').slice(0, n).map((l) => {
  const r = JSON.parse(l) as { _id: string; title?: string; text: string };
  return r.title === undefined ? { id: r._id, text: r.text } : { id: r._id, title: r.title, text: r.text };
});
const DOCS = read('corpus.jsonl', 40);
const QUERIES = read('queries.jsonl', 6);

/** The reference: encode with encodeRecords, build the exact index by hand, search, make the run. */
async function referenceRun(paradigm: 'sparse' | 'dense', k: number): Promise<Run> {
  const dir = paradigm === 'sparse' ? shippedModels().sparse : shippedModels().dense;
  const model = loadModel(dir, { withHead: paradigm === 'sparse', trainable: 'none' });
  const tok = loadTokenizer(dir);
  const enc = async (recs: TextRecord[], maxLength: number) => {
    const out = [];
    for await (const e of encodeRecords(model, tok, recs, { paradigm, maxLength, maxBatch: 64, maxTokens: 16384 })) out.push(e);
    return out;
  };
  const docs = await enc(DOCS, 192), qs = await enc(QUERIES, 64);
  if (paradigm === 'sparse') {
    const ix = await buildInvertedIndexFromRecords(docs.map((d) => ({ id: d.id, vec: d.sparse! })), { vocabSize: model.config.vocabSize, listMax: 0 });
    return toRun(searchSparse(ix, qs.map((q) => q.sparse!), { k, mode: 'exact' }), qs.map((q) => q.id), (p) => ix.ids[p]!);
  }
  const C = model.config.hiddenSize;
  const data = new Float32Array(docs.length * C), qm = new Float32Array(qs.length * C);
  docs.forEach((d, i) => data.set(d.dense!, i * C));
  qs.forEach((q, i) => qm.set(q.dense!, i * C));
  const ix = vectorIndexFromMatrix({ data, rows: docs.length, dim: C, ids: docs.map((d) => d.id) }, 'f32');
  return toRun(searchDense(ix, qm, { k }), qs.map((q) => q.id), (p) => ix.ids[p]!);
}

for (const paradigm of ['sparse', 'dense'] as const) {
  test(`Retriever over the paper's ${paradigm} encoder = encodeRecords + the exact ${paradigm === 'sparse' ? 'inverted' : 'flat'} index`, { timeout: 120_000 }, async () => {
    const dir = paradigm === 'sparse' ? shippedModels().sparse : shippedModels().dense;
    const r = await Retriever.fromCorpus(loadEncoder(dir, { head: paradigm }), DOCS).ready();
    assert.equal((await r.index()).kind, paradigm === 'sparse' ? 'inverted' : 'flat');
    assert.deepEqual(await r.searchRun(QUERIES, 10), await referenceRun(paradigm, 10));
    const all = await r.searchRun(QUERIES.slice(0, 1), 1000);
    assert.deepEqual(all.get(QUERIES[0]!.id), (await referenceRun(paradigm, 1000)).get(QUERIES[0]!.id), 'k beyond the corpus returns every document the index scores');
    // dense scores every document; sparse only those sharing an active term with the query
    if (paradigm === 'dense') assert.equal(all.get(QUERIES[0]!.id)!.length, DOCS.length);
    else assert.ok(all.get(QUERIES[0]!.id)!.length > 0 && all.get(QUERIES[0]!.id)!.length <= DOCS.length);
    const hits = await r.search(QUERIES[1]!.text, 3);
    assert.deepEqual(hits.map((h) => h.rank), [0, 1, 2]);
    assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score));
    assert.equal(hits[0]!.text, DOCS.find((d) => d.id === hits[0]!.id)!.text, 'hits carry their documents');
  });
}

test('Retriever edge cases: empty queries and corpus, duplicate ids, bad k, unknown document', async () => {
  const enc = loadEncoder(shippedModels().sparse, { head: 'sparse' });
  const r = Retriever.fromCorpus(enc, DOCS.slice(0, 5));
  assert.deepEqual(await r.searchMany([], 5), []);
  assert.deepEqual(await r.searchRun([], 5), new Map());
  const empty = Retriever.fromCorpus(enc, []);
  assert.deepEqual(await empty.searchMany(['wing'], 5), [[]]);
  assert.deepEqual(await empty.searchRun([{ id: 'q', text: 'wing' }], 5), new Map([['q', []]]));
  assert.throws(() => Retriever.fromCorpus(enc, [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }]), (e: unknown) => isLionError(e) && /appears twice/.test(e.message));
  await assert.rejects(r.search('wing', 0), /k must be a positive integer/);
  await assert.rejects(r.explain('wing', 'nope'), /no document with id "nope"/);
});

test('a sparse hit explains itself: the parts sum to the score, and the server explains the same index alike', { timeout: 60_000 }, async () => {
  const enc = loadEncoder(shippedModels().sparse, { head: 'sparse' });
  const r = Retriever.fromCorpus(enc, DOCS);
  const q = QUERIES[0]!.text;
  const [top] = await r.search(q, 1);
  const parts = await r.explain(q, top!.id, 100_000);
  const sum = parts.reduce((s, p) => s + p.weight, 0);
  assert.ok(Math.abs(sum - top!.score) <= 1e-4 * Math.abs(top!.score), `parts ${sum} vs score ${top!.score}`);
  assert.ok(parts.every((p, i) => i === 0 || p.weight <= parts[i - 1]!.weight));
  assert.ok(parts.every((p) => typeof p.token === 'string' && p.ids.length === 1));
  const [qv] = await enc.encodeQueries([q]);
  const sys = memorySystem('sparse', await r.index());
  const served = await sys.explain!({ sparse: new Map(Array.from((qv as { terms: Uint32Array }).terms, (t, i) => [String(t), (qv as { weights: Float32Array }).weights[i]!])) }, top!.id);
  assert.deepEqual(served!.terms.map((t) => [t.id, t.queryWeight, t.docWeight]).sort((a, b) => a[0]! - b[0]!), parts.map((p) => [p.ids[0], p.queryWeight, p.docWeight]).sort((a, b) => a[0]! - b[0]!));
});
