import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../src/cli/main.js';
import { encodeTokens } from '../../src/encoders/encode.js';
import { createEnglishAnalyzer } from '../../src/bm25/analyzer.js';
import { LlamaModel } from '../../src/model/llama.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { normaliseConfig } from '../../src/model/registry.js';
import { saveBpe, trainBpe } from '../../src/tokenizer/bpe-train.js';
import { loadTokenizer, type LionTokenizer } from '../../src/tokenizer/tokenizer.js';
import { initLexical, lexicalClassWeights, lexicalStatistics, type LexicalStats } from '../../src/train/init.js';
import type { SparseVec } from '../../src/types.js';
import { fixtures, tempDir } from '../helpers.js';

const texts = readFileSync(join(fixtures, 'cranfield', 'corpus.jsonl'), 'utf8').trim().split('\n').slice(0, 300)
  .map((l) => { const j = JSON.parse(l) as { title: string; text: string }; return `${j.title} ${j.text}`; });

let cached: { tok: LionTokenizer; stats: LexicalStats; dir: string } | undefined;
async function setup() {
  if (cached) return cached;
  const dir = tempDir();
  await saveBpe(trainBpe(texts, { vocabSize: 700 }), dir);
  const tok = loadTokenizer(dir);
  cached = { tok, stats: lexicalStatistics(tok, texts), dir };
  return cached;
}

function config(V: number, C: number, extra: Record<string, unknown> = {}) {
  const raw = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: V, hidden_size: C, intermediate_size: 2 * C,
    num_hidden_layers: 2, num_attention_heads: C / 32, num_key_value_heads: C / 32, hidden_act: 'silu',
    max_position_embeddings: 256, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: true, ...extra,
  };
  return { raw, file: 'config.json' };
}

test('lexicalStatistics: ids whose text is one analyzer term share a class; df counts documents', async () => {
  const { tok, stats } = await setup();
  const analyze = createEnglishAnalyzer();
  let merged = 0;
  for (let id = 0; id < tok.vocabSize; id++) {
    const c = stats.classOf[id]!;
    if (c < 0) continue;
    assert.deepEqual(analyze(tok.decode([id])), [stats.terms[c]]);
    if (stats.classOf.indexOf(c) !== id) merged++;
  }
  assert.ok(merged > 10, `${merged} ids share a class with another id`);
  assert.equal(stats.classOf[tok.bosId!], -1);
  // brute-force document frequency of every class
  const df = new Float64Array(stats.terms.length);
  for (const t of texts) for (const c of new Set(tok.encode(t).map((id) => stats.classOf[id]!))) if (c >= 0) df[c]!++;
  assert.deepEqual([...stats.df], [...df]);
  assert.equal(stats.docs, texts.length);
  const w = lexicalClassWeights(stats, { paradigm: 'sparse' });
  const c = stats.classOf[tok.encode(' flow')[1]!]!;
  assert.ok(Math.abs(w[c]! - Math.sqrt(Math.log(1 + (texts.length - df[c]! + 0.5) / (df[c]! + 0.5)))) < 1e-12);
});

