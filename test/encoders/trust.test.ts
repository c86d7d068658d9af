/** Issue 12 regressions for encoding: non-finite outputs fail the batch and name the text; long lines are cut before tokenising. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRecords, truncatedTokens } from '../../src/encoders/encode.js';
import { tinyModel } from './tiny.js';

const tok = { padId: 2, encode: (s: string) => [1, ...Array.from(s, (ch) => 3 + (ch.charCodeAt(0) % 50))] };

for (const paradigm of ['sparse', 'dense'] as const) {
  test(`${paradigm}: a model that yields NaN (rms_norm_eps -1) fails with E_NONFINITE naming the text`, async () => {
    const model = tinyModel({}, 5, { rmsNormEps: -1 });
    const recs = [{ id: 'd0', text: 'hello world' }];
    await assert.rejects(async () => { for await (const _ of encodeRecords(model, tok, recs, { paradigm, maxLength: 8, maxBatch: 2, maxTokens: 16 })) { /* drain */ } },
      (e: any) => e.code === 'E_NONFINITE' && /id d0/.test(e.message) && /hello world/.test(e.message));
  });
}

test('truncatedTokens gives the first maxLength tokens of a huge line without tokenising all of it', () => {
  let seen = 0;
  const counting = { padId: 2, encode: (s: string) => { seen += s.length; return tok.encode(s); } };
  const huge = 'word '.repeat(12_000_000); // 60 MB
  const ids = truncatedTokens(counting, huge, 64);
  assert.deepEqual(ids, tok.encode(huge.slice(0, 10_000)).slice(0, 64));
  assert.ok(seen < 100_000, `tokenised ${seen} characters`);
  assert.deepEqual(truncatedTokens(tok, 'short', 64), tok.encode('short'));
});

test('sparse: a NaN in the head weights is an error, not a silently lost term', async () => {
  const model = tinyModel();
  model.param(model.headName())[5] = NaN;
  await assert.rejects(async () => { for await (const _ of encodeRecords(model, tok, [{ id: 'd0', text: 'x' }], { paradigm: 'sparse', maxLength: 8, maxBatch: 2, maxTokens: 16 })) { /* drain */ } },
    (e: any) => e.code === 'E_NONFINITE');
});
