// `lion eval` end to end through bin/lion.js: trec_eval text, per-query rows, JSON, positional files and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixtures, repoRoot } from '../../helpers.js';

const qrels = join(fixtures, 'eval', 'qrels.txt');
const run = join(fixtures, 'eval', 'run.trec');

/** Run the real CLI (bin/lion.js over the compiled dist/) in a child process. */
async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'lion.js'), ...argv], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('lion eval prints trec_eval\'s three columns, per query with -q, missing topics with -c', async () => {
  const r = await capture(['eval', '--qrels', qrels, '--run', run, '-c', '-q', '-M', '3', '-m', 'recip_rank', '-m', 'num_ret']);
  assert.equal(r.code, 0);
  assert.equal(r.out, [
    'num_ret               \tq1\t3',
    'recip_rank            \tq1\t0.3333',
    'num_ret               \tq2\t2',
    'recip_rank            \tq2\t0.5000',
    'num_ret               \tq3\t0',
    'recip_rank            \tq3\t0.0000',
    'num_ret               \tall\t5',
    'recip_rank            \tall\t0.2778',
    '',
  ].join('\n'));
});

test('lion eval takes the files as positional arguments, -l, and --json', async () => {
  const r = await capture(['eval', qrels, run, '-l', '2', '-m', 'recip_rank', '--json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out) as { runid: string; num_q: number; all: Record<string, number> };
  assert.equal(j.runid, 'tiny');
  assert.equal(j.num_q, 2);
  assert.ok(Math.abs(j.all.recip_rank! - 1 / 6) < 1e-12);
});

test('lion eval --beir drops self-retrieval', async () => {
  const r = await capture(['eval', '--beir', '--qrels', join(fixtures, 'eval', 'beir-qrels.tsv'), '--run', join(fixtures, 'eval', 'beir-run.trec'), '-m', 'ndcg_cut.10']);
  assert.equal(r.out, `ndcg_cut_10           \tall\t${((1 / (1 + 1 / Math.log2(3)) + 1 / Math.log2(3)) / 2).toFixed(4)}\n`);
});

test('lion eval reports bad input as a coded error with exit status 2', async () => {
  const unknown = await capture(['eval', qrels, run, '-m', 'ndcg@10']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /E_USAGE: unknown measure 'ndcg@10'/);
  const missing = await capture(['eval', '--qrels', qrels]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /needs --qrels and --run/);
  const notFound = await capture(['eval', qrels, join(fixtures, 'eval', 'nope.trec')]);
  assert.match(notFound.err, /E_NOT_FOUND/);
  const bad = await capture(['eval', run, run]);
  assert.match(bad.err, /E_FORMAT: .*run\.trec:line 1: expected TREC qrels/);
});
