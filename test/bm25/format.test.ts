/** The on-disk index: round trip, and clear errors for foreign, truncated, altered or future files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { buildBm25Index } from '../../src/bm25/build.js';
import { readBm25Index, writeBm25Index } from '../../src/bm25/format.js';
import { LionError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';
import { HAND_DOCS } from './hand.js';

const isCode = (code: string, text?: RegExp) => (e: unknown) =>
  e instanceof LionError && e.code === code && (!text || text.test(e.message));

test('write then read gives back identical arrays and metadata; no temporary file is left', async () => {
  const dir = tempDir();
  const path = join(dir, 'hand.lbm25');
  const ix = await buildBm25Index(HAND_DOCS, { source: 'hand' });
  await writeBm25Index(path, ix);
  const back = await readBm25Index(path);
  for (const k of ['numDocs', 'numTerms', 'docCount', 'sumTotalTermFreq'] as const) assert.equal(back[k], ix[k], k);
  for (const k of ['docLen', 'docIdOffsets', 'docIdBlob', 'termOffsets', 'termBlob', 'postingOffsets', 'postingDocs', 'postingTfs'] as const) {
    assert.deepEqual([...back[k]], [...ix[k]], k);
    assert.equal(back[k].constructor, ix[k].constructor, k);
  }
  assert.deepEqual(back.meta, ix.meta);
  assert.deepEqual(await fsp.readdir(dir), ['hand.lbm25']);
});

test('loader errors name the file and the problem', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.lbm25');
  await writeBm25Index(good, await buildBm25Index(HAND_DOCS));
  const bytes = await fsp.readFile(good);

  const foreign = join(dir, 'foreign.lbm25');
  await fsp.writeFile(foreign, '{"not": "an index"}\n');
  await assert.rejects(readBm25Index(foreign), isCode('E_ARTIFACT', /not a Lion BM25 index/));
  await assert.rejects(readBm25Index(foreign), (e: unknown) => e instanceof LionError && e.message.includes(foreign));

  const truncated = join(dir, 'truncated.lbm25');
  await fsp.writeFile(truncated, bytes.subarray(0, bytes.length - 8));
  await assert.rejects(readBm25Index(truncated), isCode('E_ARTIFACT', /truncated/));

  const altered = join(dir, 'altered.lbm25');
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 20]! ^= 0x10;
  await fsp.writeFile(altered, flipped);
  await assert.rejects(readBm25Index(altered), isCode('E_ARTIFACT', /checksum/));

  const future = join(dir, 'future.lbm25');
  const v2 = Buffer.from(bytes);
  v2.writeUInt32LE(2, 8);
  await fsp.writeFile(future, v2);
  await assert.rejects(readBm25Index(future), isCode('E_ARTIFACT', /version 2/));

  const empty = join(dir, 'empty.lbm25');
  await fsp.writeFile(empty, '');
  await assert.rejects(readBm25Index(empty), isCode('E_ARTIFACT'));

  await assert.rejects(readBm25Index(join(dir, 'missing.lbm25')), isCode('E_NOT_FOUND'));
});
