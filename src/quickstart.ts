/**
 * The quickstart: the whole pipeline on a small collection in one call — read the corpus, index it, search
 * every query, evaluate against the qrels — for each retrieval system, one table row per system.
 *
 * Systems plug in through `QuickstartSystem` (prepare an index from the corpus, then search a list of
 * queries); BM25 is the first row, and the neural sparse and dense retrievers join as more rows without
 * changing the rest: `neuralQuickstartSystem` encodes the corpus with a sparse or dense model into an in-memory
 * index, and `quickstartSystems` gives the rows `lion quickstart` prints (BM25 and the shipped demonstration
 * models of models/). The shipped collection is Cranfield in BEIR form (test/fixtures/cranfield). Its query
 * ids and document ids share one number space, so evaluation uses trec_eval's semantics, not BEIR mode (which
 * would drop document "1" from query "1"'s ranking).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Run, TextRecord } from './types.js';
import { NotFoundError, UsageError } from './errors.js';
import { DEFAULTS } from './defaults.js';
import { collect, readCorpus, readQueries } from './io/corpus.js';
import { readQrels } from './io/trec.js';
import { evaluate } from './eval/evaluate.js';
import { buildBm25Index } from './bm25/build.js';
import { createBm25Searcher, searchBm25All } from './bm25/search.js';
import type { Bm25Params } from './bm25/similarity.js';
import { loadModel } from './model/checkpoint.js';
import { loadTokenizer } from './tokenizer/tokenizer.js';
import { encodeRecords, type Paradigm } from './encoders/encode.js';
import { buildInvertedIndexFromRecords } from './index/inverted/build.js';
import { searchSparse } from './index/inverted/search.js';
import { vectorIndexFromMatrix, searchDense } from './index/vector/flat.js';
import { toRun } from './index/topk.js';
import type { Kernels } from './kernels/types.js';
import type { DtypeRequest } from './model/precision.js';
import { shippedCranfield, shippedModels } from './assets.js';

/** A folder in BEIR layout: corpus.jsonl, queries.jsonl, qrels/test.tsv. */
export interface QuickstartCollection {
  name: string;
  dir: string;
}

/** A retrieval system as the quickstart sees it: index a corpus once, then search queries. */
export interface QuickstartSystem {
  /** Row label, e.g. "BM25 (k1=0.9, b=0.4)". */
  name: string;
  prepare(docs: readonly TextRecord[]): Promise<{ search(queries: readonly TextRecord[], k: number): Promise<Run> }>;
}

export interface QuickstartRow {
  system: string;
  ndcg10: number;
  mrr10: number;
  recall100: number;
  indexSeconds: number;
  searchSeconds: number;
  queriesPerSecond: number;
}

export interface QuickstartResult {
  collection: string;
  numDocs: number;
  numQueries: number;
  /** Queries evaluated (those with judgements). */
  numEvaluated: number;
  rows: QuickstartRow[];
  seconds: number;
}

export interface QuickstartOptions {
  /** Collection folder (BEIR layout); default the shipped Cranfield. */
  collection?: QuickstartCollection;
  /** Systems, one row each; default BM25 with Lucene's parameters. */
  systems?: QuickstartSystem[];
  /** Hits per query (at least 100, for R@100). */
  k?: number;
  /** Called as each stage starts, for a progress line. */
  onStage?: (message: string) => void;
}

/** BM25 as a quickstart system (Lucene English analyzer, Lucene BM25). */
export function bm25QuickstartSystem(params: Partial<Bm25Params> = {}): QuickstartSystem {
  const k1 = params.k1 ?? DEFAULTS.bm25.k1;
  const b = params.b ?? DEFAULTS.bm25.b;
  return {
    name: `BM25 (k1=${k1}, b=${b})`,
    async prepare(docs) {
      const searcher = createBm25Searcher(await buildBm25Index(docs), { ...params, k1, b });
      return { search: (queries, k) => searchBm25All(searcher, queries, { k }) };
    },
  };
}

