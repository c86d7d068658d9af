/**
 * Every default value in Lion lives here, each with the paper's setting where one exists
 * (see ../shared/docs/paper-spec.md, cited as "spec §N"). Commands and library functions read these;
 * nothing else hard-codes a default.
 */

export const DEFAULTS = {
  /** BM25, Lucene/Anserini defaults; document lengths as Lucene stores them (one byte) unless exactLengths. */
  bm25: { k1: 0.9, b: 0.4, exactLengths: false },
  /** Retrieval depth: 1000 for MS MARCO / TREC DL, 100 for BEIR (spec §6). */
  search: { k: 1000, kBeir: 100 },
  /** trec_eval's relevance level for binary measures (-l); Judged@k cutoff when `-m judged` has none. */
  eval: { relevanceLevel: 1, judgedK: 10 },
  /** `lion serve`: loopback only unless told otherwise; every request bounded in size, work and time. */
  serve: {
    host: '127.0.0.1',
    port: 8080,
    k: 10,
    maxK: 1000,
    maxQueryChars: 2000,
    maxSparseTerms: 10_000,
    maxBodyBytes: 1 << 20,
    maxEvalBodyBytes: 64 << 20,
    timeoutMs: 10_000,
    shutdownGraceMs: 10_000,
    /** Reciprocal rank fusion constant (Cormack et al., 2009). */
    rrfC: 60,
    metricsWindow: 10_000,
    /** Evaluation view: measure shown first, randomisation trials and seed. */
    measure: 'ndcg_cut.10',
    randomisationTrials: 10_000,
    seed: 42,
  },
} as const;
