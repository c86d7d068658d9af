/**
 * Initialisations of a model trained from scratch.
 *
 * `initWeights`: random, as Hugging Face LlamaPreTrainedModel._init_weights does: every linear and embedding
 * weight ~ N(0, initializer_range = 0.02), biases 0, RMSNorm weights 1. LoRA tensors are left as the model
 * initialised them (peft's init).
 *
 * `initLexical`: a model that is a lexical retriever before any training step (tied embeddings required).
 * Token ids are grouped into classes by the English analyzer of the BM25 index (lower case, Porter stem;
 * `lexicalStatistics`), each class gets an IDF-based weight from a corpus, and:
 *  - every decoder layer's `o_proj` and `down_proj` start at zero, so the trunk is the identity (the residual
 *    stream is the token's embedding), except the dense variant's first attention layer (below);
 *  - the ids of one class share one random direction in the first C-2 hidden dimensions (so upper/lower case,
 *    with/without a leading space and inflected forms of a word are one term);
 *  - sparse: each of the m ids of a class gets an embedding norm n with `log1p(C^¼·n·(1-α²)(1-θ)) = weight/√m`
 *    (so a class matched in a query and a document adds weight² to the score). A reserved dimension holds the
 *    fraction α of every row (α² = ½) and the final RMSNorm weights it by `-θ`, so the logit of id v at a
 *    position holding token x is `√C·n_v·((1-α²)·cos(x, v) - α²θ)`: positive only for the token's own class
 *    (cos 1) and for the rare random pairs with cos > θ. The sparse head `log1p(relu(max_t logit·C^-¼))` then
 *    gives each class present in the text its weight — an IDF-weighted binary bag of words. Ids of no class
 *    (and classes without weight) lie on the reserved dimension alone, so they are never active;
 *  - dense: the first attention layer pools. Its query reads a constant dimension, its key a dimension holding
 *    the log of the token's weight, both in the slowest RoPE pair (so position barely matters), so every
 *    position attends to every token with probability ∝ weight; values copy the class directions and `o_proj`
 *    scales them by `poolScale`, so every final state is close to the weighted mean of the text's class
 *    directions and the dense head (mean of L2-normalised states) gives the cosine of weighted term-frequency
 *    vectors under a random projection (ids of no class get weight e^-8, so they barely count).
 * Everything else (q/k/v/gate/up of the other layers, norms) is initialised as `initWeights` does, so training
 * moves away from the lexical start with ordinary gradients.
 */
import { UsageError } from '../errors.js';
import type { LlamaModel } from '../model/llama.js';
import type { LionTokenizer } from '../tokenizer/tokenizer.js';
import { createEnglishAnalyzer } from '../bm25/analyzer.js';
import { ropeInvFreq } from '../kernels/rope.js';
import { Rng } from '../util/rng.js';

/** Overwrite the base weights of `model` with a seeded random initialisation. */
export function initWeights(model: LlamaModel, seed: number, std = 0.02): void {
  if (model.dtype !== 'fp32') throw new UsageError(`a model is initialised in fp32 (this one holds its weights in ${model.dtype})`, { field: 'dtype' });
  const rng = Rng.derive(seed, 0x1417);
  for (const p of model.parameters()) {
    if (p.name.includes('lora_')) continue;
    if (p.name.endsWith('norm.weight')) p.value.fill(1);
    else if (p.name.endsWith('.bias')) p.value.fill(0);
    else for (let i = 0; i < p.value.length; i++) p.value[i] = std * rng.normal();
  }
}

/** Token classes of a vocabulary and their document frequencies in a corpus. */
export interface LexicalStats {
  /** Class of each id (-1: no term — punctuation, stop words, special tokens). */
  classOf: Int32Array;
  /** The analyzer term of each class. */
  terms: string[];
  /** Documents holding any id of the class. */
  df: Float64Array;
  /** Documents read. */
  docs: number;
  /** The tokenizer's BOS id (the tf variant of the sparse initialisation uses it as an attention sink). */
  bosId: number | null;
}

