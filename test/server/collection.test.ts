// `lion serve --collection` with encoders: BM25, learned sparse and dense indexes built at start-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoModels } from '../../src/server/collection.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers.js';
import { cranfield, cranfieldIndex, neuralFixture } from './fixture.js';

test('a collection with a sparse and a dense encoder: three systems and their fusion from one flag', { timeout: 120_000 }, async () => {
  const fx = await neuralFixture();
  const dir = tempDir('lion-serve-coll-');
  mkdirSync(dir, { recursive: true });
  const lines = readFileSync(join(cranfield, 'corpus.jsonl'), 'utf8').split('\n').slice(0, 60);
  writeFileSync(join(dir, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  const s = await serve({ indexes: [], collection: dir, sparseModel: fx.model, denseModel: fx.model, port: 0, log: () => {} });
  try {
    assert.deepEqual(s.systems.map((x) => [x.info.name, x.info.kind, x.info.docs, x.info.accepts.includes('text')]), [
      ['bm25', 'bm25', 60, true], ['sparse', 'sparse', 60, true], ['dense', 'dense', 60, true],
    ]);
    const r: any = await (await fetch(`${s.url}/api/search?q=slipstream+wing&k=5&explain=true`)).json();
    assert.deepEqual(r.results.map((x: any) => x.hits.length), [5, 5, 5]);
    assert.equal(r.fused.systems.length, 3);
    assert.ok(r.results[1].hits[0].contributions.length > 0, 'sparse hits are explained');
    assert.ok(r.results[0].hits[0].title.length > 0, 'the collection is the corpus shown');
  } finally {
    await s.close();
  }
});

test('--demo-models: the shipped demonstration encoders serve a collection', { timeout: 120_000 }, async () => {
  const dir = tempDir('lion-serve-demo-');
  const lines = readFileSync(join(cranfield, 'corpus.jsonl'), 'utf8').split('\n').slice(0, 40);
  writeFileSync(join(dir, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  const s = await serve({ indexes: [], collection: dir, ...demoModels(), port: 0, log: () => {} });
  try {
    assert.deepEqual(s.systems.map((x) => [x.info.name, x.info.dim]), [['bm25', undefined], ['sparse', 32768], ['dense', 384]]);
    const r: any = await (await fetch(`${s.url}/api/search?q=${encodeURIComponent('heat transfer in a laminar boundary layer')}&k=3`)).json();
    assert.deepEqual(r.results.map((x: any) => x.hits.length), [3, 3, 3]);
    const decoded = r.results[1].terms.filter((t: any) => typeof t.term === 'string' && !/^<\d+>$/.test(t.term));
    assert.ok(decoded.length >= 16, 'the sparse expansion is shown as decoded tokens, not ids');
  } finally {
    await s.close();
  }
});

test('encoders without a collection, and name clashes, are usage errors', async () => {
  const fx = await neuralFixture();
  const { index } = await cranfieldIndex();
  await assert.rejects(serve({ indexes: [index], sparseModel: fx.model, port: 0 }), /encode a --collection/);
  await assert.rejects(serve({ indexes: [`bm25=${index}`], collection: cranfield, port: 0 }), /name the index 'bm25' differently/);
});
