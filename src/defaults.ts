/**
 * Every default value in Lion lives here, each with the paper's setting where one exists
 * (see ../shared/docs/paper-spec.md, cited as "spec §N"). Commands and library functions read these;
 * nothing else hard-codes a default.
 */

export const DEFAULTS = {
  /** BM25, Lucene/Anserini defaults. */
  bm25: { k1: 0.9, b: 0.4 },
  /** Retrieval depth: 1000 for MS MARCO / TREC DL, 100 for BEIR (spec §6). */
  search: { k: 1000, kBeir: 100 },
  /** trec_eval's relevance level for binary measures (-l). */
  eval: { relevanceLevel: 1 },
} as const;
