import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeByteTerms, readableToken, tokenBytes } from '../../src/server/tokens.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { repoRoot } from '../helpers.js';

const dir = join(repoRoot, 'models', 'lion-demo-sp');

test('token ids map to their bytes; whole tokens read as text, fragments as bytes, never as U+FFFD', () => {
  const tok = loadTokenizer(dir);
  const bytesOf = tokenBytes(tok.file);
  const ids = tok.encode('flutter').slice(1); // the tokenizer prepends the space itself
  assert.equal(ids.map((id) => readableToken(bytesOf(id), id)).join(''), 'flutter');
  // Every id's bytes are exactly what the tokenizer decodes them to (for whole characters).
  for (let id = 0; id < 4093; id += 7) {
    const b = bytesOf(id)!;
    const text = tok.decode([id]);
    if (!text.includes('\uFFFD')) assert.deepEqual(b, new TextEncoder().encode(text), `id ${id}`);
    else assert.match(readableToken(b, id), /^‹[0-9a-f]{2}( [0-9a-f]{2})*›$/);
  }
});

test('fragments that spell a character of the query are merged into it, weights summed', () => {
  const tok = loadTokenizer(dir);
  const bytesOf = tokenBytes(tok.file);
  const text = 'über Straße façade';
  const ids = tok.encode(text).slice(1);
  const frags = ids.filter((id) => readableToken(bytesOf(id), id).startsWith('‹'));
  assert.ok(frags.length >= 2, 'the small vocabulary splits these characters into byte tokens');
  const terms = [...new Set(ids)].map((id, i) => ({ term: readableToken(bytesOf(id), id), id, weight: 1 + i / 10 }));
  const merged = mergeByteTerms(terms, bytesOf, tok.encode(text));
  const shown = merged.map((t) => t.term);
  assert.ok(!shown.some((t) => t.startsWith('‹')), `no byte fragment left: ${shown}`);
  for (const ch of ['ü', 'ß', 'ç']) assert.ok(shown.some((t) => t.includes(ch)), `${ch} is readable in ${shown}`);
  const total = (xs: Array<{ weight: number }>) => xs.reduce((s, x) => s + x.weight, 0);
  assert.ok(Math.abs(total(merged) - total(terms)) < 1e-9, 'weights are summed, not lost');
  for (let i = 1; i < merged.length; i++) assert.ok(merged[i]!.weight <= merged[i - 1]!.weight);
});
