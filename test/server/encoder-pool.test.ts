// The worker-thread query encoder: same vectors as encoding in-process, concurrency, deadlines, load errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS } from '../../src/defaults.js';
import { encodeTokens } from '../../src/encoders/encode.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { QueryEncoderPool } from '../../src/server/encoder-pool.js';
import type { SparseVec } from '../../src/types.js';
import { neuralFixture } from './fixture.js';

const L = DEFAULTS.encode.queryMaxLength;
const texts = ['heat transfer', 'laminar boundary layer on a flat plate', 'wing', 'supersonic flow past a cone', 'x'];

/** Equal up to float rounding: a batch is padded to its longest query, which may change the last bits. */
function closeVec(a: SparseVec | Float32Array, b: SparseVec | Float32Array, what: string): void {
  const toMap = (v: SparseVec | Float32Array) =>
    v instanceof Float32Array ? new Map(Array.from(v, (x, i) => [i, x])) : new Map(Array.from(v.terms, (t, i) => [t, v.weights[i]!]));
  const ma = toMap(a);
  const mb = toMap(b);
  for (const k of new Set([...ma.keys(), ...mb.keys()])) {
    const x = ma.get(k) ?? 0;
    const y = mb.get(k) ?? 0;
    assert.ok(Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(y)), `${what}: term ${k}: ${x} vs ${y}`);
  }
}

test('sparse and dense encodings on workers equal in-process encodings, queued queries batched', async () => {
  const fx = await neuralFixture();
  const tok = loadTokenizer(fx.model);
  for (const paradigm of ['sparse', 'dense'] as const) {
    const m = loadModel(fx.model, { withHead: paradigm === 'sparse', trainable: 'none' });
    const pool = await QueryEncoderPool.start({ model: fx.model, paradigm, maxLength: L, maxBatch: 16, workers: 1, timeoutMs: 30_000 });
    try {
      assert.equal(pool.vocab, 384);
      assert.equal(pool.dim, 16);
      const single = await pool.encode(texts[0]!); // alone: a batch of one, bit-identical to encoding in-process
      const got = await Promise.all(texts.map((t) => pool.encode(t))); // the first goes alone, the other four queue
      assert.deepEqual(pool.stats, { batches: 3, queries: 6 });
      texts.forEach((t, i) => {
        const want = encodeTokens(m, [tok.encode(t).slice(0, L)], tok.padId, { paradigm, maxLength: L, maxBatch: 1, maxTokens: L })[0]!;
        if (i === 0) assert.deepEqual(single, want);
        closeVec(got[i]!, want, `${paradigm} '${t}'`);
      });
    } finally {
      await pool.close();
    }
  }
});

test('a deadline shorter than any encoding fails with E_TIMEOUT; closing rejects queued work', async () => {
  const fx = await neuralFixture();
  const pool = await QueryEncoderPool.start({ model: fx.model, paradigm: 'sparse', maxLength: L, maxBatch: 16, workers: 1, timeoutMs: 0 });
  await assert.rejects(pool.encode('heat transfer'), (e: any) => e.code === 'E_TIMEOUT' && e.status === 503);
  await pool.close();
  await assert.rejects(pool.encode('after close'), (e: any) => e.code === 'E_CLOSING');
});

test('a folder that is not a model fails at start with the reason', async () => {
  const fx = await neuralFixture();
  await assert.rejects(
    QueryEncoderPool.start({ model: fx.dir, paradigm: 'dense', maxLength: L, maxBatch: 16, workers: 1, timeoutMs: 1000 }),
    (e: any) => e.code === 'E_MODEL' && /cannot load the query encoder/.test(e.message),
  );
});
