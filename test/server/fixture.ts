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

export interface NeuralFixture {
  dir: string;
  model: string;
  sparseIndex: string;
  denseIndex: string;
  /** Documents indexed (the first `docs` of Cranfield). */
  docs: number;
}

const neural = new Map<number, Promise<NeuralFixture>>();

/**
 * A tiny random bidirectional Llama with a BPE tokenizer trained on Cranfield, saved in Hugging Face layout,
 * and sparse and dense indexes of the first `n` Cranfield documents encoded with it. Random weights rank
 * badly, but every number the server returns can be checked against the library.
 */
export function neuralFixture(n = 150): Promise<NeuralFixture> {
  let p = neural.get(n);
  if (!p) neural.set(n, (p = build(n)));
  return p;
}

async function build(n: number): Promise<NeuralFixture> {
  const { saveModel, loadModel } = await import('../../src/model/checkpoint.js');
  const { LlamaModel } = await import('../../src/model/llama.js');
  const { saveBpe, trainBpe } = await import('../../src/tokenizer/bpe-train.js');
  const { loadTokenizer } = await import('../../src/tokenizer/tokenizer.js');
  const { initWeights } = await import('../../src/train/init.js');
  const { tinyConfig } = await import('../encoders/tiny.js');
  const { encodeRecords } = await import('../../src/encoders/encode.js');
  const { buildInvertedIndexFromRecords, writeInvertedIndex } = await import('../../src/index/inverted/build.js');
  const { vectorIndexFromMatrix, writeVectorIndex } = await import('../../src/index/vector/flat.js');
  const dir = tempDir('lion-serve-neural-');
  const docs = (await collect(readCorpus(cranfield))).slice(0, n);
  const bpe = trainBpe(docs.map((d) => `${d.title ?? ''} ${d.text}`), { vocabSize: 384 });
  const model = join(dir, 'model');
  await saveBpe(bpe, model);
  const m = new LlamaModel(tinyConfig({ vocabSize: 384, hiddenSize: 16, bosTokenId: bpe.specialIds.bos, eosTokenId: bpe.specialIds.eos }), { withHead: true });
  initWeights(m, 3, 0.3);
  await saveModel(m, model);
  const tok = loadTokenizer(model);
  const opts = { maxLength: 128, maxBatch: 16, maxTokens: 2048 };
  const sp = loadModel(model, { withHead: true, trainable: 'none' });
  const sparse = [];
  for await (const e of encodeRecords(sp, tok, docs, { ...opts, paradigm: 'sparse' })) sparse.push({ id: e.id, vec: e.sparse! });
  const sparseIndex = join(dir, 'sp.lidx');
  writeInvertedIndex(await buildInvertedIndexFromRecords(sparse, { vocabSize: 384 }), sparseIndex);
  const ds = loadModel(model, { withHead: false, trainable: 'none' });
  const rows: Float32Array[] = [];
  const ids: string[] = [];
  for await (const e of encodeRecords(ds, tok, docs, { ...opts, paradigm: 'dense' })) { rows.push(e.dense!); ids.push(e.id); }
  const data = new Float32Array(rows.length * 16); // (N, C)
  rows.forEach((r, i) => data.set(r, i * 16));
  const denseIndex = join(dir, 'ds.lvec');
  writeVectorIndex(vectorIndexFromMatrix({ data, rows: rows.length, dim: 16, ids }), denseIndex);
  return { dir, model, sparseIndex, denseIndex, docs: docs.length };
}
