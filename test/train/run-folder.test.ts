/** Issue 12: a training run owns its folder (lock, finished run, changed settings refused unless forced). */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { main } from '../../src/cli/main.js';
import { lockRunFolder, settingDifferences } from '../../src/train/run-folder.js';
import { repoRoot, tempDir } from '../helpers.js';
import { tinySetup } from './setup.js';

async function lion(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  try { return { code: await main(args), err }; } finally { process.stderr.write = write; }
}

test('finished run says so and exits 0; changed settings are refused naming them; --force-resume continues', async () => {
  const s = await tinySetup();
  const d = tempDir();
  const cfg = join(d, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    model_type: 'llama', vocab_size: 384, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2,
    num_key_value_heads: 1, rms_norm_eps: 1e-5, tie_word_embeddings: true, max_position_embeddings: 64,
  }));
  const out = join(d, 'm');
  const args = ['mntp', '--config', cfg, '--tokenizer', s.model, '--corpus', s.corpus, '--out', out, '--max-passages', '40',
    '--block-length', '32', '--batch-size', '2', '--max-steps', '2', '--lr', '1e-3', '--log-every', '1'];
  let r = await lion(args);
  assert.equal(r.code, 0, r.err);
  const log = readFileSync(join(out, 'train_log.jsonl'), 'utf8');
  r = await lion(args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /already holds the finished run \(step 2 of 2\)/);
  assert.doesNotMatch(r.err, /NaN/);
  assert.equal(readFileSync(join(out, 'train_log.jsonl'), 'utf8'), log);
  r = await lion([...args.slice(0, -6), '--max-steps', '3', '--lr', '2e-3', '--log-every', '1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /E_USAGE: .*lr: 0\.001 -> 0\.002.*maxSteps: 2 -> 3/);
  r = await lion([...args.slice(0, -4), '--max-steps', '3', '--force-resume']);
  assert.equal(r.code, 0, r.err);
  assert.equal(existsSync(join(out, 'train.lock')), false);
  // A damaged checkpoint is refused on resume, not trained on.
  const opt = join(out, 'checkpoint-3', 'optimizer.safetensors');
  const b = readFileSync(opt); b[b.length - 3] ^= 0x40; writeFileSync(opt, b);
  r = await lion([...args.slice(0, -4), '--max-steps', '4', '--force-resume']);
  assert.equal(r.code, 2);
  assert.match(r.err, /E_CHECKSUM: .*optimizer\.safetensors/);
});

test('the folder lock refuses a live holder (E_BUSY) and takes over a dead one', async () => {
  const d = tempDir();
  const release = lockRunFolder(d);
  assert.throws(() => lockRunFolder(d), (e: any) => e.code === 'E_BUSY' && new RegExp(`pid ${process.pid}`).test(e.message));
  release();
  assert.equal(existsSync(join(d, 'train.lock')), false);
  // A lock left by a killed process is stale.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10)']);
  await new Promise((res) => child.on('exit', res));
  writeFileSync(join(d, 'train.lock'), JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), started: 'then' }));
  lockRunFolder(d)();
  assert.deepEqual(settingDifferences({ lr: 1, logEvery: 1, output: 'a' }, { lr: 2, logEvery: 5, output: 'b' }), ['lr: 1 -> 2']);
  assert.ok(repoRoot);
});
