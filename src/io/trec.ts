/**
 * TREC files: qrels (`qid iter docno grade`, and BEIR's `query-id\tcorpus-id\tscore` TSV with its header, and
 * the `{qid: {docid: grade}}` JSON of the authors' code), runs (6 columns `qid Q0 docno rank score tag`, the
 * 3-column `qid docno score` form, and `{qid: {docid: score}}` JSON) and run writing.
 *
 * Invariants: fields are separated by runs of spaces/tabs as trec_eval reads them; grades are integers;
 * scores are finite numbers; every line of a file has the column count of its first line; a docid appears at
 * most once per query in a run (a FormatError otherwise, where trec_eval would silently mis-count); the rank
 * column is kept nowhere, because trec_eval ignores it. Qrels may repeat a judgement only with the same grade.
 */
import { promises as fsp } from 'node:fs';
import { FormatError, UsageError } from '../errors.js';
import type { Hit, Qrels, Run } from '../types.js';
import { withAtomicWrite } from '../util/atomic.js';
import { compareHits } from '../order.js';
import { assertReadableFile, parseInteger, parseNumber, readLines, splitWhitespace } from './lines.js';

const isJson = (path: string) => /\.json$/i.test(path);

async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  await assertReadableFile(path, what);
  let v: unknown;
  try {
    v = JSON.parse(await fsp.readFile(path, 'utf8'));
  } catch (e) {
    throw new FormatError(`malformed JSON (${(e as Error).message}); expected {qid: {docid: number}}`, { file: path });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new FormatError('expected a JSON object {qid: {docid: number}}', { file: path });
  }
  return v as Record<string, unknown>;
}

/** Read `{qid: {docid: number}}` JSON, checking every value with `check` (grade or score). */
async function readNestedJson(path: string, what: string, expected: string,
  check: (v: unknown) => boolean): Promise<Map<string, Map<string, number>>> {
  const obj = await readJsonObject(path, what);
  const out = new Map<string, Map<string, number>>();
  for (const [qid, inner] of Object.entries(obj)) {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
      throw new FormatError(`query "${qid}": expected an object {docid: ${expected}}`, { file: path, field: qid });
    }
    const m = new Map<string, number>();
    for (const [docid, v] of Object.entries(inner as Record<string, unknown>)) {
      if (!check(v)) throw new FormatError(`query "${qid}", doc "${docid}": expected ${expected}`, { file: path, field: `${qid}.${docid}` });
      m.set(docid, v as number);
    }
    out.set(qid, m);
  }
  return out;
}

/**
 * Read relevance judgements: TREC qrels `qid 0|Q0 docid grade`, BEIR qrels TSV (header line
 * `query-id corpus-id score` optional), or `.json` `{qid: {docid: grade}}`.
 *
 * @example
 * ```ts
 * const qrels = await readQrels('scifact/qrels/test.tsv'); // Map qid -> Map docid -> grade
 * ```
 */
export async function readQrels(path: string): Promise<Qrels> {
  if (isJson(path)) {
    return readNestedJson(path, 'qrels', 'an integer grade', (v) => typeof v === 'number' && Number.isInteger(v));
  }
  await assertReadableFile(path, 'qrels');
  const qrels: Qrels = new Map();
  let cols = 0;
  for await (const { line, lineNo } of readLines(path)) {
    const f = splitWhitespace(line);
    if (f.length === 0) continue;
    if (cols === 0) {
      if (f.length !== 4 && f.length !== 3) {
        throw new FormatError(`expected TREC qrels 'qid iter docid grade' (4 columns) or BEIR 'query-id corpus-id score' (3 columns), got ${f.length} columns`, { file: path, line: lineNo });
      }
      cols = f.length;
      if (cols === 3 && parseInteger(f[2]!) === undefined) continue; // BEIR header line
    } else if (f.length !== cols) {
      const form = cols === 4 ? "'qid iter docid grade'" : "'query-id corpus-id score'";
      throw new FormatError(`expected ${cols} columns ${form} like the first line, got ${f.length}`, { file: path, line: lineNo });
    }
    const qid = f[0]!;
    const docid = f[cols - 2]!;
    const grade = parseInteger(f[cols - 1]!);
    if (grade === undefined) {
      throw new FormatError(`expected an integer relevance grade, got '${f[cols - 1]}'`, { file: path, line: lineNo, field: 'grade' });
    }
    let m = qrels.get(qid);
    if (!m) qrels.set(qid, (m = new Map()));
    const prev = m.get(docid);
    if (prev !== undefined && prev !== grade) {
      throw new FormatError(`doc ${docid} of query ${qid} is judged twice with different grades (${prev} and ${grade})`, { file: path, line: lineNo });
    }
    m.set(docid, grade);
  }
  return qrels;
}

/** A run as read from a file, with the run tag trec_eval prints as `runid`. */
export interface RunFile {
  run: Run;
  /** Tag of the first line (6-column form); 'unknown' for the 3-column and JSON forms. */
  tag: string;
  format: 'trec' | 'trec3' | 'json';
}

