/**
 * Learned sparse and dense indexes (src/index/) as server systems.
 *
 * Sparse: a query is a `SparseVec` over the model vocabulary — given directly as `{tokenId: weight}`, or
 * encoded from text on a worker thread (encoder-pool.ts) when the system has a model. The score is the exact
 * dot product `Σ_t q_t · d_t` the index computes (float32, ascending term order), so a hit's explanation is
 * the list of matched tokens with `queryWeight = q_t`, `docWeight = d_t` (the stored impact × scale) and
 * `contribution = q_t · d_t`, read from the index's forward arrays. Token ids are shown as tokens when a
 * tokenizer is known.
 *
 * Dense: a query is a vector of the index dimension — given, or encoded from text; exact inner product.
 *
 * `queryEncoder` starts the worker pool that encodes text queries (with the token display helpers of
 * tokens.ts), and `memorySystem` serves a `Retriever`'s in-memory index as the system of its index kind.
 */
import { DEFAULTS } from '../defaults.js';
import type { Paradigm } from '../encoders/encode.js';
import { locateModel } from '../encoders/trunks.js';
import { UsageError } from '../errors.js';
import type { MemoryIndex } from '../index/memory.js';
import { searchSparse } from '../index/inverted/search.js';
import type { InvertedIndex } from '../index/inverted/format.js';
import { searchDense, type VectorIndex } from '../index/vector/flat.js';
import type { SearchResult } from '../index/topk.js';
import type { Hit, SparseVec } from '../types.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { QueryEncoderPool } from './encoder-pool.js';
import type { OpenOptions } from './systems.js';
import { mergeByteTerms, readableToken, tokenBytes } from './tokens.js';
import type { Explanation, SearchSystem, SystemQuery, TermContribution, WeightedTerm } from './system.js';

const f = Math.fround;

export interface NeuralOptions {
  /** Encodes text queries; without it the system takes vectors only. */
  encoder?: QueryEncoderPool;
  /** Token id → display string (a tokenizer's decode); default the id itself. */
  decode?: (id: number) => string;
  /** Merges byte-fragment terms of a text query into readable characters (tokens.ts). */
  mergeTerms?: (terms: WeightedTerm[], text: string) => WeightedTerm[];
  description?: string;
}

function hitsOf(r: SearchResult, ids: string[]): Hit[] {
  const n = r.counts[0]!;
  const hits: Hit[] = new Array(n);
  for (let i = 0; i < n; i++) hits[i] = { docid: ids[r.docs[i]!]!, score: r.scores[i]! };
  return hits;
}

