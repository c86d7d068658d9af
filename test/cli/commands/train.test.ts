// `lion mntp`, `lion train` and `lion encode` end to end through the CLI entry point.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../../src/cli/main.js';
import { readDenseShard, readSparseJsonl } from '../../../src/io/vectors.js';
import { tempDir } from '../../helpers.js';
import { tinySetup } from '../../train/setup.js';

async function lion(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  try { return { code: await main(args), err }; } finally { process.stderr.write = write; }
}

test('lion mntp from scratch, lion train, lion encode (sparse JSONL and dense shard)', async () => {
  const s = await tinySetup();
  const d = tempDir();
  const cfg = join(d, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    model_type: 'llama', vocab_size: 384, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2,
    num_key_value_heads: 1, rms_norm_eps: 1e-5, tie_word_embeddings: true, max_position_embeddings: 64,
  }));
  const base = join(d, 'base');
  let r = await lion(['mntp', '--config', cfg, '--tokenizer', s.model, '--corpus', s.corpus, '--out', base, '--max-passages', '40',
    '--block-length', '32', '--batch-size', '2', '--max-steps', '3', '--lr', '1e-3', '--log-every', '1']);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(base, 'model.safetensors')) && existsSync(join(base, 'tokenizer.json')));
  const sp = join(d, 'sp');
  r = await lion(['train', '--paradigm', 'sparse', '--objective', 'cl+kd', '--model', base, '--train', s.clkd, '--corpus', s.corpus,
    '--out', sp, '--negatives', '2', '--batch-size', '2', '--max-steps', '2', '--query-max-length', '12', '--doc-max-length', '16', '--log-every', '1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /train: 2 steps/);
  const cfgRec = JSON.parse(readFileSync(join(sp, 'run_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(cfgRec['lambdaQ'], 0.05);
  assert.equal(cfgRec['loraR'], 16);
  const docs = join(d, 'docs.jsonl');
  r = await lion(['encode', '--paradigm', 'sparse', '--model', base, '--adapter', sp, '--corpus', s.corpus, '--out', docs, '--max-length', '16', '--shard', '0/100']);
  assert.equal(r.code, 0, r.err);
  const vecs = [];
  for await (const v of readSparseJsonl(docs)) vecs.push(v);
  assert.equal(vecs.length, 14); // Cranfield's 1,400 documents, every 100th
  assert.equal(vecs[1]!.id, '101');
  assert.ok(existsSync(`${docs}.json`));
  const dq = join(d, 'q.f32');
  r = await lion(['encode', '--paradigm', 'dense', '--model', base, '--queries', join(s.corpus, '..', 'queries.jsonl'), '--out', dq]);
  assert.equal(r.code, 0, r.err);
  const m = readDenseShard(dq);
  assert.equal(m.dim, 16);
  assert.equal(m.rows, 225);
});

test('lion mntp --bpe-vocab trains a tokenizer on the corpus and sizes the new model to it', async () => {
  const s = await tinySetup();
  const d = tempDir();
  const cfg = join(d, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    model_type: 'llama', vocab_size: 1, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
    num_key_value_heads: 2, tie_word_embeddings: true,
  }));
  const out = join(d, 'm');
  const r = await lion(['mntp', '--config', cfg, '--bpe-vocab', '300', '--corpus', s.corpus, '--out', out, '--max-passages', '30',
    '--block-length', '16', '--batch-size', '2', '--max-steps', '2']);
  assert.equal(r.code, 0, r.err);
  const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved['vocab_size'], 300);
  assert.equal(saved['bos_token_id'], 297);
  assert.ok(existsSync(join(out, 'tokenizer.json')));
});

test('invalid combinations are usage errors before any work', async () => {
  const s = await tinySetup();
  const out = tempDir();
  let r = await lion(['train', '--paradigm', 'dense', '--objective', 'kd', '--model', s.model, '--train', s.cl, '--corpus', s.corpus, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.err, /KD needs teacher scores/);
  r = await lion(['train', '--paradigm', 'sparse', '--objective', 'cl', '--model', s.model, '--train', s.cl, '--corpus', s.corpus, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.err, /fewer than the 16 asked for/);
  r = await lion(['train', '--paradigm', 'bm25', '--objective', 'cl', '--model', s.model, '--train', s.cl, '--corpus', s.corpus, '--out', out]);
  assert.match(r.err, /--paradigm must be one of sparse, dense, got 'bm25'/);
  r = await lion(['encode', '--paradigm', 'dense', '--model', s.model, '--out', join(out, 'x')]);
  assert.match(r.err, /exactly one of --corpus or --queries/);
  r = await lion(['mntp', '--corpus', s.corpus, '--out', out]);
  assert.match(r.err, /exactly one of --model/);
  assert.ok(!existsSync(join(out, 'train_log.jsonl')));
});