/**
 * Groups the ids of `tok` into classes by the BM25 English analyzer of their text (an id whose text gives
 * exactly one term belongs to that term's class; others belong to none), then counts, over `texts`, the
 * documents holding each class.
 */
export function lexicalStatistics(tok: LionTokenizer, texts: Iterable<string>): LexicalStats {
  const analyze = createEnglishAnalyzer();
  const V = tok.vocabSize;
  const classOf = new Int32Array(V).fill(-1);
  const terms: string[] = [];
  const byTerm = new Map<string, number>();
  const special = new Set([tok.bosId, tok.eosId, tok.padId, tok.maskId].filter((x): x is number => x !== null));
  for (let id = 0; id < V; id++) {
    if (special.has(id)) continue;
    const text = tok.decode([id]);
    if (text.includes('\ufffd')) continue; // a partial UTF-8 sequence
    const t = analyze(text);
    if (t.length !== 1) continue;
    let c = byTerm.get(t[0]!);
    if (c === undefined) { c = terms.length; terms.push(t[0]!); byTerm.set(t[0]!, c); }
    classOf[id] = c;
  }
  const df = new Float64Array(terms.length);
  const seen = new Int32Array(terms.length).fill(-1);
  let docs = 0;
  for (const text of texts) {
    for (const id of tok.encode(text)) {
      if (id < 0 || id >= V) continue;
      const c = classOf[id]!;
      if (c >= 0 && seen[c] !== docs) { seen[c] = docs; df[c]!++; }
    }
    docs++;
  }
  return { classOf, terms, df, docs, bosId: tok.bosId };
}

/** Options of `initLexical`; the defaults are what the shipped demonstration models use. */
export interface LexicalInitOptions {
  paradigm: 'sparse' | 'dense';
  seed: number;
  /** Class weight = scale · idf^idfPower, idf = ln(1 + (N - df + 0.5)/(df + 0.5)) (default 0.5 sparse, 1 dense). */
  idfPower?: number;
  /** Multiplier of the class weights (default 1). */
  scale?: number;
  /** Sparse: cosine a cross-token logit must exceed to be positive (default 0.3). */
  threshold?: number;
  /**
   * Sparse: term-frequency saturation k1 (BM25's), made by the first attention layer (default 1); 0 gives a
   * binary bag of words (every layer the identity).
   */
  tfK1?: number;
  /** Sparse with tfK1 > 0: attention logit of a token to another of its class (default 20). */
  matchLogit?: number;
  /** Dense: gain of the pooling attention's output (default 100). */
  poolScale?: number;
  /** Classes seen in fewer documents than this get no weight (default 1: unseen classes get none). */
  minDf?: number;
}

/** Step-0 weight of each class: scale · idf^p (0 for classes below minDf). */
export function lexicalClassWeights(stats: LexicalStats, opts: Pick<LexicalInitOptions, 'idfPower' | 'scale' | 'minDf' | 'paradigm'>): Float64Array {
  const p = opts.idfPower ?? (opts.paradigm === 'sparse' ? 0.5 : 1);
  const s = opts.scale ?? 1;
  const minDf = opts.minDf ?? 1;
  const N = stats.docs;
  return Float64Array.from(stats.df, (df) => (df < minDf ? 0 : s * Math.log(1 + (N - df + 0.5) / (df + 0.5)) ** p));
}

function classSizes(stats: LexicalStats): Float64Array {
  const members = new Float64Array(stats.terms.length);
  for (const c of stats.classOf) if (c >= 0) members[c]!++;
  return members;
}

/**
 * The sparse initialisation with term-frequency saturation. Hidden layout: content directions [0, K1),
 * class identities [K1, K1+K2) (read only by the attention), a constant (C-3), the saturation channel (C-2)
 * and the threshold dimension (C-1); every class row has the same norm, and the class weight is set by how
 * much of the row lies on the threshold dimension. The first attention layer's head 0 matches a token with
 * the other tokens of its class through the class identities in its slowest rotary pairs (so distance
 * barely matters) and with BOS through the constant; BOS's value writes δ = ρ·|row|/(1 + m·tf) on the
 * saturation channel, which the final RMSNorm counts but does not pass on, so every logit at the position is
 * multiplied by M(tf) = 1/√(1 + (ρ/(1 + m·tf))²). m and ρ are set so that M(tf)/M(∞) = tf/(tf + k1) at
 * tf = 1 and 2; the class weight is its weight at tf = 1.
 */
