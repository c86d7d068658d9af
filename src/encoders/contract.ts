/**
 * The encoder contract: what every head type on the shared trunk declares, so the trainer, `lion encode`,
 * the quickstart, the server and the study pick an encoder once (registry.ts, keyed by head type) and never
 * branch on the paradigm again.
 *
 * An `Encoder` is stateless: it runs on any `LlamaModel` (trainable decoder) and says
 *   - its dimension for a model (V for a vocabulary-sized sparse head, C for a pooled dense head),
 *   - whether the model must keep its LM head,
 *   - forward (trunk + head → a (B, dimension) rep) and backward (∂loss/∂rep → head → trunk),
 *   - how a pooled row leaves the encoder (`row`: a SparseVec or a dense Float32Array row) and which vector
 *     files hold it (`vectors`),
 *   - how its documents are indexed in memory and on disk (`index`: inverted or flat inner product),
 *   - what training needs besides forward and backward (the score scale inside the losses, FLOPS, the PEFT
 *     key layout of its adapters).
 *
 * `TextEncoder` is the other side of the seam: a loaded encoder (weights + tokenizer + configuration) that turns
 * texts into vectors. The paper's encoders (load.ts) and the simple API's SparseEncoder / DenseEncoder (for
 * BERT-family and configured models, src/api/encoder.ts) both implement it, and the in-memory `Retriever`
 * takes any of them.
 */
import type { AdapterLayout } from '../io/peft.js';
import type { LlamaModel, TokenBatch } from '../model/llama.js';
import type { ModelConfig } from '../model/registry.js';
import type { SparseVec } from '../types.js';

/** How an encoder's documents are indexed: an inverted index over term ids, or a flat inner-product matrix. */
export type IndexStructure = 'inverted' | 'flat';

/** The form of one pooled row, and so of the vector files (sparse JSONL / sparse shard, dense shard). */
export type VectorForm = 'sparse' | 'dense';

/** One encoded text: a sparse vector over the vocabulary or a dense row. */
export type Vector = SparseVec | Float32Array;

/** What a head's backward pass needs from its forward pass (heads add their own saved arrays). */
export interface HeadForward {
  /** (B, dimension) representations. */
  rep: Float32Array;
  /** (B, T, C) final hidden states: a view into the model's activations, valid until its next forward. */
  hidden: Float32Array;
  batch: TokenBatch;
  /** The model's activation slot the forward pass used (backward must use the same). */
  slot: string;
}

/** A head type on the shared trunk. */
export interface Encoder<F extends HeadForward = HeadForward> {
  /** Registry key, as `--paradigm` names it: 'sparse', 'dense', … */
  readonly kind: string;
  /** What a pooled row is, and so which vector files hold it. */
  readonly vectors: VectorForm;
  /** How documents encoded by it are indexed. */
  readonly index: IndexStructure;
  /** The model keeps its LM head (a vocabulary-sized head projects onto it). */
  readonly needsLmHead: boolean;
  /** FLOPS regularisation and non-zero counts apply to its reps (vocabulary-sized, mostly zero). */
  readonly flops: boolean;
  /** Key layout of the PEFT adapters trained with it (src/io/peft.ts). */
  readonly adapterLayout: AdapterLayout;
  /** Width of one rep row for a model of this configuration. */
  dimension(config: ModelConfig): number;
  /** Trunk + head. `train` keeps what backward needs; batches in different `slot`s can all run forward first. */
  forward(model: LlamaModel, batch: TokenBatch, train?: boolean, slot?: string): F;
  /** Backpropagates ∂loss/∂rep (B, dimension) through the head and the trunk (gradients accumulate). */
  backward(model: LlamaModel, f: F, drep: Float32Array): void;
  /** Row `b` of a (B, dim) rep as it leaves the encoder; `topK` > 0 keeps only the k largest (sparse rows). */
  row(rep: Float32Array, dim: number, b: number, topK?: number): Vector;
  /**
   * The first batch row whose output is NaN or infinite, or -1. May throw a NonFiniteError naming a weight
   * (a NaN the head itself would hide, such as a NaN logit skipped by a running max).
   */
  firstNonFinite(model: LlamaModel, f: F): number;
  /** Multiplier of query·document scores inside the training losses (dense: 1/τ; sparse: 1). */
  scoreScale(tau: number): number;
}

/** Options of one encode call of a `TextEncoder`. */
export interface EncodeCallOptions {
  /** Called after each batch with the number of texts encoded so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** A text, or a record with an optional title (encoded as "title text", as BEIR documents). */
export type TextInput = string | { text: string; title?: string };

/** A loaded encoder: texts in, vectors out, in input order. */
export interface TextEncoder<V extends Vector = Vector> {
  /** Head type (the registry key of the paper's heads, or the simple API's 'sparse' / 'dense'). */
  readonly kind: string;
  /** How its documents are indexed. */
  readonly index: IndexStructure;
  /** Width of its vectors (vocabulary size for sparse ones). */
  readonly dimension: number;
  encodeQueries(texts: readonly TextInput[], opts?: EncodeCallOptions): Promise<V[]>;
  encodeDocuments(texts: readonly TextInput[], opts?: EncodeCallOptions): Promise<V[]>;
  /** A vocabulary id as text (for explaining sparse scores). */
  tokenText(id: number): string;
}