/** Options of a learned sparse or dense quickstart system. */
export interface NeuralQuickstartOptions {
  paradigm: Paradigm;
  /** Model directory in Hugging Face layout (config.json, model.safetensors, tokenizer.json). */
  model: string;
  /** A PEFT adapter merged into the model (a Lion-SP / Lion-DS release, or one `lion train` wrote). */
  adapter?: string;
  /** Row label; default "Lion sparse (<model folder>)". */
  name?: string;
  /** Tokens per document, BOS included (default DEFAULTS.encode.docMaxLength; queries: queryMaxLength). */
  docMaxLength?: number;
  kernels?: Kernels;
  /** Storage and products of the encoder's base matrices (default fp32, so the table is the same everywhere). */
  dtype?: DtypeRequest;
}

/**
 * A learned sparse (inverted index, exact search) or dense (flat inner-product index) retriever as a
 * quickstart system. `prepare` loads the encoder and encodes the corpus, so its time counts as indexing;
 * `search` encodes the queries, so its time counts as searching.
 */
export function neuralQuickstartSystem(o: NeuralQuickstartOptions): QuickstartSystem {
  const e = DEFAULTS.encode;
  const label = o.paradigm === 'sparse' ? 'sparse' : 'dense';
  return {
    name: o.name ?? `Lion ${label} (${(o.adapter ?? o.model).split(/[\\/]/).filter(Boolean).pop()})`,
    async prepare(docs) {
      const model = loadModel(o.model, { adapter: o.adapter, merge: Boolean(o.adapter), withHead: o.paradigm === 'sparse', trainable: 'none', kernels: o.kernels, dtype: o.dtype });
      const tok = loadTokenizer(o.adapter && existsSync(join(o.adapter, 'tokenizer.json')) ? o.adapter : o.model);
      const base = { paradigm: o.paradigm, maxBatch: e.maxBatch, maxTokens: e.maxTokens };
      const docOpts = { ...base, maxLength: o.docMaxLength ?? e.docMaxLength };
      const qOpts = { ...base, maxLength: e.queryMaxLength };
      const encodeAll = async (records: readonly TextRecord[], opts: typeof docOpts) => {
        const out = [];
        for await (const x of encodeRecords(model, tok, records, opts)) out.push(x);
        return out;
      };
      const encodedDocs = await encodeAll(docs, docOpts);
      if (o.paradigm === 'sparse') {
        const ix = await buildInvertedIndexFromRecords(encodedDocs.map((x) => ({ id: x.id, vec: x.sparse! })), { vocabSize: model.config.vocabSize, listMax: 0 });
        return {
          async search(queries, k) {
            const q = await encodeAll(queries, qOpts);
            const res = searchSparse(ix, q.map((x) => x.sparse!), { k, mode: 'exact' });
            return toRun(res, q.map((x) => x.id), (pos) => ix.ids[pos]!);
          },
        };
      }
      const dim = model.config.hiddenSize;
      const data = new Float32Array(encodedDocs.length * dim); // (N, D)
      encodedDocs.forEach((x, r) => data.set(x.dense!, r * dim));
      const ix = vectorIndexFromMatrix({ data, rows: encodedDocs.length, dim, ids: encodedDocs.map((x) => x.id) }, 'f32');
      return {
        async search(queries, k) {
          const q = await encodeAll(queries, qOpts);
          const qm = new Float32Array(q.length * dim); // (Q, D)
          q.forEach((x, r) => qm.set(x.dense!, r * dim));
          return toRun(searchDense(ix, qm, { k }), q.map((x) => x.id), (pos) => ix.ids[pos]!);
        },
      };
    },
  };
}

