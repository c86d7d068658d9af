import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { bytesToUnicode, saveBpe, SPECIAL_TOKENS, trainBpe } from '../../src/tokenizer/bpe-train.js';
import { fixtures, tempDir } from '../helpers.js';

const texts = readFileSync(join(fixtures, 'cranfield', 'corpus.jsonl'), 'utf8').trim().split('\n').slice(0, 400)
  .map((l) => { const j = JSON.parse(l) as { title: string; text: string }; return `${j.title} ${j.text}`; });

test('bytesToUnicode is a bijection onto printable characters', () => {
  const m = bytesToUnicode();
  assert.equal(new Set(m).size, 256);
  assert.equal(m[32], 'Ġ');
  assert.equal(m[65], 'A');
});

test('a trained byte-level BPE loads in @huggingface/tokenizers, adds BOS and round-trips any text', async () => {
  const bpe = trainBpe(texts, { vocabSize: 800 });
  assert.equal(bpe.vocab.size, 797);
  assert.deepEqual(bpe.specialIds, { bos: 797, eos: 798, mask: 799 });
  const d = tempDir();
  await saveBpe(bpe, d);
  const tok = new Tokenizer(JSON.parse(readFileSync(join(d, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(d, 'tokenizer_config.json'), 'utf8')));
  const samples = [
    'experimental investigation of the aerodynamics of a wing in a slipstream .',
    "Don't PANIC: naïve café — 1234567 m/s², ΔT≈3.5K; 日本語 🙂\n\nnew\tline  spaces   ",
    '', ' leading space', 'trailing ',
  ];
  for (const s of samples) {
    const enc = tok.encode(s);
    assert.equal(enc.ids[0], bpe.specialIds.bos, 'BOS first');
    assert.ok(enc.ids.slice(1).every((id: number) => id < 797), 'only BPE ids after BOS');
    assert.equal(tok.decode(enc.ids, { skip_special_tokens: true }), s);
  }
  // Frequent training words became single tokens; merges really compress.
  const common = tok.encode(' the');
  assert.equal(common.ids.length, 2);
  const long = tok.encode(texts[0]!);
  assert.ok(long.ids.length < new TextEncoder().encode(texts[0]!).length / 2.5, `${long.ids.length} tokens`);
  // Special tokens in text map to their ids.
  assert.deepEqual(tok.encode(`a${SPECIAL_TOKENS.mask}`).ids.slice(-1), [bpe.specialIds.mask]);
});

test('training is deterministic and respects the vocabulary size', () => {
  const a = trainBpe(texts.slice(0, 50), { vocabSize: 400 });
  const b = trainBpe(texts.slice(0, 50), { vocabSize: 400 });
  assert.deepEqual(a.merges, b.merges);
  assert.ok(a.merges.length <= 400 - 259);
  assert.throws(() => trainBpe(texts, { vocabSize: 100 }), /at least 259/);
});
