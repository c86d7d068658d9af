/**
 * The evaluation suite: one retriever on every collection available under a data folder, BEIR style — a
 * table of nDCG@10 (and R@100) per collection with the average, BM25 beside it (and, optionally, BM25 fused
 * with the retriever).
 *
 * Collections (each skipped with a one-line reason when its files are missing):
 *  - full retrieval over the corpus (k = 100): SciFact test (`scifact/`, qrels/test.tsv), Cranfield
 *    (`cranfield/beir`), MED (`med/beir`); BM25 is Lion's (Lucene English analyzer, k1 0.9, b 0.4);
 *  - re-ranking (TREC DL 2019 and 2020 passage, `trec-dl-2019/`, `trec-dl-2020/`): the candidates are the
 *    official BM25 top 100 of the full MS MARCO collection (rank_llm's `BM25/trec_results_dl*.txt`, which
 *    is what the BM25 row scores), and the retriever re-orders them using the pooled passage texts
 *    (`passages.pool.tsv`). Candidates the retriever does not score (a sparse vector sharing no term with
 *    the query) keep their BM25 order below the scored ones. nDCG@10 uses the graded labels as they are;
 *    R@100 counts grade >= 2 as relevant (`trec_eval -l 2`), and is the same for every row, since the rows
 *    re-order one candidate list.
 * Every collection is evaluated with trec_eval's semantics over every judged query (`-c`): a judged query
 * without results scores 0.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, UsageError } from '../errors.js';
import { collect, readCorpus, readQueries } from '../io/corpus.js';
import { readQrels, readRun } from '../io/trec.js';
import { evaluate } from '../eval/evaluate.js';
import { fuseRuns, type FusionOptions } from '../index/fusion.js';
import { bm25QuickstartSystem, type QuickstartSystem } from '../quickstart.js';
import type { Hit, Qrels, Run, TextRecord } from '../types.js';

/** A retriever as the suite sees it (the quickstart's system interface). */
export type SuiteSystem = QuickstartSystem;

/** Where one collection lives under the data folder and how it is evaluated. */
export interface SuiteCollectionSpec {
  /** Short id used by `--collections` (scifact, cranfield, med, dl19, dl20). */
  id: string;
  /** Name printed in the table. */
  name: string;
  kind: 'retrieval' | 'rerank';
  /** Paths relative to the data folder. */
  corpus: string;
  queries: string;
  qrels: string;
  /** Re-ranking only: the first-stage run whose top `depth` hits are re-ordered. */
  candidates?: string;
  /** Lowest grade counted relevant by R@100. */
  relevanceLevel: number;
}

/** The suite's collections, in table order. */
export const SUITE_COLLECTIONS: readonly SuiteCollectionSpec[] = [
  { id: 'scifact', name: 'SciFact test', kind: 'retrieval', corpus: 'scifact/corpus.jsonl', queries: 'scifact/queries.jsonl', qrels: 'scifact/qrels/test.tsv', relevanceLevel: 1 },
  { id: 'cranfield', name: 'Cranfield', kind: 'retrieval', corpus: 'cranfield/beir/corpus.jsonl', queries: 'cranfield/beir/queries.jsonl', qrels: 'cranfield/beir/qrels/test.tsv', relevanceLevel: 1 },
  { id: 'med', name: 'MED', kind: 'retrieval', corpus: 'med/beir/corpus.jsonl', queries: 'med/beir/queries.jsonl', qrels: 'med/beir/qrels/test.tsv', relevanceLevel: 1 },
  {
    id: 'dl19', name: 'TREC DL 2019 (rerank)', kind: 'rerank', corpus: 'trec-dl-2019/passages.pool.tsv', queries: 'trec-dl-2019/topics.dl19-passage.judged43.tsv',
    qrels: 'trec-dl-2019/2019qrels-pass.txt', candidates: 'trec-dl-2019/rank_llm/retrieve_results/BM25/trec_results_dl19.txt', relevanceLevel: 2,
  },
  {
    id: 'dl20', name: 'TREC DL 2020 (rerank)', kind: 'rerank', corpus: 'trec-dl-2020/passages.pool.tsv', queries: 'trec-dl-2020/msmarco-test2020-queries.tsv',
    qrels: 'trec-dl-2020/2020qrels-pass.txt', candidates: 'trec-dl-2020/rank_llm/retrieve_results/BM25/trec_results_dl20.txt', relevanceLevel: 2,
  },
];

