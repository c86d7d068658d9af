import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { crossEntropy, IGNORE, maskBlock, mntpTargets, packBlocks } from '../../src/train/mntp.js';
import { Rng } from '../../src/util/rng.js';
import { fixtures } from '../helpers.js';

test('passages are packed behind BOS into fixed blocks and the remainder is dropped', () => {
  const blocks = [...packBlocks([[5, 6, 7], [8], [9, 10, 11, 12]], 4, 1)];
  assert.deepEqual(blocks.map((b) => Array.from(b)), [[1, 5, 6, 7], [1, 8, 1, 9]]); // [10, 11, 12] dropped
  assert.equal([...packBlocks([[5]], 4, 1)].length, 0);
});

test('masking chooses about 20% of non-special tokens with the 80/10/10 rule, seeded', () => {
  const T = 20000, V = 1000, maskId = 999;
  const block = Int32Array.from({ length: T }, (_, t) => (t % 50 === 0 ? 0 : 1 + (t % 900)));
  const opts = { maskId, vocabSize: V, specialIds: new Set([0]) };
  const a = maskBlock(block, opts, Rng.derive(3, 0));
  const b = maskBlock(block, opts, Rng.derive(3, 0));
  assert.deepEqual(a, b);
  let chosen = 0, masked = 0, kept = 0, special = 0;
  for (let t = 0; t < T; t++) {
    if (block[t] === 0) { special++; assert.equal(a.labels[t], IGNORE); assert.equal(a.inputIds[t], 0); continue; }
    if (a.labels[t] === IGNORE) { assert.equal(a.inputIds[t], block[t]); continue; }
    chosen++;
    assert.equal(a.labels[t], block[t]);
    if (a.inputIds[t] === maskId) masked++;
    else if (a.inputIds[t] === block[t]) kept++;
    assert.ok(a.inputIds[t]! >= 0 && a.inputIds[t]! < V);
  }
  const eligible = T - special;
  assert.ok(Math.abs(chosen / eligible - 0.2) < 0.015, `chosen ${chosen / eligible}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.03, `masked ${masked / chosen}`);
  // "kept" includes random draws that hit the original id (1/1000 of the random 10%).
  assert.ok(Math.abs(kept / chosen - 0.1) < 0.02, `kept ${kept / chosen}`);
  assert.notDeepEqual(maskBlock(block, opts, Rng.derive(4, 0)).labels, a.labels);
});

test('shifted cross-entropy over masked positions matches PyTorch LlamaForCausalLM', () => {
  const g = JSON.parse(readFileSync(join(fixtures, 'golden-losses', 'mntp.json'), 'utf8')) as {
    B: number; T: number; V: number; logits: number[]; labels: number[]; loss: number; dlogits: number[];
  };
  const { B, T, V } = g;
  const { rows, targets } = mntpTargets(Int32Array.from(g.labels), B, T);
  // (0, 0, 4) is at t = 0 and is never predicted: nothing comes before it.
  assert.equal(rows.length, 5);
  const sel = new Float32Array(rows.length * V);
  rows.forEach((r, i) => sel.set(g.logits.slice(r * V, (r + 1) * V), i * V));
  const dsel = new Float32Array(sel.length);
  const loss = crossEntropy(sel, targets, V, dsel);
  assert.ok(Math.abs(loss - g.loss) <= 1e-5 * g.loss, `${loss} vs ${g.loss}`);
  const full = new Float32Array(B * T * V);
  rows.forEach((r, i) => full.set(dsel.subarray(i * V, (i + 1) * V), r * V));
  for (let k = 0; k < full.length; k++) assert.ok(Math.abs(full[k]! - g.dlogits[k]!) < 1e-6, `dlogits[${k}]`);
});
