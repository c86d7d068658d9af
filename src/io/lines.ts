/**
 * Streaming line reader under every text format in src/io/. Owns: opening a file (plain or `.gz`), decoding
 * UTF-8 in chunks and cutting it into lines, so an 8.8M-line MS MARCO collection is never held as one string.
 *
 * Invariants: line numbers are 1-based and count every physical line, including blank ones, so error messages
 * point at the line an editor shows. A trailing `\r` (CRLF files) is removed, a UTF-8 byte-order mark on the
 * first line is removed, and the empty "line" after a final newline is not yielded. Blank lines in the middle
 * are yielded (as `''`); each format decides whether it skips them.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { FormatError, NotFoundError } from '../errors.js';

/** One physical line of a text file. */
export interface Line {
  /** The line without its terminator (`\n` or `\r\n`). */
  line: string;
  /** 1-based line number in the file. */
  lineNo: number;
}

/** Throw NotFoundError unless `path` is a readable regular file. */
export async function assertReadableFile(path: string, what = 'file'): Promise<void> {
  let st;
  try {
    st = await fsp.stat(path);
  } catch {
    throw new NotFoundError(`${what} not found: ${path}`, { file: path });
  }
  if (!st.isFile()) throw new NotFoundError(`${what} is not a regular file: ${path}`, { file: path });
}

function openText(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!path.endsWith('.gz')) {
    raw.setEncoding('utf8');
    return raw;
  }
  const gz = createGunzip();
  raw.on('error', (e) => gz.destroy(e));
  raw.pipe(gz);
  gz.setEncoding('utf8');
  return gz;
}

/**
 * Stream the lines of a text file (`.gz` is decompressed on the fly).
 *
 * @example
 * ```ts
 * for await (const { line, lineNo } of readLines('collection.tsv')) { ... }
 * ```
 */
export async function* readLines(path: string): AsyncGenerator<Line> {
  await assertReadableFile(path);
  const stream = openText(path);
  let carry = '';
  let lineNo = 0;
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = carry + chunk;
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      let start = 0;
      let nl = text.indexOf('\n', start);
      while (nl >= 0) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        lineNo += 1;
        yield { line: text.slice(start, end), lineNo };
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      carry = start === 0 ? text : text.slice(start);
    }
  } catch (e) {
    if (e instanceof Error && 'code' in e && String((e as { code?: unknown }).code).startsWith('Z_')) {
      throw new FormatError(`not a valid gzip file (${e.message})`, { file: path, cause: e });
    }
    throw e;
  } finally {
    stream.destroy();
  }
  if (carry.length > 0) {
    const end = carry.charCodeAt(carry.length - 1) === 13 ? carry.length - 1 : carry.length;
    lineNo += 1;
    yield { line: carry.slice(0, end), lineNo };
  }
}

/** The first non-blank line of a file (for format sniffing), or undefined for an empty file. */
export async function firstNonBlankLine(path: string): Promise<Line | undefined> {
  for await (const l of readLines(path)) {
    if (l.line.trim() !== '') return l;
  }
  return undefined;
}

/** Split on runs of spaces and tabs, as trec_eval does for qrels and runs. */
export function splitWhitespace(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    while (i < n && (c === 32 || c === 9)) c = line.charCodeAt(++i);
    if (i >= n) break;
    const s = i;
    while (i < n && c !== 32 && c !== 9) c = line.charCodeAt(++i);
    out.push(line.slice(s, i));
  }
  return out;
}

/** Strict number parsing: the whole field must be a finite decimal number (no trailing junk). */
export function parseNumber(s: string): number | undefined {
  if (s.length === 0) return undefined;
  const v = Number(s);
  if (!Number.isFinite(v)) return undefined;
  // Number() accepts '', ' 1', '0x10', '1_000' is rejected already; reject hex/binary/octal forms.
  if (/^[+-]?0[xXbBoO]/.test(s) || /\s/.test(s)) return undefined;
  return v;
}

/** Strict integer parsing (grades): optional sign and digits only. */
export function parseInteger(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : undefined;
}