test('initLexical sparse: before training, the encoder is the IDF-weighted binary bag of the text\'s classes', async () => {
  const { tok, stats } = await setup();
  const model = new LlamaModel(normaliseConfig(config(tok.vocabSize, 128)), { withHead: true });
  const weights = initLexical(model, stats, { paradigm: 'sparse', seed: 3, threshold: 0.6, tfK1: 0 });
  const text = 'Flow over a swept WING at supersonic speeds; the wing flow separates.';
  const [vec] = encodeTokens(model, [tok.encode(text)], tok.padId, { paradigm: 'sparse', maxLength: 128, maxBatch: 8, maxTokens: 4096 }) as SparseVec[];
  const members = new Map<number, number[]>();
  stats.classOf.forEach((c, id) => { if (c >= 0) members.set(c, [...(members.get(c) ?? []), id]); });
  const want = new Map<number, number>(); // every id of a present class carries weight/√m
  for (const id of tok.encode(text)) {
    const c = stats.classOf[id]!;
    if (c >= 0 && weights[c]! > 0) for (const m of members.get(c)!) want.set(m, weights[c]! / Math.sqrt(members.get(c)!.length));
  }
  assert.ok(want.size >= 8);
  const all = new Map<number, number>();
  vec!.terms.forEach((t, i) => all.set(t, vec!.weights[i]!));
  for (const [id, w] of want) assert.ok(Math.abs((all.get(id) ?? 0) - w) < 2e-3 * Math.max(1, w), `id ${id}: ${all.get(id)} vs ${w}`);
  // no other id is active (no cross-token noise at this threshold)
  for (const [id, w] of all) assert.ok(want.has(id), `id ${id} (${JSON.stringify(tok.decode([id]))}) has weight ${w}`);
  // the query and document scores of one-word texts: a matched class adds its weight², whatever the surface form
  const c = [...members.keys()].find((k) => members.get(k)!.length >= 2 && weights[k]! > 0.5)!;
  const [ia, ib] = members.get(c)!;
  const [a, b] = encodeTokens(model, [[tok.bosId!, ia!], [tok.bosId!, ib!]], tok.padId, { paradigm: 'sparse', maxLength: 8, maxBatch: 8, maxTokens: 4096 }) as SparseVec[];
  let dot = 0;
  a!.terms.forEach((t, i) => { const j = b!.terms.indexOf(t); if (j >= 0) dot += a!.weights[i]! * b!.weights[j]!; });
  assert.ok(Math.abs(dot - weights[c]! ** 2) < 1e-2 * weights[c]! ** 2, `${dot} vs ${weights[c]! ** 2}`);
});

test('initLexical sparse with tf: the first attention layer saturates repeated terms as tf/(tf + k1)', async () => {
  const { tok, stats } = await setup();
  const model = new LlamaModel(normaliseConfig(config(tok.vocabSize, 128, { num_attention_heads: 2, num_key_value_heads: 2, rope_theta: 500000 })), { withHead: true });
  const k1 = 1;
  const weights = initLexical(model, stats, { paradigm: 'sparse', seed: 4, tfK1: k1 });
  const members = new Map<number, number[]>();
  stats.classOf.forEach((c, id) => { if (c >= 0) members.set(c, [...(members.get(c) ?? []), id]); });
  const c = [...members.keys()].find((k) => members.get(k)!.length === 1 && weights[k]! > 1)!;
  const id = members.get(c)![0]!;
  const filler = tok.encode(' of the and a to in').slice(1).filter((x) => stats.classOf[x] === -1);
  const text = (tf: number) => { const s = [tok.bosId!]; for (let i = 0; i < tf; i++) s.push(id, ...filler); return s; };
  const out = encodeTokens(model, [1, 2, 3, 6].map(text), tok.padId, { paradigm: 'sparse', maxLength: 128, maxBatch: 8, maxTokens: 4096 }) as SparseVec[];
  const w = out.map((v) => v.weights[v.terms.indexOf(id)] ?? 0);
  // the weight at tf = 1 is the class weight; inside log1p the logit grows by tf(1 + k1)/(tf + k1) relative to tf = 1 (as BM25)
  assert.ok(Math.abs(w[0]! - weights[c]!) < 0.02 * weights[c]!, `tf 1: ${w[0]} vs ${weights[c]}`);
  const A = Math.sqrt((1 + k1) ** 2 - 1), B = Math.sqrt(((2 + k1) / 2) ** 2 - 1);
  const m = (A / B - 1) / (2 - A / B), rho = A * (1 + m);
  const M = (tf: number) => 1 / Math.sqrt(1 + (rho / (1 + m * tf)) ** 2);
  [1, 2, 3, 6].forEach((tf, i) => {
    const want = Math.log1p(Math.expm1(weights[c]!) * M(tf) / M(1));
    assert.ok(Math.abs(w[i]! - want) < 0.02 * want, `tf ${tf}: ${w[i]} vs ${want}`);
  });
  assert.ok(w[1]! > w[0]! && w[2]! > w[1]! && w[3]! > w[2]!);
  // nothing else is active: filler words are stop words, no cross-token noise
  for (const v of out) assert.deepEqual([...v.terms], [id]);
});

