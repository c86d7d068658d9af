// models/lion-bpe-8k, the 8,192-id BPE trained on the pretraining corpus (docs/pretraining-data.md): Lion loads it,
// its special tokens sit where the demonstration tokenizer puts them (after the BPE ids), and any text round-trips.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { SPECIAL_TOKENS } from '../../src/tokenizer/bpe-train.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { fixtures, repoRoot } from '../helpers.js';

const dir = join(repoRoot, 'models', 'lion-bpe-8k');

test('models/lion-bpe-8k loads, keeps BOS/EOS/mask at 8189-8191 and round-trips text', () => {
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { added_tokens: { id: number; content: string }[]; model: { vocab: Record<string, number>; merges: string[] } };
  assert.equal(Object.keys(json.model.vocab).length, 8189);
  assert.equal(json.model.merges.length, 8189 - 256);
  assert.deepEqual(json.added_tokens.map((t) => [t.id, t.content]), [[8189, SPECIAL_TOKENS.bos], [8190, SPECIAL_TOKENS.eos], [8191, SPECIAL_TOKENS.mask]]);
  const tok = loadTokenizer(dir);
  const text = readFileSync(join(fixtures, 'cranfield', 'corpus.jsonl'), 'utf8').split('\n').slice(0, 50).map((l) => (JSON.parse(l) as { text: string }).text);
  let tokens = 0, words = 0;
  for (const s of [...text, "naïve café — 1234 m/s², ΔT≈3.5K; 日本語 🙂"]) {
    const ids = tok.encode(s);
    assert.equal(ids[0], 8189, 'BOS first');
    assert.ok(ids.slice(1).every((id) => id < 8189));
    assert.equal(tok.decode(ids.slice(1)), s);
    tokens += ids.length - 1;
    words += s.split(/\s+/).filter(Boolean).length;
  }
  // Cranfield was never part of its training text; the vocabulary still covers its English well.
  assert.ok(tokens / words < 1.6, `${(tokens / words).toFixed(3)} tokens per word`);
});
