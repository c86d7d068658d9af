// Learned sparse and dense systems behind the server, with text queries encoded on worker threads by a real
// (tiny, random) model; every number is checked against the library called in-process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { searchSparse } from '../../src/index/inverted/search.js';
import { loadInvertedIndex } from '../../src/index/inverted/format.js';
import { loadVectorIndex, searchDense } from '../../src/index/vector/flat.js';
import { encodeTokens } from '../../src/encoders/encode.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { DEFAULTS } from '../../src/defaults.js';
import { serve } from '../../src/server/serve.js';
import type { LionServer } from '../../src/server/app.js';
import type { SparseVec } from '../../src/types.js';
import { cranfieldIndex, neuralFixture, type NeuralFixture } from './fixture.js';

let fx: NeuralFixture;
let srv: LionServer;
const query = 'laminar boundary layer heat transfer';

async function post(body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${srv.url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

function encodeHere(paradigm: 'sparse' | 'dense'): SparseVec | Float32Array {
  const m = loadModel(fx.model, { withHead: paradigm === 'sparse', trainable: 'none' });
  const tok = loadTokenizer(fx.model);
  const L = DEFAULTS.encode.queryMaxLength;
  return encodeTokens(m, [tok.encode(query).slice(0, L)], tok.padId, { paradigm, maxLength: L, maxBatch: 1, maxTokens: L })[0]!;
}

before(async () => {
  fx = await neuralFixture();
  srv = await serve({
    indexes: [`bm25=${(await cranfieldIndex()).index}`, `sp=${fx.sparseIndex}`, `ds=${fx.denseIndex}`, `sp-vec=${fx.sparseIndex}`],
    models: { sp: fx.model, ds: fx.model },
    port: 0,
    log: () => {},
  });
});
after(async () => srv?.close());

test('health shows the sparse and dense systems and what they accept', async () => {
  const h: any = await (await fetch(`${srv.url}/api/health`)).json();
  const by = Object.fromEntries(h.systems.map((s: any) => [s.name, s]));
  assert.deepEqual(by.sp.accepts, ['text', 'sparse']);
  assert.equal(by.sp.kind, 'sparse');
  assert.equal(by.sp.dim, 384);
  assert.deepEqual(by.ds.accepts, ['text', 'dense']);
  assert.equal(by.ds.dim, 16);
  assert.deepEqual(by['sp-vec'].accepts, ['sparse'], 'no model: vectors only');
  assert.equal(by.sp.docs, fx.docs);
});

test('a text query is encoded on a worker and searched exactly as the library does', async () => {
  const r = await post({ q: query, k: 10, explain: true });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x: any) => x.system), ['bm25', 'sp', 'ds'], 'text goes to the systems that take text');
  assert.equal(r.body.fused.systems.length, 3);
  const sv = encodeHere('sparse') as SparseVec;
  const six = loadInvertedIndex(fx.sparseIndex);
  const se = searchSparse(six, [sv], { k: 10 });
  const sp = r.body.results[1];
  assert.deepEqual(sp.hits.map((h: any) => [h.docid, h.score]), Array.from({ length: se.counts[0]! }, (_, i) => [six.ids[se.docs[i]!], se.scores[i]]));
  // Query terms are the encoder's expansion, decoded to tokens, with the encoded weights.
  // The reply lists the 32 heaviest expansion terms and counts the rest.
  assert.equal(sp.termsTotal ?? sp.terms.length, sv.terms.length);
  assert.equal(sp.terms.length, Math.min(32, sv.terms.length));
  assert.deepEqual(sp.terms.map((t: any) => t.weight), [...sv.weights].sort((a, b) => b - a).slice(0, 32));
  const w = new Map(Array.from(sv.terms, (t, i) => [t, sv.weights[i]]));
  for (const t of sp.terms) {
    assert.equal(t.weight, w.get(t.id));
    assert.equal(typeof t.term, 'string');
  }
  // Each hit's contributions are query weight × document weight and add up to its score.
  for (const h of sp.hits) {
    const sum = h.contributions.reduce((a: number, c: any) => a + c.contribution, 0) + (h.otherContributions?.contribution ?? 0);
    assert.ok(h.contributions.length <= 32);
    assert.ok(Math.abs(sum - h.score) <= 1e-4 * Math.max(1, h.score), `${sum} vs ${h.score}`);
    for (const c of h.contributions) assert.ok(Math.abs(c.queryWeight * c.docWeight - c.contribution) <= 1e-5 * Math.max(1, c.contribution));
  }
  // /api/explain has every matched term.
  const top = sp.hits[0];
  const ex: any = await (await fetch(`${srv.url}/api/explain?system=sp&docid=${top.docid}&q=${encodeURIComponent(query)}`)).json();
  assert.equal(ex.terms.length, top.contributions.length + (top.otherContributions?.terms ?? 0));
  const m: any = await (await fetch(`${srv.url}/api/metrics`)).json();
  assert.ok(m.systems.sp.encoder_queries >= 1 && m.systems.sp.encoder_batches >= 1);
  assert.deepEqual(m.systems.bm25, {});
  const dv = encodeHere('dense') as Float32Array;
  const dix = loadVectorIndex(fx.denseIndex);
  const de = searchDense(dix, dv, { k: 10 });
  assert.deepEqual(r.body.results[2].hits.map((h: any) => h.docid), Array.from(de.docs.slice(0, de.counts[0]!), (d) => dix.ids[d]));
});

test('given vectors: sparse token ids and dense arrays, validated against the index', async () => {
  const sv = encodeHere('sparse') as SparseVec;
  const sparse = Object.fromEntries(Array.from(sv.terms, (t, i) => [String(t), sv.weights[i]]));
  const a = await post({ sparse, k: 5, systems: ['sp-vec'] });
  const b = await post({ q: query, k: 5, systems: ['sp'] });
  assert.deepEqual(a.body.results[0].hits.map((h: any) => h.docid), b.body.results[0].hits.map((h: any) => h.docid));
  const bad = await post({ sparse: { 99999: 1 }, systems: ['sp'] });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /token id from 0 to 383/);
  const dense = Array.from(encodeHere('dense') as Float32Array);
  assert.equal((await post({ dense, k: 3 })).status, 200);
  const wrong = await post({ dense: dense.slice(0, 5), k: 3 });
  assert.equal(wrong.status, 400);
  assert.match(wrong.body.error.message, /dense has 5 dimensions; system 'ds' expects 16/);
  const noModel = await post({ q: query, systems: ['sp-vec'] });
  assert.equal(noModel.status, 400);
  assert.match(noModel.body.error.message, /does not accept a text query/);
});

test('a model that cannot be loaded is an error at start-up, not at the first query', async () => {
  await assert.rejects(
    serve({ indexes: [`sp=${fx.sparseIndex}`], models: { sp: fx.dir }, port: 0, log: () => {} }),
    /cannot load the query encoder/,
  );
  await assert.rejects(serve({ indexes: [`sp=${fx.sparseIndex}`], models: { nope: fx.model }, port: 0 }), /no index is named 'nope'/);
});
