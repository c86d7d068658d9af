import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildInvertedIndexFromRecords, buildSparseIndex, writeInvertedIndex } from '../../../src/index/inverted/build.js';
import { loadInvertedIndex } from '../../../src/index/inverted/format.js';
import { SparseShardWriter, writeSparseJsonl } from '../../../src/io/vectors.js';
import { tempDir } from '../../helpers.js';
import { randomDocs } from '../random.js';

const docs = randomDocs(11, 120, 60, 10);

test('an index survives write and load unchanged, for every weight dtype', async () => {
  const d = tempDir();
  for (const dtype of ['f32', 'u8', 'u16'] as const) {
    const ix = await buildInvertedIndexFromRecords(docs, { dtype, blockShift: 2, vocabSize: 64 });
    writeInvertedIndex(ix, join(d, `${dtype}.lidx`));
    const back = loadInvertedIndex(join(d, `${dtype}.lidx`));
    for (const key of ['numDocs', 'vocab', 'numPostings', 'dtype', 'scale', 'blockShift', 'numBlocks', 'bmScale', 'termOffsets', 'docIds', 'weights', 'fwdOffsets', 'fwdTerms', 'fwdWeights', 'bmOffsets', 'bmBlocks', 'bmMax', 'denseRow', 'denseMax', 'ids'] as const) {
      assert.deepEqual(back[key], ix[key], `${dtype} ${key}`);
    }
  }
});

test('postings are sorted by position and block bounds cover every weight', async () => {
  const ix = await buildInvertedIndexFromRecords(docs, { blockShift: 3 });
  for (let t = 0; t < ix.vocab; t++) {
    for (let p = ix.termOffsets[t]! + 1; p < ix.termOffsets[t + 1]!; p++) assert.ok(ix.docIds[p]! > ix.docIds[p - 1]!);
    const bound = new Map<number, number>();
    if (ix.denseRow[t]! >= 0) for (let b = 0; b < ix.numBlocks; b++) bound.set(b, ix.denseMax[ix.denseRow[t]! * ix.numBlocks + b]!);
    else for (let e = ix.bmOffsets[t]!; e < ix.bmOffsets[t + 1]!; e++) bound.set(ix.bmBlocks[e]!, ix.bmMax[e]!);
    for (let p = ix.termOffsets[t]!; p < ix.termOffsets[t + 1]!; p++) {
      const code = bound.get(ix.docIds[p]! >> 3);
      assert.ok(code !== undefined && Math.fround(code * ix.bmScale) >= ix.weights[p]!, `term ${t}`);
    }
  }
});

test('inputs of both formats merge in the order given', async () => {
  const d = tempDir();
  await writeSparseJsonl(join(d, 'a.jsonl'), docs.slice(0, 50));
  const w = new SparseShardWriter(join(d, 'b.lsv'));
  for (const r of docs.slice(50)) w.add(r.id, r.vec);
  w.close();
  const ix = await buildSparseIndex([join(d, 'a.jsonl'), join(d, 'b.lsv')], join(d, 'x.lidx'));
  const whole = await buildInvertedIndexFromRecords(docs);
  assert.deepEqual(ix.ids, whole.ids);
  assert.deepEqual(loadInvertedIndex(join(d, 'x.lidx')).docIds, whole.docIds);
});

test('a failed build leaves no file; bad records name the file and record', async () => {
  const d = tempDir();
  writeFileSync(join(d, 'bad.jsonl'), '{"id":"a","vector":{"3":1}}\n{"id":"b","vector":{"99":1}}\n');
  await assert.rejects(buildSparseIndex([join(d, 'bad.jsonl')], join(d, 'x.lidx'), { vocabSize: 50 }),
    (e: Error & { code?: string; file?: string; line?: number }) => e.code === 'E_SHAPE' && e.file === join(d, 'bad.jsonl') && e.line === 2 && /term id 99/.test(e.message));
  writeFileSync(join(d, 'dup.jsonl'), '{"id":"a","vector":{"3":1}}\n{"id":"a","vector":{"4":1}}\n');
  await assert.rejects(buildSparseIndex([join(d, 'dup.jsonl')], join(d, 'x.lidx')), /appears twice/);
  assert.deepEqual(readdirSync(d).sort(), ['bad.jsonl', 'dup.jsonl']);
});

test('truncated, foreign and corrupted index files are ArtifactErrors naming the file', async () => {
  const d = tempDir();
  const ix = await buildInvertedIndexFromRecords(docs);
  const p = join(d, 'ok.lidx');
  writeInvertedIndex(ix, p);
  const bytes = readFileSync(p);
  const check = (name: string, data: Uint8Array, re: RegExp) => {
    writeFileSync(join(d, name), data);
    assert.throws(() => loadInvertedIndex(join(d, name)), (e: Error & { code?: string; file?: string }) => e.code === 'E_ARTIFACT' && e.file === join(d, name) && re.test(e.message));
  };
  check('short.lidx', bytes.subarray(0, 100), /truncated/);
  check('cut.lidx', bytes.subarray(0, bytes.length - 200), /cut short/);
  check('foreign.lidx', Buffer.from('PK\x03\x04 this is a zip file, not an index'.padEnd(600, '.')), /not a Lion sparse index/);
  const v1 = Buffer.from(bytes); v1.writeUInt32LE(1, 8);
  check('v1.lidx', v1, /version 1/);
  const bad = Buffer.from(bytes);
  const docOff = bad.readDoubleLE(64 + 16); // docIds section
  bad.writeUInt32LE(1e6, docOff);
  writeFileSync(join(d, 'corrupt.lidx'), bad);
  assert.throws(() => loadInvertedIndex(join(d, 'corrupt.lidx')), (e: Error & { code?: string; file?: string }) => e.code === 'E_CHECKSUM' && e.file === join(d, 'corrupt.lidx'));
  // Without the checksum pass, the invariants still catch it.
  assert.throws(() => loadInvertedIndex(join(d, 'corrupt.lidx'), { verify: false }), /postings of term/);
  assert.throws(() => loadInvertedIndex(join(d, 'none.lidx')), (e: Error & { code?: string }) => e.code === 'E_NOT_FOUND');
});