function sparseTf(model: LlamaModel, stats: LexicalStats, weights: Float64Array, opts: LexicalInitOptions, dirsAll: Float32Array): void {
  const cfg = model.config;
  const C = cfg.hiddenSize, V = cfg.vocabSize, D = cfg.headDim, H = cfg.numHeads, KVH = cfg.numKvHeads;
  const theta = opts.threshold ?? 0.3, k1 = opts.tfK1 ?? 1, beta = opts.matchLogit ?? 20;
  const inv = ropeInvFreq(D, cfg.ropeTheta, cfg.ropeScaling);
  const slow: number[] = [];
  for (let j = 0; j < D / 2; j++) if (inv[j]! * cfg.maxPositionEmbeddings < 0.1) slow.push(j);
  if (slow.length < 8) {
    throw new UsageError(`the sparse lexical initialisation with tf needs at least 8 rotary pairs that turn less than 0.1 rad over ${cfg.maxPositionEmbeddings} positions; this config has ${slow.length} (raise rope_theta or head_dim, or pass tfK1 0)`, { field: 'rope_theta' });
  }
  if (H !== KVH) throw new UsageError('the sparse lexical initialisation with tf needs one key/value head per attention head', { field: 'num_key_value_heads' });
  if (stats.bosId === null) throw new UsageError('the sparse lexical initialisation with tf needs a tokenizer that adds BOS (its attention sink)', { field: 'bos_token' });
  const sinkDim = slow[0]!;
  const idHead: number[] = []; // head-0 dimensions carrying class identities (both halves of each slow pair)
  for (const j of slow.slice(1)) idHead.push(j, j + D / 2);
  const K2 = idHead.length, K1 = C - 3 - K2;
  if (K1 < 16) throw new UsageError(`hidden size ${C} leaves ${K1} content dimensions after ${K2} identity dimensions (at least 16)`, { field: 'hidden_size' });
  const iota = 1, kappa = 1, s3 = Math.sqrt(1 + iota * iota + kappa * kappa);
  // saturation: M(tf)/M(inf) = tf/(tf + k1) at tf = 1, 2
  const A = Math.sqrt((1 + k1) ** 2 - 1), B = Math.sqrt(((2 + k1) / 2) ** 2 - 1);
  if (!(A / B < 2)) throw new UsageError(`tfK1 ${k1} is too large (at most 3)`, { field: 'tf-k1' });
  const m = (A / B - 1) / (2 - A / B), rho = A * (1 + m);
  const M1 = 1 / Math.sqrt(1 + (rho / (1 + m)) ** 2);
  const members = classSizes(stats);
  let tMax = 0;
  for (let c = 0; c < weights.length; c++) if (weights[c]! > 0) tMax = Math.max(tMax, weights[c]! / Math.sqrt(members[c]!));
  const tauMax = (1 - theta) / 2; // α² = ½ at the largest weight keeps every cross-class threshold ≥ θ
  const n = Math.max(Math.expm1(tMax) * s3 / (C ** 0.25 * M1 * tauMax), 1);
  const rng = Rng.derive(opts.seed, 0x1e73);
  const content = unitVectors(rng, stats.terms.length, K1);
  const ident = unitVectors(rng, stats.terms.length, K2);
  void dirsAll;
  const E = model.param('model.embed_tokens.weight');
  E.fill(0);
  for (let id = 0; id < V; id++) {
    const c = stats.classOf[id]!;
    const row = E.subarray(id * C, (id + 1) * C);
    if (id === stats.bosId) { row[C - 2] = 1; continue; }
    if (c < 0 || !(weights[c]! > 0)) { row[C - 1] = 1; continue; }
    const tau = Math.expm1(weights[c]! / Math.sqrt(members[c]!)) * s3 / (C ** 0.25 * n * M1);
    const a2 = (1 - tau) / (1 + theta);
    for (let j = 0; j < K1; j++) row[j] = n * Math.sqrt(1 - a2) * content[c * K1 + j]!;
    for (let j = 0; j < K2; j++) row[K1 + j] = n * iota * ident[c * K2 + j]!;
    row[C - 3] = n * kappa;
    row[C - 1] = n * Math.sqrt(a2);
  }
  const p = 'model.layers.0.self_attn.';
  const wq = model.param(p + 'q_proj.weight'), wk = model.param(p + 'k_proj.weight');
  const wv = model.param(p + 'v_proj.weight'), wo = model.param(p + 'o_proj.weight');
  wq.subarray(0, D * C).fill(0); wk.subarray(0, D * C).fill(0); wv.fill(0); wo.fill(0);
  const s0 = Math.sqrt(C) / s3; // a class row after RMSNorm is s0 · row / n
  const sqk = Math.sqrt((beta * Math.sqrt(D)) / (s0 * s0 * iota * iota));
  for (let j = 0; j < K2; j++) { wq[idHead[j]! * C + K1 + j] = sqk; wk[idHead[j]! * C + K1 + j] = sqk; }
  // BOS after RMSNorm is √C on dimension C-2; score(t, BOS) = β - ln m
  wk[sinkDim * C + (C - 2)] = 1;
  wq[sinkDim * C + (C - 3)] = ((beta - Math.log(m)) * Math.sqrt(D)) / (s0 * kappa * Math.sqrt(C));
  // value: head 0, dimension 0 reads the BOS dimension; o_proj writes ρ·|row|·a_BOS on channel C-2
  wv[0 * C + (C - 2)] = 1;
  wo[(C - 2) * C + 0] = (rho * n * s3) / Math.sqrt(C);
  const g = model.param('model.norm.weight');
  g.fill(0);
  for (let j = 0; j < K1; j++) g[j] = 1;
  g[C - 1] = -theta;
}

