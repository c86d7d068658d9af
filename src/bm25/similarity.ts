/**
 * BM25 as Lucene ≥ 8 computes it (BM25Similarity), bit for bit in float32, so scores agree with
 * Anserini/Pyserini runs:
 *
 *   idf(t)   = (float) ln(1 + (N − n + 0.5) / (n + 0.5))          N = docs with a non-empty field, n = df(t)
 *   weight   = (float) (queryCount(t) · idf(t))                    Anserini boosts repeated query terms
 *   normInv  = 1 / (k1 · ((1 − b) + b · dl / avgdl))             float ops, one table entry per length byte
 *   score    = weight − weight / (1 + tf · normInv)              = weight · tf / (tf + k1·(1−b+b·dl/avgdl))
 *
 * There is no (k1 + 1) factor (Lucene dropped it in 8.0; rankings are unchanged). avgdl is the exact mean
 * (sumTotalTermFreq / N, as a float), but dl is the document length as Lucene stores it: one byte,
 * SmallFloat.intToByte4, which keeps lengths below 24 exact and 4 significant bits above (e.g. 100 → 96).
 * `exactLengths: true` uses the true length instead (not what Lucene does; slightly different scores).
 * Per-term scores are float32; a document's sum is accumulated in float64 and rounded to float32 at the end,
 * as Lucene's disjunction scorers do.
 */

const f = Math.fround;

/** Lucene's SmallFloat.longToInt4: 4 significant bits, order-preserving. */
function longToInt4(i: number): number {
  const numBits = i === 0 ? 0 : 32 - Math.clz32(i);
  if (numBits < 4) return i; // subnormal
  const shift = numBits - 4;
  let encoded = (i >>> shift) & 0x07; // the leading bit is implicit
  encoded |= (shift + 1) << 3;
  return encoded;
}

function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

const MAX_INT4 = longToInt4(0x7fffffff);
const NUM_FREE_VALUES = 255 - MAX_INT4; // 24

/** Lucene's SmallFloat.intToByte4: the one-byte document length BM25Similarity stores (0..255). */
export function intToByte4(i: number): number {
  if (!Number.isInteger(i) || i < 0 || i > 0x7fffffff) throw new RangeError(`intToByte4: ${i} is not a non-negative int32`);
  return i < NUM_FREE_VALUES ? i : NUM_FREE_VALUES + longToInt4(i - NUM_FREE_VALUES);
}

/** Lucene's SmallFloat.byte4ToInt: the length a stored byte stands for. */
export function byte4ToInt(b: number): number {
  const i = b & 0xff;
  return i < NUM_FREE_VALUES ? i : NUM_FREE_VALUES + int4ToLong(i - NUM_FREE_VALUES);
}

/** The 256 lengths a norm byte can decode to (Lucene's BM25Similarity.LENGTH_TABLE). */
export const LENGTH_TABLE: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = byte4ToInt(i);
  return t;
})();

/** BM25 parameters; Lucene/Anserini defaults k1 = 0.9, b = 0.4 (see src/defaults.ts). */
export interface Bm25Params {
  k1: number;
  b: number;
  /** Use true document lengths instead of Lucene's one-byte lengths (default false). */
  exactLengths?: boolean;
}

/** Lucene's idf: (float) ln(1 + (N − n + 0.5) / (n + 0.5)). */
export function bm25Idf(docCount: number, docFreq: number): number {
  return f(Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5)));
}

/** Lucene's avgFieldLength: (float) (sumTotalTermFreq / docCount), 1 for an empty collection. */
export function bm25AvgLength(sumTotalTermFreq: number, docCount: number): number {
  return docCount > 0 ? f(sumTotalTermFreq / docCount) : 1;
}

/** 1 / (k1 · ((1 − b) + b · dl / avgdl)) with Lucene's float32 operation order. */
export function bm25NormInverse(dl: number, avgdl: number, k1: number, b: number): number {
  const k1f = f(k1);
  const bf = f(b);
  return f(1 / f(k1f * f(f(1 - bf) + f(f(bf * f(dl)) / f(avgdl)))));
}

/**
 * Per-document 1/norm for the whole collection: the quantity the search loop multiplies tf by.
 * @param docLen (D) token counts after analysis
 */
export function normInverseTable(docLen: Uint32Array, avgdl: number, p: Bm25Params): Float32Array {
  const out = new Float32Array(docLen.length); // (D)
  if (p.exactLengths) {
    for (let d = 0; d < docLen.length; d++) out[d] = bm25NormInverse(docLen[d]!, avgdl, p.k1, p.b);
    return out;
  }
  const cache = new Float32Array(256);
  for (let i = 0; i < 256; i++) cache[i] = bm25NormInverse(LENGTH_TABLE[i]!, avgdl, p.k1, p.b);
  for (let d = 0; d < docLen.length; d++) out[d] = cache[intToByte4(docLen[d]!)]!;
  return out;
}

/** One term's score in one document: weight − weight / (1 + tf · normInv), float32 at every step. */
export function bm25TermScore(weight: number, tf: number, normInv: number): number {
  return f(weight - f(weight / f(1 + f(tf * normInv))));
}

/**
 * The obvious BM25 of one document for a bag of query terms, straight from the formula (no tables). The
 * reference twin of the search loop, used by tests and the brute-force benchmark anchor.
 */
export function bm25Reference(
  queryCounts: ReadonlyMap<string, number>,
  docTf: ReadonlyMap<string, number>,
  docLen: number,
  stats: { docCount: number; sumTotalTermFreq: number; docFreq: (term: string) => number },
  p: Bm25Params,
): number {
  const avgdl = bm25AvgLength(stats.sumTotalTermFreq, stats.docCount);
  const dl = p.exactLengths ? docLen : byte4ToInt(intToByte4(docLen));
  let sum = 0;
  for (const [term, count] of queryCounts) {
    const tf = docTf.get(term);
    if (!tf) continue;
    const idf = bm25Idf(stats.docCount, stats.docFreq(term));
    const weight = f(count * idf);
    sum += f(weight * tf / (tf + p.k1 * (1 - p.b + (p.b * dl) / avgdl)));
  }
  return f(sum);
}
