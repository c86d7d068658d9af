/**
 * The typed records that pipeline stages exchange (see docs/architecture.md). Plain data, no classes.
 */

/** A document or query as read from a corpus or topics file. */
export interface TextRecord {
  id: string;
  title?: string;
  text: string;
}

/** A learned sparse vector: ascending vocabulary ids with their (non-negative) weights. */
export interface SparseVec {
  terms: Uint32Array; // (nnz) ascending, unique
  weights: Float32Array; // (nnz)
}

/** A batch of dense vectors, row-major. */
export interface DenseMatrix {
  data: Float32Array; // (rows, dim)
  rows: number;
  dim: number;
  ids: string[]; // (rows)
}

/** One retrieved document. */
export interface Hit {
  docid: string;
  score: number;
}

/** A run: for each query id, its hits (in any order; evaluation sorts as trec_eval does). */
export type Run = Map<string, Hit[]>;

/** Relevance judgements: qid -> docid -> grade. */
export type Qrels = Map<string, Map<string, number>>;

/** A trainable tensor: its name, its values and the gradient accumulated for them. */
export interface Param {
  name: string;
  value: Float32Array;
  grad: Float32Array;
}
