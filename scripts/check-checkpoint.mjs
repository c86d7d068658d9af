#!/usr/bin/env node
/**
 * The authors' README toy example as an acceptance check for any local checkpoint: encode two queries and two
 * passages with one encoder and print the 2x2 score matrix (queries x passages). With `--expect 1b` the
 * matrix is compared with the values the authors' README prints for the released 1B checkpoints
 * (hzeng/Lion-SP-1B-llama3-marco-mntp, hzeng/Lion-DS-1B-llama3-marco-mntp; spec §8.4) and the script exits 1
 * when an entry is off by more than 1% of the matrix's largest expected value.
 *
 * Usage (after `npm run build`):
 *   node scripts/check-checkpoint.mjs --paradigm sparse --model Llama-3.2-1B --adapter Lion-SP-1B-llama3-marco-mntp --expect 1b
 *   node scripts/check-checkpoint.mjs --paradigm dense  --model Llama-3.2-1B --adapter Lion-DS-1B-llama3-marco-mntp --expect 1b
 *   node scripts/check-checkpoint.mjs --paradigm sparse --model models/lion-demo-sp     (any full model, no adapter)
 * Options: --max-length N (default 192, as the README), --json.
 * The tokenizer is the adapter folder's tokenizer.json when it has one (the releases ship it), else the model's.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lion = await import(join(root, 'dist', 'src', 'index.js'));

export const QUERIES = ['What is the capital of France?', "Who wrote '1984'?"];
export const PASSAGES = ['Paris is the capital of France.', "George Orwell wrote '1984'."];
/** The matrices the authors' README prints for the released 1B checkpoints (max_length 192). */
export const EXPECTED_1B = {
  sparse: [[14.8352, 0.02641], [0.005473, 13.9098]],
  dense: [[0.28776, 0.13212], [0.10407, 0.29219]],
};

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const paradigm = opt('paradigm');
const model = opt('model');
const adapter = opt('adapter');
const expect = opt('expect');
const maxLength = Number(opt('max-length') ?? 192);
if ((paradigm !== 'sparse' && paradigm !== 'dense') || !model) {
  process.stderr.write('usage: node scripts/check-checkpoint.mjs --paradigm sparse|dense --model DIR [--adapter DIR] [--expect 1b] [--max-length 192] [--json]\n');
  process.exit(2);
}
if (expect !== undefined && expect !== '1b') {
  process.stderr.write(`--expect knows only "1b" (the README's values for the released 1B checkpoints), got "${expect}"\n`);
  process.exit(2);
}

try {
  const t0 = performance.now();
  const m = lion.loadModel(model, { adapter, merge: Boolean(adapter), withHead: paradigm === 'sparse', trainable: 'none' });
  const tok = lion.loadTokenizer(adapter && existsSync(join(adapter, 'tokenizer.json')) ? adapter : model);
  const loadSeconds = (performance.now() - t0) / 1000;
  const scores = lion.scoreMatrix(m, tok, QUERIES, PASSAGES, paradigm, maxLength);
  const expected = expect ? EXPECTED_1B[paradigm] : null;
  let ok = true;
  let worst = 0;
  if (expected) {
    const scale = Math.max(...expected.flat().map(Math.abs));
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) worst = Math.max(worst, Math.abs(scores[i][j] - expected[i][j]) / scale);
    ok = worst <= 1e-2;
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify({ paradigm, model, adapter: adapter ?? null, maxLength, queries: QUERIES, passages: PASSAGES, scores, expected, worstError: expected ? worst : null, ok, loadSeconds }, null, 2));
  } else {
    const fmt = (x) => x.toFixed(4).padStart(10);
    console.log(`${paradigm} scores (rows: queries, columns: passages; model ${model}${adapter ? ` + ${adapter}` : ''}, loaded in ${loadSeconds.toFixed(1)} s)`);
    console.log(`${''.padEnd(32)}${PASSAGES.map((p) => p.slice(0, 10).padStart(10)).join(' ')}`);
    QUERIES.forEach((q, i) => console.log(`${q.padEnd(32)}${scores[i].map(fmt).join(' ')}`));
    if (expected) {
      console.log(`expected (authors' README, 1B): ${JSON.stringify(expected)}`);
      console.log(`largest error ${(worst * 100).toFixed(3)}% of the largest expected score: ${ok ? 'OK' : 'MISMATCH'}`);
    } else {
      const diag = scores[0][0] > scores[0][1] && scores[1][1] > scores[1][0];
      console.log(`each query scores its own passage highest: ${diag ? 'yes' : 'no'}`);
    }
  }
  process.exit(ok ? 0 : 1);
} catch (e) {
  process.stderr.write(`check-checkpoint: ${e instanceof Error ? e.message : String(e)}\n`);
  if (e && typeof e === 'object' && 'hint' in e && e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
  process.exit(2);
}