/** One system's scores on one collection. */
export interface SuiteScore {
  system: string;
  ndcg10: number;
  recall100: number;
  /** Wall seconds to index (or encode the candidates) and search. */
  seconds: number;
  /** nDCG@10 of each judged query (for paired significance tests across systems). */
  perQuery: Record<string, number>;
}

export interface SuiteCollectionResult {
  id: string;
  name: string;
  kind: 'retrieval' | 'rerank';
  /** Documents indexed (retrieval) or candidate passages with text (re-ranking). */
  numDocs: number;
  /** Judged queries searched. */
  numQueries: number;
  /** Re-ranking: candidates of the first-stage run that have no text in the pool (dropped). */
  candidatesWithoutText?: number;
  scores: SuiteScore[];
}

export interface EvalSuiteResult {
  dataDir: string;
  /** Row labels, in column order. */
  systems: string[];
  collections: SuiteCollectionResult[];
  /** Collections left out, with the reason. */
  skipped: { id: string; name: string; reason: string }[];
  /** Mean over the evaluated collections, per system. */
  average: Record<string, { ndcg10: number; recall100: number }>;
  seconds: number;
}

/** Hybrid rows: each named system fused with BM25. */
export interface SuiteHybridOptions extends FusionOptions {
  /** Label of the fused row; default `BM25+<system>`. */
  name?: string;
}

export interface EvalSuiteOptions {
  /** The data folder (the layout of ../shared/data). */
  data: string;
  /** Collection ids to run (default: all of SUITE_COLLECTIONS). */
  collections?: readonly string[];
  /** The retrievers evaluated (besides BM25). */
  systems?: SuiteSystem[];
  /** Show BM25 (default true). */
  bm25?: boolean;
  /** Also fuse each system with BM25 (default false); fusion defaults as `lion fuse` (RRF). */
  hybrid?: boolean | SuiteHybridOptions;
  /** Called as each stage starts, for a progress line. */
  onStage?: (message: string) => void;
}

const K = 100;

/** The missing file of a collection, or undefined when everything it needs is there. */
function missingFile(data: string, c: SuiteCollectionSpec): string | undefined {
  for (const f of [c.corpus, c.queries, c.qrels, ...(c.candidates ? [c.candidates] : [])]) if (!existsSync(join(data, f))) return f;
  return undefined;
}

/** The collections of the suite present under `data`, and those skipped with the reason. */
export function availableSuiteCollections(data: string, ids?: readonly string[]): { available: SuiteCollectionSpec[]; skipped: EvalSuiteResult['skipped'] } {
  const known = new Set(SUITE_COLLECTIONS.map((c) => c.id));
  for (const id of ids ?? []) {
    if (!known.has(id)) throw new UsageError(`unknown collection '${id}' (${[...known].join(', ')})`, { field: 'collections' });
  }
  const want = SUITE_COLLECTIONS.filter((c) => !ids || ids.includes(c.id));
  const available: SuiteCollectionSpec[] = [];
  const skipped: EvalSuiteResult['skipped'] = [];
  for (const c of want) {
    const miss = missingFile(data, c);
    if (miss) skipped.push({ id: c.id, name: c.name, reason: `${join(data, miss)} not found` });
    else available.push(c);
  }
  return { available, skipped };
}

/** Top `k` of each query, in trec_eval order (score descending, docid descending on ties). */
function cut(run: Run, k: number): Run {
  const out: Run = new Map();
  for (const [q, hits] of run) {
    const sorted = [...hits].sort((a, b) => b.score - a.score || (a.docid < b.docid ? 1 : a.docid > b.docid ? -1 : 0));
    out.set(q, sorted.slice(0, k));
  }
  return out;
}

/**
 * Re-orders each query's candidates by the system's full ranking over the candidate pool: candidates it
 * ranked come first in its order and with its scores; the rest follow in first-stage order, scored strictly
 * below.
 */
