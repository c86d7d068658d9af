/**
 * Seeded random sparse and dense collections for the index tests (the project's Rng; no test depends on Math.random).
 */
import { Rng } from '../../src/util/rng.js';
import type { SparseVec } from '../../src/types.js';
import type { SparseRecord } from '../../src/io/vectors.js';

export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

/** A random sparse vector with up to maxNnz terms drawn from [0, vocab), weights in (0, 3]. */
export function randomSparse(r: () => number, vocab: number, maxNnz: number, integerWeights = false): SparseVec {
  const n = Math.floor(r() * (maxNnz + 1));
  const set = new Set<number>();
  while (set.size < Math.min(n, vocab)) set.add(Math.floor(Math.pow(r(), 2) * vocab));
  const terms = Uint32Array.from([...set].sort((a, b) => a - b));
  const weights = Float32Array.from(terms, () => (integerWeights ? 1 + Math.floor(r() * 4) : 0.01 + r() * 3));
  return { terms, weights };
}

export function randomDocs(seed: number, n: number, vocab: number, maxNnz: number, integerWeights = false): SparseRecord[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({ id: `d${i}`, vec: randomSparse(r, vocab, maxNnz, integerWeights) }));
}

/** Brute-force top-k: float32 dot products accumulated in ascending term order; positive scores only. */
export function bruteForce(docs: SparseVec[], q: SparseVec, k: number, value = (w: number) => w, qscale = 1): Array<[number, number]> {
  const qm = new Map<number, number>();
  for (let i = 0; i < q.terms.length; i++) qm.set(q.terms[i]!, Math.fround(q.weights[i]! * qscale));
  const hits: Array<[number, number]> = [];
  docs.forEach((d, pos) => {
    let s = 0;
    for (let i = 0; i < d.terms.length; i++) {
      const w = qm.get(d.terms[i]!);
      if (w !== undefined) s = Math.fround(s + Math.fround(w * value(d.weights[i]!)));
    }
    if (s > 0) hits.push([pos, s]);
  });
  hits.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return hits.slice(0, k);
}
