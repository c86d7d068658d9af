import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { AtomicFileSync, replaceDirSync, tempName, withAtomicWrite, writeFileAtomic, writeFileAtomicSync } from '../../src/util/atomic.js';
import { tempDir } from '../helpers.js';

test('writeFileAtomic replaces the file and leaves no temp files', async () => {
  const d = tempDir();
  const p = join(d, 'a.txt');
  await writeFileAtomic(p, 'one');
  await writeFileAtomic(p, 'two');
  assert.equal(readFileSync(p, 'utf8'), 'two');
  assert.deepEqual(readdirSync(d), ['a.txt']);
});

test('a failed atomic write keeps the previous version and removes the temp file', async () => {
  const d = tempDir();
  const p = join(d, 'idx.bin');
  await writeFileAtomic(p, 'good');
  await assert.rejects(
    withAtomicWrite(p, async (out) => {
      await out.write('partial');
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(readFileSync(p, 'utf8'), 'good');
  assert.deepEqual(readdirSync(d), ['idx.bin']);
  assert.ok(existsSync(p));
});

test('many backpressured writes through an atomic stream do not accumulate listeners', async () => {
  const d = tempDir();
  const p = join(d, 'big.bin');
  const chunk = new Uint8Array(1 << 16);
  await withAtomicWrite(p, async (out) => {
    for (let i = 0; i < 200; i++) await out.write(chunk);
    assert.ok(out.stream.listenerCount('error') <= 2, `error listeners: ${out.stream.listenerCount('error')}`);
  });
  assert.equal(readFileSync(p).length, 200 * chunk.length);
});

test('a new write to a path removes the temporary files that dead processes left behind, not live ones', async () => {
  const { spawnSync } = await import('node:child_process');
  const { existsSync: exists, writeFileSync: write, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join: j } = await import('node:path');
  const { writeFileAtomic: wfa } = await import('../../src/util/atomic.js');
  const d = mkdtempSync(j(tmpdir(), 'lion-atomic-'));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const p = j(d, 'run.trec');
  write(`${p}.tmp-${dead}-1`, 'half');
  write(`${p}.tmp-${process.pid}-999999`, 'mine, still writing');
  write(j(d, `other.tmp-${dead}-1`), 'another path');
  await wfa(p, 'done');
  assert.equal(exists(`${p}.tmp-${dead}-1`), false);
  assert.equal(exists(`${p}.tmp-${process.pid}-999999`), true);
  assert.equal(exists(j(d, `other.tmp-${dead}-1`)), true);
});

test('AtomicFileSync: positioned writes appear only on commit; abort leaves the old file and no temp', () => {
  const d = tempDir();
  const p = join(d, 'shard.bin');
  writeFileAtomicSync(p, 'old');
  const f = new AtomicFileSync(p);
  f.write(new Uint8Array([5, 6]), 2);
  f.write(new Uint8Array([1, 2]), 0);
  assert.equal(readFileSync(p, 'utf8'), 'old');
  f.commit();
  assert.deepEqual([...readFileSync(p)], [1, 2, 5, 6]);
  assert.throws(() => f.commit(), /already finished/);
  const g = new AtomicFileSync(p);
  g.write(new Uint8Array([9]));
  g.abort();
  assert.deepEqual([...readFileSync(p)], [1, 2, 5, 6]);
  assert.deepEqual(readdirSync(d), ['shard.bin']);
});

test('replaceDirSync swaps a complete folder into place', () => {
  const d = tempDir();
  const best = join(d, 'best');
  mkdirSync(best);
  writeFileSync(join(best, 'old.txt'), 'old');
  const tmp = tempName(best);
  mkdirSync(tmp);
  writeFileSync(join(tmp, 'new.txt'), 'new');
  replaceDirSync(tmp, best);
  assert.deepEqual(readdirSync(best), ['new.txt']);
  assert.deepEqual(readdirSync(d), ['best']);
});