function restrictToCandidates(ranking: Run, candidates: Run): Run {
  const out: Run = new Map();
  for (const [q, cands] of candidates) {
    const want = new Set(cands.map((h) => h.docid));
    const hits: Hit[] = (ranking.get(q) ?? []).filter((h) => want.has(h.docid)).map((h) => ({ ...h }));
    const seen = new Set(hits.map((h) => h.docid));
    let low = hits.length ? hits[hits.length - 1]!.score : 0;
    for (const h of cands) {
      if (seen.has(h.docid)) continue;
      low -= 1;
      hits.push({ docid: h.docid, score: low });
    }
    out.set(q, hits);
  }
  return out;
}

function score(qrels: Qrels, run: Run, system: string, relevanceLevel: number, seconds: number): SuiteScore {
  const r = evaluate(qrels, run, { measures: ['ndcg_cut.10', 'recall.100'], relevanceLevel, complete: true });
  const perQuery: Record<string, number> = {};
  for (const [qid, row] of r.perQuery) perQuery[qid] = row['ndcg_cut_10']!;
  return { system, ndcg10: r.mean['ndcg_cut_10']!, recall100: r.mean['recall_100']!, seconds, perQuery };
}

/**
 * Reads a collection: documents, the judged queries, qrels and (re-ranking) the candidate run, cut at its top
 * 100, with the candidates that have no text in the pool dropped (the CPU study reads its collections here too).
 */
export async function loadSuiteCollection(data: string, c: SuiteCollectionSpec): Promise<{ docs: TextRecord[]; queries: TextRecord[]; qrels: Qrels; candidates?: Run; candidatesWithoutText?: number }> {
  const qrels = await readQrels(join(data, c.qrels));
  const queries = (await collect(readQueries(join(data, c.queries)))).filter((q) => qrels.has(q.id));
  if (queries.length === 0) throw new NotFoundError(`no query of ${c.queries} is judged in ${c.qrels}`, { file: join(data, c.queries) });
  let docs = await collect(readCorpus(join(data, c.corpus)));
  if (c.kind === 'retrieval') return { docs, queries, qrels };
  const first = cut(await readRun(join(data, c.candidates!)), K);
  const byId = new Map(docs.map((d) => [d.id, d]));
  const candidates: Run = new Map();
  const pool = new Set<string>();
  let withoutText = 0;
  for (const q of queries) {
    const hits = (first.get(q.id) ?? []).filter((h) => {
      if (byId.has(h.docid)) return true;
      withoutText++;
      return false;
    });
    candidates.set(q.id, hits);
    for (const h of hits) pool.add(h.docid);
  }
  docs = docs.filter((d) => pool.has(d.id));
  return { docs, queries, qrels, candidates, candidatesWithoutText: withoutText };
}

/**
 * Runs every system on every available collection and averages nDCG@10 and R@100 over the collections.
 *
 * @example
 * ```ts
 * const r = await runEvalSuite({ data: '../shared/data', systems: [neuralQuickstartSystem({ paradigm: 'sparse', model: 'models/lion-demo-sp' })], hybrid: true });
 * console.log(formatEvalSuite(r));
 * ```
 */
