/**
 * In-memory indexes of encoded documents, one builder per index kind an encoder declares (src/encoders/
 * contract.ts `index`): `inverted` (Lion's inverted index, exact search; the clustered lists are skipped, as
 * nothing in memory searches them) and `flat` (f32 inner-product matrix, exact search). The `Retriever`
 * (src/api/retriever.ts) and validation during training build through here; the server serves the same index
 * objects (`ix`) as file-backed ones.
 *
 * Both search exactly and return the top-k by score, ties by document position (insertion order).
 */
import { UsageError } from '../errors.js';
import type { IndexStructure, Vector } from '../encoders/contract.js';
import type { SparseVec } from '../types.js';
import { buildInvertedIndexFromRecords } from './inverted/build.js';
import type { InvertedIndex } from './inverted/format.js';
import { searchSparse } from './inverted/search.js';
import type { SearchResult } from './topk.js';
import { searchDense, vectorIndexFromMatrix, type VectorIndex } from './vector/flat.js';

/** A term a query and a document share, with both weights (their product is the term's part of the score). */
export interface TermPair {
  term: number;
  queryWeight: number;
  docWeight: number;
}

interface Common {
  /** Documents indexed, and their ids by position. */
  readonly size: number;
  readonly ids: readonly string[];
  /** The k best documents per query (k is capped at the document count). */
  search(queries: readonly Vector[], k: number): SearchResult;
}

/** An inverted index over sparse vectors: its scores have per-term parts. */
export interface InvertedMemoryIndex extends Common {
  readonly kind: 'inverted';
  readonly ix: InvertedIndex;
  /** The terms query `q` shares with the document at `pos`, in ascending term order. */
  matches(q: SparseVec, pos: number): TermPair[];
  /** Non-zero weights stored for the document at `pos`. */
  nonZeros(pos: number): number;
}

/** A flat matrix of dense rows. */
export interface FlatMemoryIndex extends Common {
  readonly kind: 'flat';
  readonly ix: VectorIndex;
}

export type MemoryIndex = InvertedMemoryIndex | FlatMemoryIndex;

type Builder = (ids: readonly string[], vecs: readonly Vector[], dim: number) => Promise<MemoryIndex>;

function inverted(ix: InvertedIndex): InvertedMemoryIndex {
  return {
    kind: 'inverted', ix, size: ix.numDocs, ids: ix.ids,
    search: (queries, k) => searchSparse(ix, queries as SparseVec[], { k: Math.max(1, Math.min(k, ix.numDocs)), mode: 'exact' }),
    matches(q, pos) {
      const out: TermPair[] = [];
      const end = ix.fwdOffsets[pos + 1]!;
      let j = ix.fwdOffsets[pos]!;
      for (let i = 0; i < q.terms.length && j < end; i++) {
        const t = q.terms[i]!;
        while (j < end && ix.fwdTerms[j]! < t) j++;
        if (j < end && ix.fwdTerms[j] === t) out.push({ term: t, queryWeight: q.weights[i]!, docWeight: Math.fround(ix.fwdWeights[j]! * ix.scale) });
      }
      return out;
    },
    nonZeros: (pos) => ix.fwdOffsets[pos + 1]! - ix.fwdOffsets[pos]!,
  };
}

function flat(ix: VectorIndex): FlatMemoryIndex {
  return {
    kind: 'flat', ix, size: ix.rows, ids: ix.ids,
    search(queries, k) {
      const qm = new Float32Array(queries.length * ix.dim); // (Q, D)
      queries.forEach((q, i) => qm.set(q as Float32Array, i * ix.dim));
      return searchDense(ix, qm, { k: Math.max(1, Math.min(k, ix.rows)) });
    },
  };
}

const builders: Record<IndexStructure, Builder> = {
  inverted: async (ids, vecs, dim) => inverted(await buildInvertedIndexFromRecords(vecs.map((vec, i) => ({ id: ids[i]!, vec: vec as SparseVec })), { vocabSize: dim, listMax: 0 })),
  async flat(ids, vecs, dim) {
    const data = new Float32Array(vecs.length * dim); // (N, D)
    vecs.forEach((v, i) => data.set(v as Float32Array, i * dim));
    return flat(vectorIndexFromMatrix({ data, rows: vecs.length, dim, ids: [...ids] }, 'f32'));
  },
};

/**
 * Indexes `vecs` (document `ids[i]` is `vecs[i]`) the way `kind` says, for vectors of width `dim` (the
 * vocabulary size for sparse vectors).
 * @example const ix = await buildMemoryIndex(encoder.index, ['d1', 'd2'], vecs, encoder.dimension);
 */
export function buildMemoryIndex(kind: IndexStructure, ids: readonly string[], vecs: readonly Vector[], dim: number): Promise<MemoryIndex> {
  const build = builders[kind];
  if (!build) throw new UsageError(`index kind must be ${Object.keys(builders).join(' or ')}, got '${String(kind)}'`, { field: 'index' });
  if (ids.length !== vecs.length) throw new UsageError(`${ids.length} document ids for ${vecs.length} vectors`, { field: 'ids' });
  return build(ids, vecs, dim);
}
