/**
 * BEIR JSON Lines: `corpus.jsonl` records `{"_id", "title", "text", "metadata"?}` and `queries.jsonl` records
 * `{"_id", "text", "metadata"?}` (https://github.com/beir-cellar/beir). Pyserini's JSONL form
 * `{"id", "contents"}` is accepted too. BEIR qrels TSV (with its `query-id corpus-id score` header) is read by
 * `readQrels` in trec.ts, which detects both qrels forms.
 *
 * Invariants: ids are non-empty strings (integer JSON ids are converted); `title` is kept exactly as given,
 * an empty string included, because `docText` must reproduce the authors' `title + " " + text`
 * (spec §2.6); a null title counts as absent.
 */
import type { TextRecord } from '../types.js';
import { fieldError, has, id, readJsonLines, type JsonLine } from './jsonl.js';

function record(j: JsonLine, withTitle: boolean): TextRecord {
  const docId = has(j, '_id') ? id(j, '_id') : has(j, 'id') ? id(j, 'id') : id(j, '_id');
  let text: unknown = j.obj.text;
  if (text === undefined && has(j, 'contents')) text = j.obj.contents;
  if (typeof text !== 'string') throw fieldError(j, 'text', text === undefined ? 'a string (field is missing)' : 'a string');
  const rec: TextRecord = { id: docId, text };
  if (withTitle) {
    const t = j.obj.title;
    if (typeof t === 'string') rec.title = t;
    else if (t !== undefined && t !== null) throw fieldError(j, 'title', 'a string');
  }
  return rec;
}

/** Stream a BEIR `corpus.jsonl` (or Pyserini `{id, contents}` JSONL) as TextRecords with their titles. */
export async function* readBeirCorpus(path: string): AsyncGenerator<TextRecord> {
  for await (const j of readJsonLines(path)) yield record(j, true);
}

/** Stream a BEIR `queries.jsonl`; query text is taken raw, without any title. */
export async function* readBeirQueries(path: string): AsyncGenerator<TextRecord> {
  for await (const j of readJsonLines(path)) yield record(j, false);
}
