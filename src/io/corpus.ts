/**
 * Format-detecting entry points for documents and queries: `readCorpus`, `readQueries`, and `docText`, the
 * one place that decides what text of a document an encoder or BM25 sees.
 *
 * Detection: a directory means a BEIR folder (`corpus.jsonl` / `queries.jsonl` inside); a file is JSON Lines or
 * TSV as `detectTextFormat` (src/io/sniff.ts) decides.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { TextRecord } from '../types.js';
import { readBeirCorpus, readBeirQueries } from './beir.js';
import { assertReadableFile } from './lines.js';
import { readTsvRecords } from './msmarco.js';
import { detectTextFormat } from './sniff.js';

async function resolveBeirFile(path: string, name: string): Promise<string> {
  try {
    if ((await fsp.stat(path)).isDirectory()) return join(path, name);
  } catch { /* reported by assertReadableFile below */ }
  return path;
}

/**
 * Stream a document collection: BEIR `corpus.jsonl` (records keep their `title`), or an MS MARCO-style
 * `pid\ttext` TSV (no title). A BEIR folder may be given instead of the file.
 *
 * @example
 * ```ts
 * for await (const doc of readCorpus('scifact/corpus.jsonl')) index.add(doc.id, docText(doc));
 * ```
 */
export async function* readCorpus(path: string): AsyncGenerator<TextRecord> {
  const file = await resolveBeirFile(path, 'corpus.jsonl');
  await assertReadableFile(file, 'corpus');
  if ((await detectTextFormat(file)) === 'jsonl') yield* readBeirCorpus(file);
  else yield* readTsvRecords(file, 'pid\\ttext');
}

/** Stream queries: BEIR `queries.jsonl`, or a TREC / MS MARCO topics TSV `qid\ttext`. */
export async function* readQueries(path: string): AsyncGenerator<TextRecord> {
  const file = await resolveBeirFile(path, 'queries.jsonl');
  await assertReadableFile(file, 'queries');
  if ((await detectTextFormat(file)) === 'jsonl') yield* readBeirQueries(file);
  else yield* readTsvRecords(file, 'qid\\ttext');
}

/** Collect an async stream of records into an array (queries, small corpora). */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * The text a model or BM25 indexes for a document: `title + " " + text` when the record has a title field
 * (BEIR), the bare text otherwise (MS MARCO passages are read with `title=None`).
 *
 * An empty BEIR title gives a leading space, `" " + text`. That is what the authors' code does
 * (spec §2.6, dataset.py:297-318) and we keep it on purpose: for a subword tokenizer the leading space
 * changes the first token, so stripping it would change the encoded vectors. BM25 tokenisation ignores it.
 */
export function docText(rec: TextRecord): string {
  return rec.title === undefined ? rec.text : `${rec.title} ${rec.text}`;
}