function unitVectors(rng: Rng, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) { const x = rng.normal(); out[i * dim + j] = x; ss += x * x; }
    const r = 1 / Math.sqrt(ss);
    for (let j = 0; j < dim; j++) out[i * dim + j]! *= r;
  }
  return out;
}

/**
 * Overwrite `model` (fp32, tied embeddings, vocabulary of the tokenizer `stats` came from) with the lexical
 * initialisation described at the top of this file. Returns the class weights used.
 */
export function initLexical(model: LlamaModel, stats: LexicalStats, opts: LexicalInitOptions): Float64Array {
  const cfg = model.config;
  if (!cfg.tieWordEmbeddings) throw new UsageError('the lexical initialisation needs tied input and output embeddings (tie_word_embeddings: true)', { field: 'tie_word_embeddings' });
  if (stats.classOf.length !== cfg.vocabSize) throw new UsageError(`the token statistics cover ${stats.classOf.length} ids but the model has ${cfg.vocabSize}`, { field: 'vocab_size' });
  if (cfg.qkvBias || cfg.oBias || cfg.mlpBias || cfg.qkNorm) throw new UsageError('the lexical initialisation is for plain Llama layers (no biases, no q/k norms)', { field: 'model_type' });
  const C = cfg.hiddenSize;
  if (C < 8) throw new UsageError(`hidden size ${C} is too small for the lexical initialisation (at least 8)`, { field: 'hidden_size' });
  const theta = opts.threshold ?? 0.3;
  if (!(theta >= 0 && theta < 1)) throw new UsageError(`threshold must be in [0, 1), got ${theta}`, { field: 'threshold' });
  initWeights(model, opts.seed);
  const weights = lexicalClassWeights(stats, opts);
  for (let l = 0; l < cfg.numLayers; l++) {
    model.param(`model.layers.${l}.self_attn.o_proj.weight`).fill(0);
    model.param(`model.layers.${l}.mlp.down_proj.weight`).fill(0);
  }
  const E = model.param('model.embed_tokens.weight'); // (V, C)
  const g = model.param('model.norm.weight'); // (C)
  const V = cfg.vocabSize;
  const K = C - 2; // content dimensions; C-2 and C-1 are reserved
  const dirs = unitVectors(Rng.derive(opts.seed, 0x1e71), stats.terms.length, K);
  const noClass = unitVectors(Rng.derive(opts.seed, 0x1e72), V, K); // ids without a class: their own direction
  E.fill(0);
  if (opts.paradigm === 'sparse' && (opts.tfK1 ?? 1) > 0) {
    sparseTf(model, stats, weights, opts, dirs);
    return weights;
  }
  if (opts.paradigm === 'sparse') {
    const a2 = 0.5;
    const gain = C ** 0.25 * (1 - a2) * (1 - theta); // logit·C^-¼ of an id at its own position, per unit norm
    const members = classSizes(stats);
    for (let id = 0; id < V; id++) {
      const c = stats.classOf[id]!;
      const row = E.subarray(id * C, (id + 1) * C);
      if (c < 0 || !(weights[c]! > 0)) { row[C - 1] = 1; continue; } // reserved dimension only: never active
      // each of the class's m ids carries weight/√m, so a class matched in query and document adds weight²
      const n = Math.expm1(weights[c]! / Math.sqrt(members[c]!)) / gain;
      const src = dirs.subarray(c * K, (c + 1) * K);
      for (let j = 0; j < K; j++) row[j] = n * Math.sqrt(1 - a2) * src[j]!;
      row[C - 1] = n * Math.sqrt(a2);
    }
    g.fill(1);
    g[C - 2] = 0;
    g[C - 1] = (-theta * (1 - a2)) / a2;
    return weights;
  }
  // dense: every row has rms 1; dimension C-2 holds log(weight), C-1 a constant; content scaled to fit
  const H = cfg.numHeads, D = cfg.headDim, KVH = cfg.numKvHeads;
  if (H * D !== C || KVH !== H) throw new UsageError(`the dense lexical initialisation needs heads × head_dim = hidden size and one key/value head per head (${H} × ${D}, ${KVH} key/value heads, hidden ${C})`, { field: 'num_key_value_heads' });
  const beta = 1, lmin = -8;
  for (let id = 0; id < V; id++) {
    const c = stats.classOf[id]!;
    const w = c >= 0 ? weights[c]! : 0;
    const logw = w > 0 ? Math.max(Math.log(w), lmin) : lmin;
    const src = c >= 0 ? dirs.subarray(c * K, (c + 1) * K) : noClass.subarray(id * K, (id + 1) * K);
    const row = E.subarray(id * C, (id + 1) * C);
    const a = Math.sqrt(C - beta * beta - logw * logw);
    for (let j = 0; j < K; j++) row[j] = a * src[j]!;
    row[C - 2] = logw;
    row[C - 1] = beta;
  }
  // layer 0 attention: score(t, s) = logw_s in the slowest rotary pair (index D/2-1 of each head)
  const p = 'model.layers.0.self_attn.';
  const wq = model.param(p + 'q_proj.weight'), wk = model.param(p + 'k_proj.weight');
  const wv = model.param(p + 'v_proj.weight'), wo = model.param(p + 'o_proj.weight');
  wq.fill(0); wk.fill(0); wv.fill(0); wo.fill(0);
  const slot = D / 2 - 1;
  const sq = Math.sqrt(Math.sqrt(D)) / beta, sk = Math.sqrt(Math.sqrt(D)); // sq·β·sk/√D = 1
  for (let h = 0; h < H; h++) wq[(h * D + slot) * C + (C - 1)] = sq;
  for (let h = 0; h < KVH; h++) wk[(h * D + slot) * C + (C - 2)] = sk;
  // values copy the content dimensions (head h's value dims are hidden dims h·D…h·D+D-1); o_proj scales them
  const poolScale = opts.poolScale ?? 100;
  for (let hid = 0; hid < K; hid++) { wv[hid * C + hid] = 1; wo[hid * C + hid] = poolScale; }
  g.fill(1);
  g[C - 2] = 0;
  g[C - 1] = 0;
  return weights;
}
