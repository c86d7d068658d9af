/**
 * `lion serve --collection DIR`: index a small collection in memory at start-up and serve it — BM25 always
 * (`bm25`), and, given encoders, learned sparse (`sparse`) and dense (`dense`) indexes of the same documents
 * with query encoders on worker threads. This is the one-command demo over the shipped Cranfield
 * (`--demo-models` uses the models shipped in models/, when present). Documents are encoded at the encoders'
 * default document length (DEFAULTS.encode.docMaxLength); larger collections should be indexed once with
 * `lion bm25 index` / `lion encode` + `lion index` and served with `--index`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildBm25Index } from '../bm25/build.js';
import type { Bm25Params } from '../bm25/similarity.js';
import { DEFAULTS } from '../defaults.js';
import { encodeRecords, type Paradigm } from '../encoders/encode.js';
import { NotFoundError } from '../errors.js';
import { buildInvertedIndexFromRecords } from '../index/inverted/build.js';
import { vectorIndexFromMatrix } from '../index/vector/flat.js';
import { collect, readCorpus } from '../io/corpus.js';
import { shippedModels } from '../assets.js';
import type { TextRecord } from '../types.js';
import { loadEncoder } from './encoder-load.js';
import { denseSystem, sparseSystem } from './neural.js';
import type { SearchSystem } from './system.js';
import { bm25System, queryEncoder, type OpenOptions } from './systems.js';

export interface CollectionOptions extends Pick<OpenOptions, 'encoderWorkers' | 'encodeTimeoutMs' | 'dtype'> {
  /** BEIR folder, corpus.jsonl or `id<TAB>text` TSV. */
  collection: string;
  bm25?: Partial<Bm25Params>;
  /** Encoder folder (model or PEFT adapter) for a learned sparse index of the collection. */
  sparseModel?: string;
  /** Encoder folder for a dense index of the collection. */
  denseModel?: string;
}

/** The shipped demonstration encoders (models/lion-demo-sp, models/lion-demo-ds); a NotFoundError if absent. */
export function demoModels(): { sparseModel: string; denseModel: string } {
  const m = shippedModels();
  for (const dir of [m.sparse, m.dense]) {
    if (!existsSync(join(dir, 'config.json'))) throw new NotFoundError('the shipped demonstration model is missing', { file: dir, hint: 'serve your own encoders with --sparse-model / --dense-model' });
  }
  return { sparseModel: m.sparse, denseModel: m.dense };
}

async function neural(docs: TextRecord[], dir: string, paradigm: Paradigm, o: CollectionOptions): Promise<SearchSystem> {
  const { model, tok } = loadEncoder(dir, paradigm, o.dtype);
  const e = DEFAULTS.encode;
  const opts = { paradigm, maxLength: e.docMaxLength, maxBatch: e.maxBatch, maxTokens: e.maxTokens };
  const encoded = [];
  for await (const x of encodeRecords(model, tok, docs, opts)) encoded.push(x);
  const q = await queryEncoder(dir, paradigm, o);
  const about = `${docs.length} documents of ${o.collection} encoded at start-up by ${dir}`;
  if (paradigm === 'sparse') {
    const ix = await buildInvertedIndexFromRecords(encoded.map((x) => ({ id: x.id, vec: x.sparse! })), { vocabSize: model.config.vocabSize, listMax: 0 });
    return sparseSystem('sparse', ix, { ...q, description: `learned sparse, ${about}` });
  }
  const dim = model.config.hiddenSize;
  const data = new Float32Array(encoded.length * dim); // (N, D)
  encoded.forEach((x, r) => data.set(x.dense!, r * dim));
  const ix = vectorIndexFromMatrix({ data, rows: encoded.length, dim, ids: encoded.map((x) => x.id) }, 'f32');
  return denseSystem('dense', ix, { ...q, description: `dense, ${about}` });
}

/**
 * Index `o.collection` in memory: BM25, plus sparse and dense systems for the encoders given.
 * @example const systems = await collectionSystems({ collection: 'test/fixtures/cranfield', ...demoModels() });
 */
export async function collectionSystems(o: CollectionOptions): Promise<SearchSystem[]> {
  const docs = await collect(readCorpus(o.collection));
  const out: SearchSystem[] = [bm25System('bm25', await buildBm25Index(docs, { source: o.collection }), o.bm25, `BM25 over ${o.collection}, indexed at start-up`)];
  try {
    if (o.sparseModel) out.push(await neural(docs, o.sparseModel, 'sparse', o));
    if (o.denseModel) out.push(await neural(docs, o.denseModel, 'dense', o));
  } catch (e) {
    for (const s of out) await s.close?.();
    throw e;
  }
  return out;
}
