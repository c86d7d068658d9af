/**
 * The seam between the HTTP server and the retrievers it serves. A `SearchSystem` is one searchable index
 * (BM25, learned sparse, dense) behind a small contract: search by text, by a given sparse or dense vector,
 * and — for lexical and sparse systems — explain a hit as per-term contributions. The server knows nothing
 * else about an index; adapters in `systems.ts` wrap each index kind, and fusion (`fusion.ts`) combines
 * their ranked lists.
 *
 * Invariants: `search` returns at most `k` hits sorted by descending score; `explain(...).terms` sum to the
 * hit's score (up to float rounding) and are sorted by descending contribution.
 */
import type { Hit } from '../types.js';

export type SystemKind = 'bm25' | 'sparse' | 'dense';

/** A query term with its weight: for BM25 the analysed term and its count, for sparse a vocabulary token. */
export interface WeightedTerm {
  /** Display form: the analysed term (BM25) or the decoded token (sparse). */
  term: string;
  /** Vocabulary id for learned sparse systems; absent for BM25, whose terms are strings. */
  id?: number;
  weight: number;
}

/** One term's share of a document's score: `contribution = queryWeight × docWeight`. */
export interface TermContribution extends WeightedTerm {
  /** The query-side weight. */
  queryWeight: number;
  /** The document-side weight (BM25: the term's BM25 score in the document; sparse: the impact). */
  docWeight: number;
  contribution: number;
}

export interface Explanation {
  docid: string;
  score: number;
  /** Matched terms only, by descending contribution (the largest `limit` when explain was given one). */
  terms: TermContribution[];
  /** With a `limit`: the matched terms left out, counted and summed. */
  rest?: { terms: number; contribution: number };
}

/**
 * A query as the server hands it to a system: exactly one of `text`, `sparse` (term → weight; term is a
 * vocabulary id in decimal for learned sparse systems, an analysed term for BM25) or `dense` (dim floats).
 */
export type SystemQuery =
  | { text: string }
  | { sparse: Map<string, number> }
  | { dense: Float32Array }; // (dim)

export interface SystemInfo {
  name: string;
  kind: SystemKind;
  /** Number of documents indexed. */
  docs: number;
  /** Dense: vector dimension. Sparse: vocabulary size. BM25: absent (open vocabulary). */
  dim?: number;
  /** Which query forms `search` accepts. */
  accepts: Array<'text' | 'sparse' | 'dense'>;
  /** Free-form description shown on the page (index path, parameters). */
  description: string;
}

export interface SearchSystem {
  readonly info: SystemInfo;
  /** Top-k hits, best first. Throws UsageError / ShapeError for a query form or shape it cannot take. */
  search(query: SystemQuery, k: number): Promise<Hit[]>;
  /** The query as this system weighs it (BM25: analysed terms; sparse: expansion terms). Dense: absent. */
  queryTerms?(query: SystemQuery): Promise<WeightedTerm[]>;
  /**
   * Per-term contributions for `docid` under `query`; undefined when the document is not in the index. With
   * `limit`, only the largest `limit` terms are listed and the others summed in `rest`.
   */
  explain?(query: SystemQuery, docid: string, limit?: number): Promise<Explanation | undefined>;
  /** Counters for `/api/metrics` (e.g. a query encoder's batches and queries). */
  stats?(): Record<string, number>;
  /** Release files, workers and native handles. */
  close?(): Promise<void>;
}

/** Where document text comes from for display: a corpus read at start-up. */
export interface DocStore {
  get(docid: string): { id: string; title?: string; text: string } | undefined;
  readonly size: number;
}