test('initLexical dense: every state is the weighted mean of the text\'s class directions', async () => {
  const { tok, stats } = await setup();
  const model = new LlamaModel(normaliseConfig(config(tok.vocabSize, 128)), { withHead: true });
  const weights = initLexical(model, stats, { paradigm: 'dense', seed: 5 });
  const E = model.param('model.embed_tokens.weight');
  const C = 128, K = C - 2;
  const texts2 = ['Flow over a swept wing at supersonic speeds.', 'boundary layer transition on a flat plate, the heat transfer'];
  const out = encodeTokens(model, texts2.map((t) => tok.encode(t)), tok.padId, { paradigm: 'dense', maxLength: 64, maxBatch: 8, maxTokens: 4096 }) as Float32Array[];
  for (const [i, t] of texts2.entries()) {
    const want = new Float64Array(C);
    let z = 0;
    for (const id of tok.encode(t)) {
      const c = stats.classOf[id]!;
      const w = c >= 0 ? weights[c]! : 0;
      const p = Math.max(w, Math.exp(-8));
      z += p;
      for (let j = 0; j < K; j++) want[j]! += p * E[id * C + j]!;
    }
    let dot = 0, nw = 0, ng = 0;
    for (let j = 0; j < C; j++) { dot += want[j]! * out[i]![j]!; nw += want[j]! ** 2; ng += out[i]![j]! ** 2; }
    assert.ok(z > 0);
    assert.ok(dot / Math.sqrt(nw * ng) > 0.99, `cosine ${dot / Math.sqrt(nw * ng)}`);
    assert.ok(Math.abs(Math.sqrt(ng) - 1) < 0.02, `norm ${Math.sqrt(ng)}`); // every state points the same way
  }
});

test('initLexical refuses untied embeddings; lion init writes a loadable model and needs --corpus for lexical', async () => {
  const { tok, stats, dir } = await setup();
  const untied = new LlamaModel(normaliseConfig(config(tok.vocabSize, 64, { tie_word_embeddings: false })), { withHead: true });
  assert.throws(() => initLexical(untied, stats, { paradigm: 'sparse', seed: 1 }), /tied/);
  const d = tempDir();
  writeFileSync(join(d, 'config.json'), JSON.stringify(config(tok.vocabSize, 128, { num_attention_heads: 2, num_key_value_heads: 2, rope_theta: 500000 }).raw));
  writeFileSync(join(d, 'corpus.jsonl'), texts.slice(0, 50).map((t, i) => JSON.stringify({ _id: String(i), title: '', text: t })).join('\n') + '\n');
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  let codes: number[];
  try {
    codes = [
      await main(['init', '--config', join(d, 'config.json'), '--tokenizer', dir, '--init', 'lexical-sparse', '--out', join(d, 'm0')]),
      await main(['init', '--config', join(d, 'config.json'), '--tokenizer', dir, '--init', 'lexical-sparse', '--corpus', join(d, 'corpus.jsonl'), '--out', join(d, 'm1')]),
    ];
  } finally { process.stderr.write = write; }
  assert.notEqual(codes[0], 0);
  assert.equal(codes[1], 0);
  assert.ok(existsSync(join(d, 'm1', 'tokenizer.json')));
  const rec = JSON.parse(readFileSync(join(d, 'm1', 'init.json'), 'utf8')) as { documents: number; threshold: number };
  assert.equal(rec.documents, 50);
  assert.equal(rec.threshold, 0.3);
  const m = loadModel(join(d, 'm1'), { withHead: true, trainable: 'none' });
  assert.equal(m.param('model.layers.1.self_attn.o_proj.weight').every((x) => x === 0), true);
  assert.equal(m.param('model.layers.0.self_attn.o_proj.weight').filter((x) => x !== 0).length, 1);
});
