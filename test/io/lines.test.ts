import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readLines, splitWhitespace, parseNumber, parseInteger } from '../../src/io/lines.js';
import { FormatError, NotFoundError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

async function lines(path: string) {
  const out: Array<[number, string]> = [];
  for await (const l of readLines(path)) out.push([l.lineNo, l.line]);
  return out;
}

test('CRLF, a BOM, blank lines and a trailing newline', async () => {
  const p = join(tempDir(), 'a.txt');
  writeFileSync(p, '\ufeffone\r\ntwo\r\n\r\nfour\r\n');
  assert.deepEqual(await lines(p), [[1, 'one'], [2, 'two'], [3, ''], [4, 'four']]);
});

test('a last line without a newline, and an empty file', async () => {
  const d = tempDir();
  writeFileSync(join(d, 'b.txt'), 'x\ny');
  assert.deepEqual(await lines(join(d, 'b.txt')), [[1, 'x'], [2, 'y']]);
  writeFileSync(join(d, 'c.txt'), '');
  assert.deepEqual(await lines(join(d, 'c.txt')), []);
});

test('lines longer than a read chunk and many lines stream correctly', async () => {
  const p = join(tempDir(), 'big.txt');
  const long = 'é'.repeat(1_500_000); // 3 MB of 2-byte characters: chunks end inside characters and lines
  const body = `${long}\r\n${Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n')}\n`;
  writeFileSync(p, body);
  let n = 0;
  for await (const { line, lineNo } of readLines(p)) {
    if (lineNo === 1) assert.equal(line, long);
    else assert.equal(line, `line ${lineNo - 2}`);
    n++;
  }
  assert.equal(n, 50_001);
});

test('gzip files are decompressed; a corrupt one is a FormatError', async () => {
  const d = tempDir();
  writeFileSync(join(d, 'a.tsv.gz'), gzipSync('1\tone\r\n2\ttwo\n'));
  assert.deepEqual(await lines(join(d, 'a.tsv.gz')), [[1, '1\tone'], [2, '2\ttwo']]);
  writeFileSync(join(d, 'bad.gz'), 'not gzip at all');
  await assert.rejects(lines(join(d, 'bad.gz')), FormatError);
});

test('a missing file is a NotFoundError naming it', async () => {
  await assert.rejects(lines('/nonexistent/x.txt'), (e: unknown) => e instanceof NotFoundError && e.file === '/nonexistent/x.txt');
  await assert.rejects(lines(tempDir()), NotFoundError); // a directory is not a file
});

test('field helpers', () => {
  assert.deepEqual(splitWhitespace('  a \t b  c\t'), ['a', 'b', 'c']);
  assert.deepEqual(splitWhitespace(''), []);
  assert.equal(parseNumber('1.5e-3'), 0.0015);
  assert.equal(parseNumber('-7'), -7);
  for (const bad of ['', 'abc', '1.5x', 'NaN', 'Infinity', '0x10', ' 1']) assert.equal(parseNumber(bad), undefined, bad);
  assert.equal(parseInteger('-2'), -2);
  for (const bad of ['1.0', 'one', '', '1e3']) assert.equal(parseInteger(bad), undefined, bad);
});
