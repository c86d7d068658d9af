/**
 * Tokenizer loading and Lion's special-token rules: the shipped Llama-3 tokenizer (BOS prepended, no EOS,
 * pad = <|end_of_text|>, mask "_"), and a minimal hand-written tokenizer.json without BOS or pad.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { llama3Tokenizer, loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { tempDir } from '../helpers.js';

test('Llama-3: "What is the capital of France?" encodes as the reference does', () => {
  const tok = llama3Tokenizer();
  assert.deepEqual(tok.encode('What is the capital of France?'), [128000, 3923, 374, 279, 6864, 315, 9822, 30]);
  assert.equal(tok.bosId, 128000);
  assert.equal(tok.padId, 128001);
  assert.equal(tok.maskId, 62);
  assert.equal(tok.vocabSize, 128256);
  const ids = tok.encode('Hello world');
  assert.equal(ids[0], 128000);
  assert.notEqual(ids.at(-1), tok.eosId, 'no EOS appended');
  assert.notEqual(ids.at(-1), 128001);
  assert.equal(tok.decode(ids), 'Hello world');
  assert.equal(tok.decode(ids, true), '<|begin_of_text|>Hello world');
  assert.deepEqual(tok.encode(''), [128000]);
});

test('a tokenizer without BOS or pad: no BOS, pad falls back to EOS; missing files are errors', () => {
  const dir = tempDir();
  const vocab = { '[UNK]': 0, hello: 1, world: 2, '</s>': 3 };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 3, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null, pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>' }));
  const tok = loadTokenizer(dir);
  assert.deepEqual(tok.encode('hello world'), [1, 2]);
  assert.equal(tok.bosId, null);
  assert.equal(tok.padId, 3);
  assert.equal(tok.vocabSize, 4);
  assert.throws(() => loadTokenizer(join(dir, 'nope')), (e) => isLionError(e) && e.code === 'E_NOT_FOUND');
  writeFileSync(join(dir, 'bad.json'), '{');
  assert.throws(() => loadTokenizer(join(dir, 'bad.json')), (e) => isLionError(e) && e.code === 'E_FORMAT' && /bad\.json/.test(e.message));
});