/** Read a run with its tag. See `readRun`. */
export async function readRunFile(path: string): Promise<RunFile> {
  if (isJson(path)) {
    const nested = await readNestedJson(path, 'run', 'a finite score', (v) => typeof v === 'number' && Number.isFinite(v));
    const run: Run = new Map();
    for (const [qid, m] of nested) run.set(qid, [...m].map(([docid, score]) => ({ docid, score })));
    return { run, tag: 'unknown', format: 'json' };
  }
  await assertReadableFile(path, 'run');
  const run: Run = new Map();
  const seen = new Map<string, Map<string, number>>(); // qid -> docid -> line (duplicate detection)
  let cols = 0;
  let tag = 'unknown';
  for await (const { line, lineNo } of readLines(path)) {
    const f = splitWhitespace(line);
    if (f.length === 0) continue;
    if (cols === 0) {
      if (f.length !== 6 && f.length !== 3) {
        throw new FormatError(`expected a TREC run line 'qid Q0 docid rank score tag' (6 columns) or 'qid docid score' (3 columns), got ${f.length} columns`, { file: path, line: lineNo });
      }
      cols = f.length;
      if (cols === 6) tag = f[5]!;
    } else if (f.length !== cols) {
      const form = cols === 6 ? "'qid Q0 docid rank score tag'" : "'qid docid score'";
      throw new FormatError(`expected ${cols} columns ${form} like the first line, got ${f.length}`, { file: path, line: lineNo });
    }
    const qid = f[0]!;
    const docid = cols === 6 ? f[2]! : f[1]!;
    const rawScore = cols === 6 ? f[4]! : f[2]!;
    const score = parseNumber(rawScore);
    if (score === undefined) throw new FormatError(`expected a numeric score, got '${rawScore}'`, { file: path, line: lineNo, field: 'score' });
    let hits = run.get(qid);
    let docs = seen.get(qid);
    if (!hits || !docs) {
      run.set(qid, (hits = []));
      seen.set(qid, (docs = new Map()));
    }
    const first = docs.get(docid);
    if (first !== undefined) {
      throw new FormatError(`duplicate docid ${docid} for query ${qid} (first seen on line ${first}); expected each docid at most once per query`, { file: path, line: lineNo });
    }
    docs.set(docid, lineNo);
    hits.push({ docid, score });
  }
  return { run, tag, format: cols === 3 ? 'trec3' : 'trec' };
}

/**
 * Read a run: TREC 6-column `qid Q0 docid rank score tag`, the 3-column `qid docid score` form, or `.json`
 * `{qid: {docid: score}}`. Hits keep file order; evaluation sorts them as trec_eval does.
 */
export async function readRun(path: string): Promise<Run> {
  return (await readRunFile(path)).run;
}

/** A ranking trec_eval can read: finite scores, docids without whitespace, each docid once. */
function checkHits(qid: string, hits: readonly Hit[]): void {
  const seen = new Set<string>();
  for (const h of hits) {
    if (!Number.isFinite(h.score)) throw new UsageError(`query ${qid}, doc ${h.docid}: score ${h.score} is not finite`, { field: 'score' });
    if (h.docid === '' || /\s/.test(h.docid)) throw new UsageError(`query ${qid}: docid '${h.docid}' is empty or contains whitespace`, { field: 'docid' });
    if (seen.has(h.docid)) throw new UsageError(`query ${qid}: docid ${h.docid} appears twice`, { field: 'docid' });
    seen.add(h.docid);
  }
}

export interface WriteRunOptions {
  /** Run tag (6th column); no whitespace. Default 'lion'. */
  tag?: string;
  /** Keep only the first k hits of each query after sorting. */
  k?: number;
}

/**
 * Write a run in TREC 6-column form, atomically. Each query's hits are sorted in trec_eval's order (score
 * descending, ties by docno descending) and ranked 1..n, so the rank column agrees with what trec_eval computes.
 * Queries are written in the run's iteration order. Scores are written in shortest round-trip form.
 */
export async function writeRun(path: string, run: Run, opts: WriteRunOptions = {}): Promise<void> {
  const tag = opts.tag ?? 'lion';
  if (tag === '' || /\s/.test(tag)) throw new UsageError(`run tag must be non-empty without whitespace, got '${tag}'`, { field: 'tag' });
  const k = opts.k ?? Infinity;
  await withAtomicWrite(path, async (out) => {
    let buf = '';
    for (const [qid, hits] of run) {
      if (qid === '' || /\s/.test(qid)) throw new UsageError(`query id '${qid}' is empty or contains whitespace`, { field: 'qid' });
      checkHits(qid, hits);
      const sorted = hits.slice().sort(compareHits);
      const n = Math.min(k, sorted.length);
      for (let i = 0; i < n; i++) {
        const h: Hit = sorted[i]!;
        buf += `${qid} Q0 ${h.docid} ${i + 1} ${String(h.score)} ${tag}\n`;
        if (buf.length > 1 << 20) { await out.write(buf); buf = ''; }
      }
    }
    if (buf) await out.write(buf);
  });
}