export async function runEvalSuite(opts: EvalSuiteOptions): Promise<EvalSuiteResult> {
  const t0 = performance.now();
  const say = opts.onStage ?? (() => {});
  const showBm25 = opts.bm25 ?? true;
  const systems = opts.systems ?? [];
  const hybrid = opts.hybrid === true ? {} : opts.hybrid || undefined;
  if (!showBm25 && systems.length === 0) throw new UsageError('nothing to evaluate: no system and BM25 turned off');
  const names = new Set<string>();
  for (const s of systems) {
    if (s.name === 'BM25' || names.has(s.name)) throw new UsageError(`two systems are named '${s.name}'`, { field: 'systems' });
    names.add(s.name);
  }
  const hybridName = (s: SuiteSystem) => (hybrid?.name && systems.length === 1 ? hybrid.name : `BM25+${s.name}`);
  const columns = [...(showBm25 ? ['BM25'] : []), ...systems.map((s) => s.name), ...(hybrid ? systems.map(hybridName) : [])];

  const { available, skipped } = availableSuiteCollections(opts.data, opts.collections);
  for (const s of skipped) say(`skipping ${s.name}: ${s.reason}`);
  const collections: SuiteCollectionResult[] = [];
  for (const c of available) {
    say(`${c.name}: reading ${c.corpus}`);
    const d = await loadSuiteCollection(opts.data, c);
    const result: SuiteCollectionResult = { id: c.id, name: c.name, kind: c.kind, numDocs: d.docs.length, numQueries: d.queries.length, scores: [] };
    if (d.candidatesWithoutText !== undefined) result.candidatesWithoutText = d.candidatesWithoutText;
    // The BM25 run: Lion's BM25 over the corpus, or the first-stage run being re-ranked.
    let bm25Run: Run;
    let bm25Seconds = 0;
    if (c.kind === 'retrieval') {
      say(`${c.name}: BM25 over ${d.docs.length} documents, ${d.queries.length} queries`);
      const tb = performance.now();
      bm25Run = await (await bm25QuickstartSystem().prepare(d.docs)).search(d.queries, K);
      bm25Seconds = (performance.now() - tb) / 1000;
    } else bm25Run = d.candidates!;
    const scores = new Map<string, SuiteScore>();
    if (showBm25) scores.set('BM25', score(d.qrels, bm25Run, 'BM25', c.relevanceLevel, bm25Seconds));
    for (const s of systems) {
      say(`${c.name}: ${s.name}: encoding ${d.docs.length} ${c.kind === 'rerank' ? 'candidate passages' : 'documents'}, ${d.queries.length} queries`);
      const ts = performance.now();
      const prepared = await s.prepare(d.docs);
      let run = await prepared.search(d.queries, c.kind === 'rerank' ? Math.max(d.docs.length, 1) : K);
      if (c.kind === 'rerank') run = restrictToCandidates(run, d.candidates!);
      const seconds = (performance.now() - ts) / 1000;
      scores.set(s.name, score(d.qrels, run, s.name, c.relevanceLevel, seconds));
      if (hybrid) {
        const { name: _n, ...fusion } = hybrid;
        const fused = fuseRuns([bm25Run, run], { ...fusion, depth: fusion.depth ?? K, k: fusion.k ?? K });
        const hn = hybridName(s);
        scores.set(hn, score(d.qrels, fused, hn, c.relevanceLevel, seconds + bm25Seconds));
      }
    }
    result.scores = columns.map((n) => scores.get(n)!);
    collections.push(result);
  }
  const average: EvalSuiteResult['average'] = {};
  if (collections.length) {
    for (const n of columns) {
      const rows = collections.map((c) => c.scores.find((s) => s.system === n)!);
      average[n] = { ndcg10: rows.reduce((a, r) => a + r.ndcg10, 0) / rows.length, recall100: rows.reduce((a, r) => a + r.recall100, 0) / rows.length };
    }
  }
  return { dataDir: opts.data, systems: columns, collections, skipped, average, seconds: (performance.now() - t0) / 1000 };
}

/** The suite's tables: nDCG@10, then R@100, one row per collection and the average, one column per system. */
export function formatEvalSuite(r: EvalSuiteResult): string {
  const table = (title: string, value: (s: SuiteScore) => number, avg: (n: string) => number): string[] => {
    const head = [title, 'docs', 'queries', ...r.systems];
    const body = r.collections.map((c) => [c.name, String(c.numDocs), String(c.numQueries), ...c.scores.map((s) => value(s).toFixed(4))]);
    if (r.collections.length) body.push([`average (${r.collections.length})`, '', '', ...r.systems.map((s) => avg(s).toFixed(4))]);
    const w = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
    return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)];
  };
  const notes = r.skipped.map((s) => `skipped ${s.name}: ${s.reason}`);
  const rerank = r.collections.some((c) => c.kind === 'rerank')
    ? ['TREC DL rows re-rank the official BM25 top 100 (pooled passage texts); their R@100 counts grade >= 2 and is the same for every system.']
    : [];
  return [
    ...table('nDCG@10', (s) => s.ndcg10, (n) => r.average[n]!.ndcg10), '',
    ...table('R@100', (s) => s.recall100, (n) => r.average[n]!.recall100), '',
    ...rerank, ...notes, `total ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}
