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
  eval: { relevanceLevel: 1, judgedK: 10, measure: 'ndcg_cut.10' },
  /** Sparse inverted index: float32 weights and no pruning, as the paper indexes (spec §6.1); blocks of 2^5 docs. */
  sparseIndex: { dtype: 'f32', blockShift: 5, denseFraction: 8, impactMax: 2048, reorder: 'none' as 'bp' | 'none', reorderIters: 8, listMax: 1024, clusterSize: 16, summaryMass: 0.6, summaryMax: 64, summaryHead: 32 },
  /**
   * Sparse search: exact by default (spec §6.1). `blockmax` stops once alpha x the next block bound <= the k-th
   * score; `impact` scores the top `lambda` postings of the `cut` heaviest query terms; `cluster` visits the blocks
   * of its `clusterCut` heaviest terms until gamma x a block's estimate <= the k-th score. Cluster defaults are
   * the fastest setting at >= 0.97 accuracy@10 on the development queries of bench:sparse: cut 8, gamma 0.9 at 1M
   * and 2M documents; cut 12, gamma 1 at 4M (`clusterLarge`, from 3M documents per index on), because the
   * clustered lists keep `listMax` postings per term whatever the collection size.
   */
  sparseSearch: {
    mode: 'exact', alpha: 0.9, cut: 5, lambda: 100, clusterCut: 8, gamma: 0.9,
    clusterLarge: { fromDocs: 3_000_000, cut: 12, gamma: 1 },
  },
  /** Dense index: float32 exact inner product (spec §6.2, FAISS IndexFlatIP); HNSW settings for `hnsw` mode. */
  denseIndex: { dtype: 'f32', connectivity: 16, expansionAdd: 128, expansionSearch: 128 },
  /** Run fusion: reciprocal rank fusion constant (Cormack et al., 2009) and the normaliser of weighted sums. */
  fusion: { method: 'rrf' as 'rrf' | 'sum', rrfK: 60, norm: 'minmax' as 'minmax' | 'zscore' | 'none', tuneStep: 0.05 },
  /**
   * Retrieval fine-tuning (spec §3, §4.1–4.2): lr 1e-4, 4 % warm-up + linear decay, clip 1.0, AdamW 0.9/0.999/1e-8,
   * wd 0, τ 0.01 (dense), λq 0.05 / λd 0.04 (sparse, ramped over the first third), 16 negatives, lengths 64/128,
   * LoRA r 16 / α 32 / dropout 0.05 on all seven projections, seed 45 (CL, CL+KD), 1B batch 28 × A 1.
   */
  train: {
    lr: 1e-4, warmupRatio: 0.04, maxGradNorm: 1.0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
    tau: 0.01, lambdaQ: 0.05, lambdaD: 0.04, negatives: 16, queryMaxLength: 64, docMaxLength: 128,
    batchSize: 28, gradAccum: 1, epochs: 1, seed: 45, logEvery: 50, saveEvery: 500,
    loraR: 16, loraAlpha: 32, loraDropout: 0.05,
  },
  /**
   * Precision: training computes in fp32 unless `--precision bf16` (the paper trains in bf16); inference loads
   * `auto` = bf16 where the kernels multiply bf16 natively, else fp32 (src/model/precision.ts decides).
   */
  precision: { train: 'fp32', recompute: false, inference: 'auto' },
  /** MNTP (spec §2.3): 20 % masking, 512-token blocks, batch 32, lr 5e-5, no warm-up, 10k steps. */
  mntp: { probability: 0.2, blockLength: 512, batchSize: 32, lr: 5e-5, warmupRatio: 0, maxSteps: 10_000, seed: 42, logEvery: 50, saveEvery: 1000 },
  /** Encoding: paper lengths for MS MARCO (64/192) and BEIR (512/512); batches bounded in rows and padded tokens. */
  encode: { queryMaxLength: 64, docMaxLength: 192, beirMaxLength: 512, maxBatch: 64, maxTokens: 16_384, topK: 0 },
  /**
   * Sparse top-k kept by `lion encode` (documents / queries): real sparsity by default. The paper keeps every
   * non-zero (`--top-k 0`); small models trained with the paper's FLOPS weights leave ~2,400 of 4,096 ids
   * non-zero, and 256 / 64 cut a SciFact index from 238 MB to 27 MB and search 19x faster at no loss
   * (docs/indexing.md, "Sparsity").
   */
  encodeTopK: { doc: 256, query: 64 },
  /** Quickstart rows of the shipped demonstration models (models/): documents cut where they were trained (128). */
  quickstart: { systems: 'bm25,sparse,dense,hybrid', docMaxLength: 512 },
  /** `lion study` (src/study): toy-scale defaults of the scaling grid; the paper's are negatives 16, lr 1e-4, KD batch 4-9x. */
  study: { sizes: 'h32l1,h48l2', negatives: 16, lr: 1e-4, batch: 16, kdBatchFactor: 4, evalDocMaxLength: 128, work: 'lion-study' },
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
    /** Worker threads per query encoder (each holds a copy of the model). */
    encoderWorkers: 1,
    /** Queries a worker encodes in one forward pass at most (those that queued while it was busy). */
    encoderBatch: 16,
    /** Query terms and per-hit contributions a search reply lists (the rest are counted and summed). */
    shownTerms: 32,
    metricsWindow: 10_000,
    /** Evaluation view: measure shown first, randomisation trials and seed. */
    measure: 'ndcg_cut.10',
    randomisationTrials: 10_000,
    seed: 42,
    /** Documents (or ids) one live-index write request may carry. */
    maxLiveDocs: 10_000,
    /** Open connections, and evaluations or explained searches in progress, at most (more get a 503). */
    maxConnections: 256,
    maxHeavy: 2,
  },
  /**
   * Hard-negative mining (`lion mine`): a pool per query to sample training negatives from; larger than the
   * 16 that `lion train` draws per query (train.negatives), so each epoch sees different ones.
   */
  mine: { negatives: 50, skip: 0 },
  /** `lion export`: integer impacts = round(weight x scale) for Anserini / CIFF; the OpenSearch index name. */
  export: { scale: 100, name: 'lion' },
  /** Run tags (the 6th column of a TREC run) of the commands that write runs, so runs say where they came from. */
  tags: { search: 'lion', bm25: 'lion-bm25', fuse: 'lion-fused', live: 'lion-live', rerank: 'lion-rerank' },
  /** Live indexes (src/index/live): merge after a commit when more than `mergeFactor` segments exist. */
  live: { autoMerge: true, mergeFactor: 8 },
  /** Re-ranking a first-stage run with a cross-encoder: documents re-scored per query, batch, lengths. */
  rerank: { depth: 100, batchSize: 16, maxLength: 256 },
  /** Training validation (`lion train --eval-*`): evaluate every N steps; stop after PATIENCE evaluations without gain. */
  validate: { every: 0, patience: 0, measure: 'ndcg_cut.10', docMaxLength: 128, k: 100 },
} as const;
