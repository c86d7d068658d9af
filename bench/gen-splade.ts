/**
 * A seeded generator of SPLADE-like sparse collections for the benchmarks: term frequencies follow a Zipf law
 * (exponent `zipf`) over a `vocab`-term vocabulary whose ranks are shuffled onto term ids; documents have
 * about `docNnz` distinct terms and queries about `queryNnz`; weights are log-normal, scaled by an IDF-like
 * factor so frequent terms weigh less (as learned sparse encoders learn). Output is a forward index
 * (CSR arrays) so the benchmark can build an index at the million-document scale without JSON.
 */
import { Rng } from '../src/util/rng.js';

export interface SpladeSpec {
  docs: number;
  queries: number;
  vocab: number;
  docNnz: number;
  queryNnz: number;
  zipf: number;
  /** log-normal parameters of the weights before the IDF factor. */
  mu: number;
  sigma: number;
  seed: number;
}

export const DEFAULT_SPEC: SpladeSpec = { docs: 1_000_000, queries: 200, vocab: 30_000, docNnz: 120, queryNnz: 25, zipf: 1.0, mu: -0.3, sigma: 0.6, seed: 42 };

/** CSR vectors: offsets (n+1), ascending terms and weights per row. */
export interface Csr {
  off: Uint32Array;
  terms: Uint32Array;
  weights: Float32Array;
}

function sampler(spec: SpladeSpec, r: Rng): { draw: () => number; idf: Float32Array } {
  const cdf = new Float64Array(spec.vocab);
  let s = 0;
  for (let i = 0; i < spec.vocab; i++) { s += 1 / Math.pow(i + 1, spec.zipf); cdf[i] = s; }
  for (let i = 0; i < spec.vocab; i++) cdf[i]! /= s;
  const idOf = Uint32Array.from({ length: spec.vocab }, (_, i) => i);
  for (let i = spec.vocab - 1; i > 0; i--) { const j = r.int(i + 1); [idOf[i], idOf[j]] = [idOf[j]!, idOf[i]!]; }
  const idf = new Float32Array(spec.vocab);
  for (let rank = 0; rank < spec.vocab; rank++) idf[idOf[rank]!] = 0.3 + Math.log(2 + rank) / Math.log(2 + spec.vocab);
  const draw = () => {
    const u = r.float();
    let lo = 0, hi = spec.vocab - 1;
    while (lo < hi) { const m = (lo + hi) >> 1; if (cdf[m]! < u) lo = m + 1; else hi = m; }
    return idOf[lo]!;
  };
  return { draw, idf };
}

function generate(n: number, nnz: number, spec: SpladeSpec, r: Rng, draw: () => number, idf: Float32Array): Csr {
  const off = new Uint32Array(n + 1);
  const cap = Math.ceil(1.5 * nnz);
  const terms = new Uint32Array(n * cap);
  const weights = new Float32Array(n * cap);
  const seen = new Uint8Array(spec.vocab);
  const row = new Uint32Array(cap);
  let o = 0;
  for (let d = 0; d < n; d++) {
    // Length varies uniformly in nnz x [0.5, 1.5], as real documents do.
    const len = Math.max(1, Math.min(cap, Math.round(nnz * (0.5 + r.float()))));
    let m = 0, tries = 0;
    while (m < len && tries < len * 20) { const t = draw(); tries++; if (!seen[t]) { seen[t] = 1; row[m++] = t; } }
    const sorted = row.subarray(0, m).sort();
    for (let i = 0; i < m; i++) {
      const t = sorted[i]!;
      seen[t] = 0;
      terms[o] = t;
      weights[o] = Math.exp(spec.mu + spec.sigma * r.normal()) * idf[t]!;
      o++;
    }
    off[d + 1] = o;
  }
  return { off, terms: terms.slice(0, o), weights: weights.slice(0, o) };
}

/** Documents and queries of one seeded collection. */
export function generateSplade(spec: SpladeSpec): { docs: Csr; queries: Csr } {
  const r = new Rng(spec.seed);
  const { draw, idf } = sampler(spec, r);
  const docs = generate(spec.docs, spec.docNnz, spec, r, draw, idf);
  const queries = generate(spec.queries, spec.queryNnz, spec, r, draw, idf);
  return { docs, queries };
}
