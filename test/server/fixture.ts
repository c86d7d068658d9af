/**
 * Shared set-up for the server tests: a real BM25 index of the shipped Cranfield collection (built once per
 * test process into a temporary folder) and a run written from it, so every test talks to real systems.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { buildBm25Index } from '../../src/bm25/build.js';
import { writeBm25Index } from '../../src/bm25/format.js';
import { collect, readCorpus, readQueries } from '../../src/io/corpus.js';
import { createBm25Searcher, searchBm25 } from '../../src/bm25/search.js';
import { fixtures, tempDir } from '../helpers.js';

export const cranfield = join(fixtures, 'cranfield');
export const cranQrels = join(cranfield, 'qrels', 'test.tsv');

let built: Promise<{ dir: string; index: string }> | undefined;

/** Build (once) the Cranfield BM25 index; returns its folder and file. */
export function cranfieldIndex(): Promise<{ dir: string; index: string }> {
  built ??= (async () => {
    const dir = tempDir('lion-serve-test-');
    const index = join(dir, 'cran.lbm25');
    await writeBm25Index(index, await buildBm25Index(readCorpus(cranfield), { source: cranfield }));
    return { dir, index };
  })();
  return built;
}

/** Write a TREC run of BM25 (k1, b) over the first `n` Cranfield queries into `dir`; returns its path. */
export async function cranfieldRun(dir: string, name: string, b: number, n = 225, k = 100): Promise<string> {
  const { readBm25Index } = await import('../../src/bm25/format.js');
  const s = createBm25Searcher(await readBm25Index((await cranfieldIndex()).index), { b });
  const lines: string[] = [];
  for (const q of (await collect(readQueries(cranfield))).slice(0, n)) {
    searchBm25(s, q.text, k).forEach((h, i) => lines.push(`${q.id} Q0 ${h.docid} ${i + 1} ${h.score} ${name}`));
  }
  const path = join(dir, `${name}.trec`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}
