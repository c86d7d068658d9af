/**
 * Tab-separated text files of the MS MARCO / TREC world: the passage collection `pid\ttext` (8,841,823 lines,
 * no header), query and topic files `qid\ttext`, and training triples `query\tpositive\tnegative`.
 *
 * Invariants: a line is split at its first tab only, so the text keeps any later tabs; the text is kept raw
 * (MS MARCO dev has queries with a leading space, and the authors feed them unchanged); blank lines are
 * skipped; an empty id or a line without a tab is a FormatError naming the file and line.
 */
import { FormatError } from '../errors.js';
import type { TextRecord } from '../types.js';
import { readLines } from './lines.js';

/** Stream `id\ttext` lines (MS MARCO collection, MS MARCO/TREC queries and topics) as TextRecords. */
export async function* readTsvRecords(path: string, what = 'id\\ttext'): AsyncGenerator<TextRecord> {
  for await (const { line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new FormatError(`expected '${what}' (no tab on this line)`, { file: path, line: lineNo });
    const recId = line.slice(0, tab).trim();
    if (recId === '') throw new FormatError(`expected '${what}' with a non-empty id`, { file: path, line: lineNo });
    yield { id: recId, text: line.slice(tab + 1) };
  }
}

/** One MS MARCO training triple (texts, not ids). */
export interface Triple {
  query: string;
  positive: string;
  negative: string;
}

/** Stream MS MARCO `triples.train.*.tsv`: `query\tpositive passage\tnegative passage`. */
export async function* readTriples(path: string): AsyncGenerator<Triple> {
  for await (const { line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    const f = line.split('\t');
    if (f.length !== 3) {
      throw new FormatError(`expected 3 tab-separated fields 'query\\tpositive\\tnegative', got ${f.length}`, { file: path, line: lineNo });
    }
    yield { query: f[0]!, positive: f[1]!, negative: f[2]! };
  }
}
