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

/** The textbook algorithm: recount every adjacent pair each round, merge the most frequent (ties: merged string). */
function referenceMerges(input: string[], vocabSize: number): string[] {
  const split = /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
  const b2u = bytesToUnicode();
  const counts = new Map<string, number>();
  for (const t of input) for (const m of t.matchAll(split)) {
    const w = [...new TextEncoder().encode(m[0])].map((b) => b2u[b]).join('');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  let words = [...counts].map(([w, c]) => ({ syms: [...w], c }));
  const merges: string[] = [];
  while (256 + merges.length < vocabSize - 3) {
    const pairs = new Map<string, { a: string; b: string; c: number }>();
    for (const { syms, c } of words) for (let k = 0; k + 1 < syms.length; k++) {
      const key = `${syms[k]}\u0000${syms[k + 1]}`;
      const e = pairs.get(key) ?? { a: syms[k]!, b: syms[k + 1]!, c: 0 };
      e.c += c;
      pairs.set(key, e);
    }
    let best: { a: string; b: string; c: number } | undefined;
    for (const e of pairs.values()) {
      if (e.c < 2) continue;
      if (!best || e.c > best.c || (e.c === best.c && e.a + e.b < best.a + best.b)) best = e;
    }
    if (!best) break;
    merges.push(`${best.a} ${best.b}`);
    words = words.map(({ syms, c }) => {
      const out: string[] = [];
      for (let k = 0; k < syms.length; k++) {
        if (k + 1 < syms.length && syms[k] === best!.a && syms[k + 1] === best!.b) { out.push(best!.a + best!.b); k++; } else out.push(syms[k]!);
      }
      return { syms: out, c };
    });
  }
  return merges;
}

test('the incremental trainer merges exactly as the textbook algorithm', () => {
  const input = texts.slice(0, 120);
  const bpe = trainBpe(input, { vocabSize: 700 });
  assert.deepEqual(bpe.merges.map(([a, b]) => `${a} ${b}`), referenceMerges(input, 700));
  assert.throws(() => trainBpe(texts, { vocabSize: 0x200001 }), /at most/);
});
