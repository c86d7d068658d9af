/**
 * JSON Lines parsing shared by the BEIR and training-file readers: one JSON object per line, blank lines
 * skipped, and typed field accessors whose errors name the file, the 1-based line and the field expected.
 */
import { FormatError } from '../errors.js';
import { readLines } from './lines.js';

/** A parsed JSONL object with the position it came from (for error messages). */
export interface JsonLine {
  obj: Record<string, unknown>;
  file: string;
  lineNo: number;
  /** The line's text, to recover integer ids beyond 2^53 digit for digit. */
  raw?: string;
}

/** Stream the objects of a JSON Lines file; malformed JSON or a non-object line is a FormatError. */
export async function* readJsonLines(path: string): AsyncGenerator<JsonLine> {
  for await (const { line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new FormatError(`malformed JSON (${(e as Error).message}); expected one JSON object per line`, {
        file: path, line: lineNo,
      });
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new FormatError('expected a JSON object on this line', { file: path, line: lineNo });
    }
    yield { obj: v as Record<string, unknown>, file: path, lineNo, raw: line };
  }
}

function err(j: JsonLine, field: string, expected: string): FormatError {
  return new FormatError(`field "${field}": expected ${expected}`, { file: j.file, line: j.lineNo, field });
}

/** True when the object has the field (even if null). */
export function has(j: JsonLine, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(j.obj, field);
}

/** A required string field. */
export function str(j: JsonLine, field: string): string {
  const v = j.obj[field];
  if (typeof v !== 'string') throw err(j, field, v === undefined ? 'a string (field is missing)' : `a string, got ${typeof v}`);
  return v;
}

/** An identifier: a string, or an integer written as a JSON number (some tools write numeric ids). */
export function id(j: JsonLine, field: string): string {
  const v = j.obj[field];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'number' && Number.isInteger(v)) {
    // JSON.parse rounded the number to a double; take the digits as written (12345678901234567890 stays itself).
    const key = JSON.stringify(field).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const found = j.raw ? [...j.raw.matchAll(new RegExp(`${key}\\s*:\\s*(-?\\d+)\\s*[,}]`, 'g'))] : [];
    if (found.length === 1 && Number(found[0]![1]) === v) return found[0]![1]!;
    throw err(j, field, `an id that can be read exactly: ${v} is beyond 2^53 as a JSON number; write it as a string`);
  }
  throw err(j, field, v === undefined ? 'an id (field is missing)' : 'a non-empty string or integer id');
}

/** A required finite number. */
export function num(j: JsonLine, field: string): number {
  const v = j.obj[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw err(j, field, v === undefined ? 'a number (field is missing)' : 'a finite number');
  return v;
}

/** A required array of ids. */
export function idList(j: JsonLine, field: string): string[] {
  const v = j.obj[field];
  if (!Array.isArray(v)) throw err(j, field, v === undefined ? 'a list of ids (field is missing)' : 'a list of ids');
  return v.map((x, i) => {
    if (typeof x === 'string' && x.length > 0) return x;
    if (typeof x === 'number' && Number.isSafeInteger(x)) return String(x);
    if (typeof x === 'number' && Number.isInteger(x)) throw err(j, `${field}[${i}]`, `an id that can be read exactly: ${x} is beyond 2^53 as a JSON number; write it as a string`);
    throw err(j, `${field}[${i}]`, 'a non-empty string or integer id');
  });
}

/** A required array of finite numbers. */
export function numList(j: JsonLine, field: string): number[] {
  const v = j.obj[field];
  if (!Array.isArray(v)) throw err(j, field, v === undefined ? 'a list of numbers (field is missing)' : 'a list of numbers');
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw err(j, `${field}[${i}]`, 'a finite number');
    return x;
  });
}

export { err as fieldError };