/** The systems `lion quickstart` runs by name: BM25 and, where the shipped models are present, sparse and dense. */
export function quickstartSystems(names: readonly string[] = DEFAULTS.quickstart.systems.split(',')): QuickstartSystem[] {
  const m = shippedModels();
  const out: QuickstartSystem[] = [];
  for (const n of names) {
    if (n === 'bm25') out.push(bm25QuickstartSystem());
    else if (n === 'sparse' || n === 'dense') {
      const dir = n === 'sparse' ? m.sparse : m.dense;
      if (!existsSync(join(dir, 'config.json'))) throw new NotFoundError(`the shipped ${n} model is missing`, { file: dir, hint: 'reinstall the package, or rebuild it with scripts/train-demo-models.mjs' });
      out.push(neuralQuickstartSystem({ paradigm: n, model: dir, name: `Lion ${n} (${n === 'sparse' ? 'lion-demo-sp' : 'lion-demo-ds'})`, docMaxLength: DEFAULTS.quickstart.docMaxLength }));
    } else throw new UsageError(`unknown quickstart system '${n}' (bm25, sparse, dense)`, { field: 'systems' });
  }
  return out;
}

/**
 * Run the quickstart: index, search and evaluate each system on the collection.
 *
 * @example
 * const r = await runQuickstart();
 * console.log(formatQuickstart(r)); // nDCG@10, MRR@10, R@100 per system
 */
export async function runQuickstart(opts: QuickstartOptions = {}): Promise<QuickstartResult> {
  const t0 = performance.now();
  const coll = opts.collection ?? shippedCranfield();
  const qrelsPath = join(coll.dir, 'qrels', 'test.tsv');
  for (const f of ['corpus.jsonl', 'queries.jsonl', join('qrels', 'test.tsv')]) {
    if (!existsSync(join(coll.dir, f))) throw new NotFoundError(`collection folder lacks ${f}`, { file: join(coll.dir, f), hint: 'give a folder in BEIR layout' });
  }
  const say = opts.onStage ?? (() => {});
  say(`reading ${coll.name} from ${coll.dir}`);
  const docs = await collect(readCorpus(join(coll.dir, 'corpus.jsonl')));
  const queries = await collect(readQueries(join(coll.dir, 'queries.jsonl')));
  const qrels = await readQrels(qrelsPath);
  const k = Math.max(opts.k ?? DEFAULTS.search.kBeir, 100);
  const rows: QuickstartRow[] = [];
  let numEvaluated = 0;
  for (const system of opts.systems ?? [bm25QuickstartSystem()]) {
    say(`${system.name}: indexing ${docs.length} documents`);
    const ti = performance.now();
    const prepared = await system.prepare(docs);
    const indexSeconds = (performance.now() - ti) / 1000;
    say(`${system.name}: searching ${queries.length} queries`);
    const ts = performance.now();
    const run = await prepared.search(queries, k);
    const searchSeconds = (performance.now() - ts) / 1000;
    const main = evaluate(qrels, run, { measures: ['ndcg_cut.10', 'recall.100'] });
    const mrr = evaluate(qrels, run, { measures: ['recip_rank'], maxDocs: 10 });
    numEvaluated = main.numQ;
    rows.push({
      system: system.name,
      ndcg10: main.mean['ndcg_cut_10']!,
      mrr10: mrr.mean['recip_rank']!,
      recall100: main.mean['recall_100']!,
      indexSeconds,
      searchSeconds,
      queriesPerSecond: queries.length / Math.max(searchSeconds, 1e-9),
    });
  }
  return { collection: coll.name, numDocs: docs.length, numQueries: queries.length, numEvaluated, rows, seconds: (performance.now() - t0) / 1000 };
}

/** The quickstart's table as text. */
export function formatQuickstart(r: QuickstartResult): string {
  const head = ['system', 'nDCG@10', 'MRR@10', 'R@100', 'index s', 'search s', 'queries/s'];
  const body = r.rows.map((x) => [
    x.system, x.ndcg10.toFixed(4), x.mrr10.toFixed(4), x.recall100.toFixed(4),
    x.indexSeconds.toFixed(2), x.searchSeconds.toFixed(2), x.queriesPerSecond.toFixed(0),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [
    `${r.collection}: ${r.numDocs} documents, ${r.numQueries} queries (${r.numEvaluated} evaluated)`,
    '',
    line(head),
    line(w.map((n) => '-'.repeat(n))),
    ...body.map(line),
    '',
    `total ${r.seconds.toFixed(2)} s`,
  ].join('\n');
}