/** `{ "1042": 0.8, ... }` → ascending SparseVec, checking ids against the vocabulary. */
export function sparseFromTerms(m: Map<string, number>, vocab: number): SparseVec {
  const pairs: Array<[number, number]> = [];
  for (const [k, w] of m) {
    if (!/^\d+$/.test(k) || Number(k) >= vocab) {
      throw new UsageError(`sparse term '${k.slice(0, 40)}' must be a token id from 0 to ${vocab - 1} for this index`, { field: 'sparse' });
    }
    if (w > 0) pairs.push([Number(k), w]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { terms: Uint32Array.from(pairs, (p) => p[0]), weights: Float32Array.from(pairs, (p) => p[1]) };
}

/** Per-query cache, so search, query terms and k explanations of one request encode the text once. */
function memo<T>(fn: (q: SystemQuery) => Promise<T>): (q: SystemQuery) => Promise<T> {
  const cache = new WeakMap<SystemQuery, Promise<T>>();
  return (q) => {
    let p = cache.get(q);
    if (!p) cache.set(q, (p = fn(q)));
    return p;
  };
}

/**
 * A learned sparse index as a search system.
 * @example const sys = sparseSystem('lion-sp', loadInvertedIndex('docs.lidx'), { encoder });
 */
export function sparseSystem(name: string, ix: InvertedIndex, opts: NeuralOptions = {}): SearchSystem {
  // Token strings are decoded once per id: a learned sparse query can have hundreds of terms.
  const labels = new Map<number, string>();
  const label = (id: number): string => {
    let s = labels.get(id);
    if (s === undefined) labels.set(id, (s = opts.decode ? opts.decode(id) : String(id)));
    return s;
  };
  const vec = memo(async (q): Promise<SparseVec> => {
    if ('sparse' in q) return sparseFromTerms(q.sparse, ix.vocab);
    if ('text' in q) {
      if (!opts.encoder) throw new UsageError(`system '${name}' has no query encoder; send a sparse vector or start the server with --model ${name}=DIR`, { field: 'q' });
      return (await opts.encoder.encode(q.text)) as SparseVec;
    }
    throw new UsageError(`system '${name}' is sparse; it cannot take a dense vector`, { field: 'dense' });
  });
  let positions: Map<string, number> | undefined;
  const scale = ix.scale;
  return {
    info: {
      name,
      kind: 'sparse',
      docs: ix.numDocs,
      dim: ix.vocab,
      accepts: opts.encoder ? ['text', 'sparse'] : ['sparse'],
      description: opts.description ?? `learned sparse index, ${ix.numDocs} documents, vocabulary ${ix.vocab}, ${ix.dtype}`,
    },
    async search(q, k) {
      return hitsOf(searchSparse(ix, [await vec(q)], { k, threads: 1 }), ix.ids);
    },
    async queryTerms(q): Promise<WeightedTerm[]> {
      const v = await vec(q);
      const terms = Array.from(v.terms, (t, i) => ({ term: label(t), id: t, weight: v.weights[i]! })).sort((a, b) => b.weight - a.weight);
      return opts.mergeTerms && 'text' in q ? opts.mergeTerms(terms, q.text) : terms;
    },
    async explain(q, docid, limit = Infinity): Promise<Explanation | undefined> {
      positions ??= new Map(ix.ids.map((id, i) => [id, i]));
      const d = positions.get(docid);
      if (d === undefined) return undefined;
      const v = await vec(q);
      // Merge-join of two ascending term lists, the query's and the document's forward row, into typed arrays;
      // objects (and token strings) are made only for the terms listed.
      const n0 = Math.min(v.terms.length, ix.fwdOffsets[d + 1]! - ix.fwdOffsets[d]!);
      const at = new Uint32Array(n0); // (m) index into the query's terms
      const dws = new Float32Array(n0); // (m)
      const cs = new Float32Array(n0); // (m)
      let m = 0;
      let score = 0;
      let j = ix.fwdOffsets[d]!;
      const end = ix.fwdOffsets[d + 1]!;
      for (let i = 0; i < v.terms.length && j < end; i++) {
        const t = v.terms[i]!;
        while (j < end && ix.fwdTerms[j]! < t) j++;
        if (j < end && ix.fwdTerms[j] === t) {
          const dw = f(ix.fwdWeights[j]! * scale);
          const c = f(v.weights[i]! * dw);
          score = f(score + c);
          if (c > 0) { at[m] = i; dws[m] = dw; cs[m] = c; m++; }
        }
      }
      const order = Array.from({ length: m }, (_, x) => x).sort((a, b) => cs[b]! - cs[a]! || v.terms[at[a]!]! - v.terms[at[b]!]!);
      const shown = order.slice(0, Math.min(m, limit));
      const terms: TermContribution[] = shown.map((x) => {
        const i = at[x]!;
        const t = v.terms[i]!;
        return { term: label(t), id: t, weight: v.weights[i]!, queryWeight: v.weights[i]!, docWeight: dws[x]!, contribution: cs[x]! };
      });
      if (shown.length === m) return { docid, score, terms };
      let rest = 0;
      for (let x = shown.length; x < m; x++) rest += cs[order[x]!]!;
      return { docid, score, terms, rest: { terms: m - shown.length, contribution: rest } };
    },
    stats: () => encoderStats(opts.encoder),
    async close() {
      await opts.encoder?.close();
    },
  };
}

function encoderStats(e: QueryEncoderPool | undefined): Record<string, number> {
  return e ? { encoder_batches: e.stats.batches, encoder_queries: e.stats.queries } : {};
}

/**
 * A dense vector index as a search system (exact inner product).
 * @example const sys = denseSystem('lion-ds', loadVectorIndex('docs.lvec'), { encoder });
 */
export function denseSystem(name: string, ix: VectorIndex, opts: NeuralOptions = {}): SearchSystem {
  const vec = memo(async (q): Promise<Float32Array> => {
    if ('dense' in q) return q.dense;
    if ('text' in q) {
      if (!opts.encoder) throw new UsageError(`system '${name}' has no query encoder; send a dense vector or start the server with --model ${name}=DIR`, { field: 'q' });
      return (await opts.encoder.encode(q.text)) as Float32Array;
    }
    throw new UsageError(`system '${name}' is dense; it cannot take a sparse vector`, { field: 'sparse' });
  });
  return {
    info: {
      name,
      kind: 'dense',
      docs: ix.rows,
      dim: ix.dim,
      accepts: opts.encoder ? ['text', 'dense'] : ['dense'],
      description: opts.description ?? `dense index, ${ix.rows} documents, dimension ${ix.dim}, ${ix.dtype}`,
    },
    async search(q, k) {
      return hitsOf(searchDense(ix, await vec(q), { k, threads: 1 }), ix.ids);
    },
    stats: () => encoderStats(opts.encoder),
    async close() {
      await opts.encoder?.close();
    },
  };
}

/** How each in-memory index kind is served, and the words its description starts with. */
const MEMORY_SYSTEMS: { [K in MemoryIndex['kind']]: { serve: (name: string, ix: Extract<MemoryIndex, { kind: K }>['ix'], opts: NeuralOptions) => SearchSystem; label: string } } = {
  inverted: { serve: sparseSystem, label: 'learned sparse' },
  flat: { serve: denseSystem, label: 'dense' },
};

/**
 * An in-memory index (a `Retriever`'s, src/index/memory.ts) as a search system: a sparse system for an
 * inverted index, a dense one for a flat index. `about` completes the description.
 * @example const sys = memorySystem('sparse', await retriever.index(), { encoder, about: '60 documents' });
 */
export function memorySystem(name: string, index: MemoryIndex, opts: NeuralOptions & { about?: string } = {}): SearchSystem {
  const how = MEMORY_SYSTEMS[index.kind] as { serve: (name: string, ix: MemoryIndex['ix'], opts: NeuralOptions) => SearchSystem; label: string };
  return how.serve(name, index.ix, { ...opts, description: opts.description ?? (opts.about ? `${how.label}, ${opts.about}` : undefined) });
}

/**
 * A query encoder pool for the sparse or dense system whose model is `dir`, and a token decoder for showing
 * sparse terms (token ids are shown when the tokenizer cannot be read).
 */
export async function queryEncoder(dir: string, kind: Paradigm, o: OpenOptions = {}): Promise<{ encoder: QueryEncoderPool; decode?: (id: number) => string; mergeTerms?: (terms: WeightedTerm[], text: string) => WeightedTerm[] }> {
  const encoder = await QueryEncoderPool.start({
    model: dir, paradigm: kind, maxLength: DEFAULTS.encode.queryMaxLength, maxBatch: DEFAULTS.serve.encoderBatch,
    workers: o.encoderWorkers ?? DEFAULTS.serve.encoderWorkers, timeoutMs: o.encodeTimeoutMs ?? DEFAULTS.serve.timeoutMs, dtype: o.dtype,
  });
  let decode: ((id: number) => string) | undefined;
  let mergeTerms: ((terms: WeightedTerm[], text: string) => WeightedTerm[]) | undefined;
  try {
    const tok = loadTokenizer(locateModel(dir).tokenizer);
    // Readable tokens (tokens.ts): text, or the bytes of a fragment; fragments of the query's own characters merged.
    try {
      const bytesOf = tokenBytes(tok.file);
      decode = (id) => readableToken(bytesOf(id), id);
      mergeTerms = (terms, text) => mergeByteTerms(terms, bytesOf, tok.encode(text));
      return { encoder, decode, mergeTerms };
    } catch { /* an unusual tokenizer.json: fall back to the tokenizer's decode */ }
    // A byte-level token that is part of a multi-byte character decodes to U+FFFD alone: show its id instead.
    decode = (id) => {
      const t = tok.decode([id], true);
      return t === '' || t.includes('\uFFFD') ? `<${id}>` : t;
    };
  } catch {
    decode = undefined;
  }
  return { encoder, decode, mergeTerms };
}
