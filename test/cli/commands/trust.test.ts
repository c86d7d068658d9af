/**
 * Issue 12 regressions through the real CLI (bin/lion.js in a child process): each case failed silently, crashed
 * or ran away with memory on the old code, and must now give a right answer or a LionError (exit 2, one line).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeDenseShard, SparseShardWriter } from '../../../src/io/vectors.js';
import type { EncoderIdentity } from '../../../src/util/identity.js';
import { repoRoot, tempDir } from '../../helpers.js';

function lion(argv: string[], env: Record<string, string> = {}): { code: number | null; signal: string | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'lion.js'), ...argv], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

/** Exit 2 with `lion <cmd>: <code>:` on stderr and no stack trace. */
function assertLionError(r: ReturnType<typeof lion>, code: string, re?: RegExp): void {
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.err}`);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, new RegExp(`^lion [a-z0-9-]+: ${code}: `), r.err);
  assert.doesNotMatch(r.err, /\n\s+at /, 'stack trace');
  if (re) assert.match(r.err, re);
}

const encA: EncoderIdentity = { model: 'aaaaaaaaaaaaaaaa', name: 'A', head: 'dense', dim: 4, dtype: 'f32' };
const encB: EncoderIdentity = { ...encA, model: 'bbbbbbbbbbbbbbbb', name: 'B' };

function denseData(rows: number, dim: number, seed: number): Float32Array {
  const d = new Float32Array(rows * dim);
  let x = seed;
  for (let i = 0; i < d.length; i++) { x = (x * 1103515245 + 12345) % 2 ** 31; d[i] = (x / 2 ** 31) - 0.5; }
  return d;
}

function setup() {
  const d = tempDir();
  const N = 60, D = 4;
  writeDenseShard(join(d, 'a.f32'), { data: denseData(N, D, 1), rows: N, dim: D, ids: Array.from({ length: N }, (_, i) => `a${i}`) }, encA);
  writeDenseShard(join(d, 'b.f32'), { data: denseData(N, D, 2), rows: N, dim: D, ids: Array.from({ length: N }, (_, i) => `b${i}`) }, encA);
  writeDenseShard(join(d, 'q.f32'), { data: denseData(3, D, 3), rows: 3, dim: D, ids: ['q1', 'q2', 'q3'] }, encA);
  return { d, N };
}

test('a dense index rebuilt without --hnsw drops the old graph; a graph from another .lvec is refused, not searched', () => {
  const { d } = setup();
  const x = join(d, 'x.lvec');
  assert.equal(lion(['index', '--paradigm', 'dense', '--out', x, join(d, 'a.f32'), '--hnsw']).code, 0);
  copyFileSync(`${x}.usearch`, join(d, 'old.usearch'));
  copyFileSync(`${x}.usearch.json`, join(d, 'old.usearch.json'));
  assert.equal(lion(['index', '--paradigm', 'dense', '--out', x, join(d, 'b.f32')]).code, 0);
  assert.equal(existsSync(`${x}.usearch`), false);
  assertLionError(lion(['search', '--index', x, '--query-vectors', join(d, 'q.f32'), '--out', join(d, 'r.trec'), '--mode', 'hnsw']), 'E_NOT_FOUND');
  copyFileSync(join(d, 'old.usearch'), `${x}.usearch`);
  copyFileSync(join(d, 'old.usearch.json'), `${x}.usearch.json`);
  assertLionError(lion(['search', '--index', x, '--query-vectors', join(d, 'q.f32'), '--out', join(d, 'r.trec'), '--mode', 'hnsw']), 'E_ARTIFACT', /another index/);
});

test('a truncated or byte-flipped usearch graph never reaches usearch: a LionError, not SIGABRT/SIGSEGV', () => {
  const { d } = setup();
  const x = join(d, 'x.lvec');
  assert.equal(lion(['index', '--paradigm', 'dense', '--out', x, join(d, 'a.f32'), '--hnsw']).code, 0);
  const good = readFileSync(`${x}.usearch`);
  const search = () => lion(['search', '--index', x, '--query-vectors', join(d, 'q.f32'), '--out', join(d, 'r.trec'), '--mode', 'hnsw']);
  assert.equal(search().code, 0);
  writeFileSync(`${x}.usearch`, good.subarray(0, Math.floor(good.length / 2)));
  assertLionError(search(), 'E_ARTIFACT');
  for (const at of [0, 8, 64, Math.floor(good.length / 2), good.length - 1]) {
    const bad = Buffer.from(good); bad[at] ^= 0xff;
    writeFileSync(`${x}.usearch`, bad);
    assertLionError(search(), 'E_CHECKSUM');
  }
});

test('queries from another encoder are refused (E_FOREIGN) unless --allow-foreign-queries', () => {
  const { d } = setup();
  const x = join(d, 'x.lvec');
  assert.equal(lion(['index', '--paradigm', 'dense', '--out', x, join(d, 'a.f32')]).code, 0);
  writeDenseShard(join(d, 'qb.f32'), { data: denseData(2, 4, 9), rows: 2, dim: 4, ids: ['q1', 'q2'] }, encB);
  assertLionError(lion(['search', '--index', x, '--query-vectors', join(d, 'qb.f32'), '--out', join(d, 'r.trec')]), 'E_FOREIGN', /model aaaaaaaaaaaaaaaa vs bbbbbbbbbbbbbbbb/);
  assert.equal(lion(['search', '--index', x, '--query-vectors', join(d, 'qb.f32'), '--out', join(d, 'r.trec'), '--allow-foreign-queries']).code, 0);
  assertLionError(lion(['index', '--paradigm', 'dense', '--out', join(d, 'y.lvec'), join(d, 'a.f32'), join(d, 'qb.f32')]), 'E_FOREIGN');
});

test('duplicate query ids, --k beyond the collection, --out equal to an input', () => {
  const { d, N } = setup();
  const x = join(d, 'x.lvec');
  assert.equal(lion(['index', '--paradigm', 'dense', '--out', x, join(d, 'a.f32')]).code, 0);
  writeDenseShard(join(d, 'dup.f32'), { data: denseData(2, 4, 4), rows: 2, dim: 4, ids: ['q1', 'q1'] }, encA);
  assertLionError(lion(['search', '--index', x, '--query-vectors', join(d, 'dup.f32'), '--out', join(d, 'r.trec')]), 'E_USAGE', /duplicate query id 'q1'/);
  const r = lion(['search', '--index', x, '--query-vectors', join(d, 'q.f32'), '--out', join(d, 'r.trec'), '--k', '2000000000']);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(join(d, 'r.trec'), 'utf8').trim().split('\n').length, 3 * N);
  assertLionError(lion(['index', '--paradigm', 'dense', '--out', join(d, 'a.f32'), join(d, 'a.f32')]), 'E_USAGE', /also an input/);
  const w = new SparseShardWriter(join(d, 's.lsv'), 10);
  w.add('d1', { terms: Uint32Array.of(1), weights: Float32Array.of(1) });
  w.close();
  assertLionError(lion(['index', '--paradigm', 'sparse', '--out', join(d, 's.lsv'), join(d, 's.lsv')]), 'E_USAGE', /also an input/);
  assertLionError(lion(['search', '--index', x, '--query-vectors', join(d, 'q.f32'), '--out', join(d, 'q.f32')]), 'E_USAGE');
});

test('option values are validated by the parser: --k 0, --rrf-k -10.5, --scale 1e-9 style nonsense', () => {
  const { d } = setup();
  writeFileSync(join(d, 'r1.trec'), 'q1 Q0 d1 1 2.0 a\nq1 Q0 d2 2 1.0 a\n');
  assertLionError(lion(['fuse', '--out', join(d, 'f.trec'), '--rrf-k', '-10.5', join(d, 'r1.trec')]), 'E_USAGE', /--rrf-k must be >= 0/);
  assertLionError(lion(['fuse', '--out', join(d, 'f.trec'), '--k', '0', join(d, 'r1.trec')]), 'E_USAGE', /--k must be >= 1/);
  assertLionError(lion(['search', '--index', 'x', '--query-vectors', 'y', '--out', 'z', '--threads', '-3']), 'E_USAGE');
  assertLionError(lion(['index', '--paradigm', 'sparse', '--out', join(d, 'i.lidx'), '--impact-max', '-1', 'v']), 'E_USAGE');
  assertLionError(lion(['export', '--index', 'x', '--format', 'anserini', '--out', 'y', '--scale', '0']), 'E_USAGE');
  const w = new SparseShardWriter(join(d, 's.lsv'), 10);
  w.add('d1', { terms: Uint32Array.of(1, 3), weights: Float32Array.of(1.5, 0.7) });
  w.add('d2', { terms: Uint32Array.of(2), weights: Float32Array.of(2.5) });
  w.close();
  assert.equal(lion(['index', '--paradigm', 'sparse', '--out', join(d, 's.lidx'), join(d, 's.lsv')]).code, 0);
  assertLionError(lion(['export', '--index', join(d, 's.lidx'), '--format', 'anserini', '--out', join(d, 'e.jsonl'), '--scale', '1e-9']), 'E_USAGE', /rounds 3 of 3 postings/);
  assert.equal(lion(['export', '--index', join(d, 's.lidx'), '--format', 'anserini', '--out', join(d, 'e.jsonl')]).code, 0);
});

test('NaN rows in a dense shard are refused at index build, even in the fast verify mode', () => {
  const { d } = setup();
  const p = join(d, 'a.f32');
  const b = readFileSync(p);
  b.writeFloatLE(NaN, 64 + 4 * 5);
  writeFileSync(p, b);
  assertLionError(lion(['index', '--paradigm', 'dense', '--out', join(d, 'n.lvec'), p]), 'E_CHECKSUM');
  assertLionError(lion(['index', '--paradigm', 'dense', '--out', join(d, 'n.lvec'), p], { LION_VERIFY: 'fast' }), 'E_NONFINITE', /id a1/);
});

test('lion eval warns when the run and the qrels barely share query ids', () => {
  const d = tempDir();
  writeFileSync(join(d, 'qrels'), Array.from({ length: 20 }, (_, i) => `q${i} 0 d1 1`).join('\n'));
  writeFileSync(join(d, 'run'), 'q0 Q0 d1 1 1.0 a\nzz Q0 d1 1 1.0 a\n');
  const r = lion(['eval', join(d, 'qrels'), join(d, 'run')]);
  assert.equal(r.code, 0);
  assert.match(r.err, /warning: only 1 of the run's 2 queries have judgements/);
});

test('operating-system errors (disk full, port in use) print as E_IO with a hint, not a stack trace', async () => {
  const { systemErrorText } = await import('../../../src/cli/main.js');
  const e = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC', path: '/data/run.trec.tmp-1-1' });
  assert.deepEqual(systemErrorText(e), { message: 'ENOSPC (/data/run.trec.tmp-1-1): no space left on device, write', hint: 'the disk is full: free space or write elsewhere' });
  assert.equal(systemErrorText(new TypeError('x')), undefined);
  // A real one: writing a run into a path under a regular file is ENOTDIR, reported as E_IO.
  const { d } = setup();
  writeFileSync(join(d, 'file'), 'x');
  assert.equal(lion(['index', '--paradigm', 'dense', '--out', join(d, 'x.lvec'), join(d, 'a.f32')]).code, 0);
  const r = lion(['search', '--index', join(d, 'x.lvec'), '--query-vectors', join(d, 'q.f32'), '--out', join(d, 'file', 'run.trec')]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^lion search: E_IO: E(NOTDIR|EXIST)/);
  assert.doesNotMatch(r.err, /\n\s+at /);
});
