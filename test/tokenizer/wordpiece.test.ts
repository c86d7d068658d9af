/**
 * BERT's WordPiece tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece model and decoder, [CLS] $A [SEP]
 * template) runs through @huggingface/tokenizers: lowercasing, accent stripping, punctuation splitting, greedy
 * longest-match-first sub-words with the ## prefix, [UNK], the template, and decoding that joins sub-words.
 * The vocabulary is the small one of test/fixtures/golden/bert (scripts/make_golden_encoders.py).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { fixtures } from '../helpers.js';

const tok = loadTokenizer(join(fixtures, 'golden', 'bert'));
const id = (t: string) => tok.tokenId(t)!;

test('WordPiece: normalisation, sub-words, unknowns and the [CLS] … [SEP] template', () => {
  assert.deepEqual(tok.encodeTemplate('What is the Capital of FRANCE?'),
    ['[CLS]', 'what', 'is', 'the', 'capital', 'of', 'france', '?', '[SEP]'].map(id));
  assert.deepEqual(tok.encodeTemplate('unaffable runs'), ['[CLS]', 'un', '##aff', '##able', 'run', '##s', '[SEP]'].map(id));
  assert.deepEqual(tok.encodeTemplate('Café, xyzzy!'), ['[CLS]', 'cafe', ',', '[UNK]', '!', '[SEP]'].map(id));
  assert.equal(tok.padId, id('[PAD]'));
  assert.equal(tok.bosId, id('[CLS]'));
});

test('WordPiece decoding joins sub-words and drops special tokens', () => {
  assert.equal(tok.decode(tok.encodeTemplate('unaffable cats sleep')), 'unaffable cats sleep');
  // a lone continuation piece keeps its ## marker (nothing to join it to)
  assert.equal(tok.decode([id('##able')]), '##able');
  assert.equal(tok.decode([id('[CLS]')]), '');
});
