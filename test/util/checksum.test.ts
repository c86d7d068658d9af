import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Checksum, checksumOf, fnv1aWords, FNV_OFFSET, makeTrailer, verifyTrailer } from '../../src/util/checksum.js';
import { checkIdentity, commonIdentity, encoderIdentity, identityToJson, modelFingerprint, parseIdentity } from '../../src/util/identity.js';
import { repoRoot, tempDir } from '../helpers.js';

test('streaming checksum does not depend on how the bytes are split, and counts trailing zeros', () => {
  const b = new Uint8Array(1031).map((_, i) => (i * 37) & 255);
  const whole = checksumOf(b);
  const c = new Checksum();
  for (let i = 0; i < b.length; i += 7) c.update(b.subarray(i, i + 7));
  assert.equal(c.digest(), whole);
  assert.notEqual(checksumOf(b, new Uint8Array(1)), whole);
  assert.equal(fnv1aWords(FNV_OFFSET, new Uint8Array(0)), FNV_OFFSET);
});

test('verifyTrailer: a good file passes; a flipped byte is E_CHECKSUM, a cut file E_ARTIFACT', () => {
  const dir = tempDir();
  const header = Buffer.from('HEADER--');
  const body = Buffer.from('some body bytes of odd length');
  const sum = new Checksum().update(body).update(header).digest();
  const p = join(dir, 'f.bin');
  writeFileSync(p, Buffer.concat([header, body, makeTrailer(sum, header.length + body.length)]));
  const open = (mode?: 'full' | 'fast') => { const fd = openSync(p, 'r'); try { return verifyTrailer(fd, p, { headerBytes: 8, mode }); } finally { closeSync(fd); } };
  assert.equal(open().verified, true);
  const good = readFileSync(p);
  const flipped = Buffer.from(good); flipped[12] ^= 1;
  writeFileSync(p, flipped);
  assert.throws(() => open(), (e: any) => e.code === 'E_CHECKSUM');
  assert.equal(open('fast').verified, false);
  writeFileSync(p, good.subarray(0, good.length - 3));
  assert.throws(() => open(), (e: any) => e.code === 'E_ARTIFACT');
});

test('encoder identity: fingerprints tell models apart, round-trip through JSON, and mismatches are E_FOREIGN', () => {
  const sp = join(repoRoot, 'models', 'lion-demo-sp');
  const ds = join(repoRoot, 'models', 'lion-demo-ds');
  assert.equal(modelFingerprint(sp), modelFingerprint(sp));
  assert.notEqual(modelFingerprint(sp), modelFingerprint(ds));
  assert.notEqual(modelFingerprint(sp), modelFingerprint(sp, ds));
  const a = encoderIdentity({ model: sp, head: 'sparse', vocab: 1000 });
  const b = encoderIdentity({ model: ds, head: 'sparse', vocab: 1000 });
  assert.deepEqual(parseIdentity(JSON.parse(JSON.stringify(identityToJson(a)))), a);
  assert.throws(() => parseIdentity({ model: 'x', head: 'sparse', dtype: 'f32' }), (e: any) => e.code === 'E_ARTIFACT');
  checkIdentity(a, a);
  checkIdentity(a, undefined);
  assert.throws(() => checkIdentity(a, b, { indexFile: 'x.lidx' }), (e: any) => e.code === 'E_FOREIGN' && /model/.test(e.message));
  checkIdentity(a, b, { allowForeign: true });
  assert.equal(commonIdentity([a, a], ['1', '2']), a);
  assert.equal(commonIdentity([a, undefined], ['1', '2']), undefined);
  assert.throws(() => commonIdentity([a, b], ['1', '2']), (e: any) => e.code === 'E_FOREIGN');
});
