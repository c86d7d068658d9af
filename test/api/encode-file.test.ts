/**
 * `lion encode` with a BERT SPLADE folder, and with a decoder configured by flags (last-token pooling with
 * EOS, prompt, normalisation, Matryoshka dim): the vectors written equal what the simple API returns for the
 * same texts, in input order, and `<out>.json` records the resolved configuration.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DenseEncoder, SparseEncoder } from '../../src/api/encoder.js';
import { main } from '../../src/cli/main.js';
import { readDenseShard, readShardInfo, readSparseJsonl } from '../../src/io/vectors.js';
import { shippedModels } from '../../src/assets.js';
import { fixtures, tempDir } from '../helpers.js';

const TEXTS = ['the capital of france is paris', 'big cats sleep', 'river bank money', 'what is a lion'];

async function lion(...args: string[]): Promise<number> {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try { return await main(args); } finally { process.stderr.write = write; }
}

test('lion encode: a BERT SPLADE folder writes the API\'s vectors', async () => {
  const dir = tempDir();
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, TEXTS.map((text, i) => JSON.stringify({ _id: `d${i}`, title: '', text })).join('\n') + '\n');
  const bert = join(fixtures, 'golden', 'bert');
  assert.equal(await lion('encode', '--paradigm', 'sparse', '--model', bert, '--corpus', corpus, '--out', join(dir, 'docs.jsonl'), '--max-batch', '3'), 0);
  const got = [];
  for await (const r of readSparseJsonl(join(dir, 'docs.jsonl'))) got.push(r);
  const want = await (await SparseEncoder.load(bert)).encodeDocuments(TEXTS);
  assert.deepEqual(got.map((r) => r.id), ['d0', 'd1', 'd2', 'd3']);
  got.forEach((r, i) => {
    assert.deepEqual(Array.from(r.vec.terms), Array.from(want[i]!.terms));
    r.vec.weights.forEach((w, j) => assert.ok(Math.abs(w - want[i]!.weights[j]!) <= 1e-6 * want[i]!.weights[j]!));
  });
  const meta = JSON.parse(readFileSync(join(dir, 'docs.jsonl.json'), 'utf8'));
  assert.deepEqual([meta.resolved.family, meta.resolved.pooling, meta.resolved.scale], ['bert', 'max', 1]);
  assert.deepEqual([meta.encoder.head, meta.encoder.vocab], ['sparse', want[0] ? (await SparseEncoder.load(bert)).dimension : 0]);
});

test('lion encode: a decoder with --pooling last --prompt --normalize --dim writes the API\'s vectors', async () => {
  const dir = tempDir();
  const queries = join(dir, 'queries.tsv');
  writeFileSync(queries, TEXTS.map((t, i) => `q${i}\t${t}`).join('\n') + '\n');
  const model = shippedModels().dense;
  const out = join(dir, 'q.lvec');
  assert.equal(await lion('encode', '--paradigm', 'dense', '--model', model, '--queries', queries, '--out', out,
    '--pooling', 'last', '--prompt', 'query: ', '--normalize', '--dim', '16', '--dtype', 'fp32'), 0);
  const m = readDenseShard(out);
  const enc = await DenseEncoder.load(model, { pooling: 'last', queryPrompt: 'query: ', normalize: true, dim: 16 });
  assert.equal(enc.tokenize('x', 64).at(-1), enc.tokenizer.eosId, 'EOS appended for last-token pooling');
  const want = await enc.encodeQueries(TEXTS);
  assert.deepEqual([m.rows, m.dim, m.ids], [4, 16, ['q0', 'q1', 'q2', 'q3']]);
  want.forEach((v, i) => assert.deepEqual(m.data.subarray(i * 16, (i + 1) * 16), v));
  const id = readShardInfo(out).encoder; // the shard records its encoder, so search refuses foreign queries
  assert.deepEqual([id?.head, id?.dim], ['dense', 16]);
  assert.equal(await lion('encode', '--paradigm', 'sparse', '--model', model, '--queries', queries, '--out', join(dir, 'x'), '--pooling', 'cls'), 2);
});
