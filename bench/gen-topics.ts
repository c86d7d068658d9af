/**
 * Seeded generators of sparse collections with the structure of learned sparse vectors (the independent-term
 * generator, gen-splade.ts, is the third, structure-free case):
 *
 * - `topics`: T topics, each a Zipf-weighted set of `topicTerms` mid-frequency terms. A document mixes 1-3
 *   topics (and a Zipf background of frequent, low-weight terms); its terms come from its topics in
 *   proportion to the mix. A query picks a topic mix the same way and draws its terms from the heads of its
 *   topics, so queries share topical terms with the documents that answer them.
 * - `concepts`: co-occurring term groups, as SPLADE's expansion produces (a word brings its variants and
 *   related words). C concepts of 3-10 terms belong to topics; a document takes ~20 concepts, mostly from its
 *   1-2 topics, and each concept adds all its terms with weights decaying along the group; a query takes 3-6
 *   concepts of one topic.
 *
 * Weights are log-normal times an IDF-like factor (frequent terms weigh less) times a topical boost. Document
 * and query sets come from separate seeds (`querySeed`), so development and test queries never coincide.
 * `stats` measures what the docs compare against published SPLADE figures: non-zeros per document and
 * query, posting-length distribution, weight skew and query-document term overlap.
 */
import { Rng } from '../src/util/rng.js';
import type { Csr } from './gen-splade.js';

export type GenKind = 'topics' | 'concepts';

export interface TopicSpec {
  kind: GenKind;
  docs: number;
  vocab: number;
  topics: number;
  /** topics: terms per topic; concepts: concepts per topic. */
  topicTerms: number;
  docNnz: number;
  queryNnz: number;
  /** Fraction of document terms drawn from the background. */
  background: number;
  seed: number;
}

export const TOPICS_SPEC: TopicSpec = { kind: 'topics', docs: 1_000_000, vocab: 30_000, topics: 800, topicTerms: 150, docNnz: 130, queryNnz: 28, background: 0.25, seed: 7 };
export const CONCEPTS_SPEC: TopicSpec = { kind: 'concepts', docs: 1_000_000, vocab: 30_000, topics: 500, topicTerms: 40, docNnz: 140, queryNnz: 30, background: 0.15, seed: 11 };

/** Zipf cumulative table over n ranks. */
function zipfCdf(n: number, s: number): Float64Array {
  const c = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) { acc += 1 / Math.pow(i + 1, s); c[i] = acc; }
  for (let i = 0; i < n; i++) c[i]! /= acc;
  return c;
}
function drawCdf(c: Float64Array, u: number): number {
  let lo = 0, hi = c.length - 1;
  while (lo < hi) { const m = (lo + hi) >> 1; if (c[m]! < u) lo = m + 1; else hi = m; }
  return lo;
}

interface Model {
  spec: TopicSpec;
  idf: Float32Array;
  bgCdf: Float64Array;
  idOf: Uint32Array; // rank -> term id
  topicCdf: Float64Array; // popularity of topics
  /** topics: terms of each topic (T x topicTerms); concepts: concept ids of each topic. */
  members: Uint32Array[];
  memberCdf: Float64Array;
  concepts: Uint32Array[]; // concepts: the terms of each concept
}

function model(spec: TopicSpec): Model {
  const r = new Rng(spec.seed);
  const V = spec.vocab;
  const idOf = r.permutation(V);
  const idf = new Float32Array(V);
  for (let rank = 0; rank < V; rank++) idf[idOf[rank]!] = 0.3 + Math.log(2 + rank) / Math.log(2 + V);
  const bgCdf = zipfCdf(V, 1.0);
  // Topical terms are drawn from ranks 200.. (mid-frequency), uniformly: topics overlap a little.
  const midTerm = () => idOf[200 + r.int(V - 200)]!;
  const members: Uint32Array[] = [];
  const concepts: Uint32Array[] = [];
  if (spec.kind === 'topics') {
    for (let t = 0; t < spec.topics; t++) {
      const set = new Set<number>();
      while (set.size < spec.topicTerms) set.add(midTerm());
      members.push(Uint32Array.from(set));
    }
  } else {
    for (let t = 0; t < spec.topics; t++) {
      const ids: number[] = [];
      for (let c = 0; c < spec.topicTerms; c++) {
        const len = 3 + r.int(8);
        const set = new Set<number>();
        while (set.size < len) set.add(midTerm());
        ids.push(concepts.length);
        concepts.push(Uint32Array.from(set));
      }
      members.push(Uint32Array.from(ids));
    }
  }
  return { spec, idf, bgCdf, idOf, topicCdf: zipfCdf(spec.topics, 0.6), members, memberCdf: zipfCdf(spec.topicTerms, spec.kind === 'topics' ? 0.9 : 0.7), concepts };
}

/** Generates n rows (documents when query = false) from the model with the given seed. */
function rows(m: Model, n: number, query: boolean, seed: number): Csr {
  const { spec, idf, bgCdf, idOf, topicCdf, members, memberCdf, concepts } = m;
  const r = new Rng(seed);
  const nnz = query ? spec.queryNnz : spec.docNnz;
  const cap = Math.ceil(3 * nnz);
  const off = new Uint32Array(n + 1);
  let terms = new Uint32Array(Math.ceil(n * nnz * 1.3) + cap);
  let weights = new Float32Array(terms.length);
  const wOf = new Float32Array(spec.vocab);
  const row: number[] = [];
  let o = 0;
  const add = (t: number, w: number) => { if (wOf[t] === 0) row.push(t); if (w > wOf[t]!) wOf[t] = w; };
  for (let i = 0; i < n; i++) {
    row.length = 0;
    const u = r.float();
    const nt = query ? (u < 0.7 ? 1 : 2) : u < 0.5 ? 1 : u < 0.8 ? 2 : 3;
    const tops: number[] = [], mix: number[] = [];
    for (let j = 0; j < nt; j++) { tops.push(drawCdf(topicCdf, r.float())); mix.push(0.2 + r.float()); }
    const msum = mix.reduce((a, b) => a + b, 0);
    const pickTopic = () => { let x = r.float() * msum; for (let j = 0; j < nt; j++) { x -= mix[j]!; if (x <= 0) return tops[j]!; } return tops[nt - 1]!; };
    const len = Math.max(3, Math.min(cap, Math.round(nnz * Math.exp(0.35 * r.normal() - 0.06))));
    const bg = query ? spec.background / 3 : spec.background;
    // Queries draw from the heads of their topics (sharper member distribution).
    const member = () => (query ? drawCdf(memberCdf, Math.pow(r.float(), 1.6)) : drawCdf(memberCdf, r.float()));
    let tries = 0;
    while (row.length < len && tries++ < len * 10) {
      if (r.float() < bg) { const t = idOf[drawCdf(bgCdf, r.float())]!; add(t, Math.exp(-0.9 + 0.5 * r.normal()) * idf[t]! * 0.6); continue; }
      const topic = pickTopic();
      if (spec.kind === 'topics') {
        const t = members[topic]![member()]!;
        add(t, Math.exp(-0.2 + 0.55 * r.normal()) * idf[t]! * 1.4);
      } else {
        const c = concepts[members[topic]![member()]!]!;
        const s = Math.exp(-0.1 + 0.5 * r.normal()) * 1.4;
        for (let j = 0; j < c.length; j++) add(c[j]!, s * Math.pow(0.75, j) * Math.exp(0.2 * r.normal()) * idf[c[j]!]!);
      }
    }
    row.sort((a, b) => a - b);
    if (o + row.length > terms.length) {
      const t2 = new Uint32Array(terms.length * 2); t2.set(terms); terms = t2;
      const w2 = new Float32Array(weights.length * 2); w2.set(weights); weights = w2;
    }
    for (const t of row) { terms[o] = t; weights[o] = wOf[t]!; wOf[t] = 0; o++; }
    off[i + 1] = o;
  }
  return { off, terms: terms.slice(0, o), weights: weights.slice(0, o) };
}

/** Documents of one seeded collection. */
export function generateDocs(spec: TopicSpec): Csr {
  return rows(model(spec), spec.docs, false, spec.seed * 7919 + 1);
}

/** Queries of the same collection; a different querySeed gives a disjoint query set (dev vs test). */
export function generateQueries(spec: TopicSpec, n: number, querySeed: number): Csr {
  return rows(model(spec), n, true, spec.seed * 7919 + 1000 + querySeed);
}

/** Statistics compared against published SPLADE figures and against Lion's own encoders. */
export function stats(docs: Csr, queries: Csr, vocab: number): Record<string, number> {
  const N = docs.off.length - 1, Q = queries.off.length - 1;
  const len = (c: Csr, i: number) => c.off[i + 1]! - c.off[i]!;
  const df = new Uint32Array(vocab);
  for (let p = 0; p < docs.terms.length; p++) df[docs.terms[p]!]!++;
  const sorted = Array.from(df).filter((x) => x > 0).sort((a, b) => b - a);
  const P = docs.terms.length;
  const topShare = (frac: number) => sorted.slice(0, Math.max(1, Math.round(sorted.length * frac))).reduce((a, b) => a + b, 0) / P;
  // Weight skew: share of a document's L1 mass held by its 10 heaviest terms.
  let skew = 0;
  for (let d = 0; d < N; d += Math.max(1, Math.floor(N / 20000))) {
    const w = Array.from(docs.weights.subarray(docs.off[d]!, docs.off[d + 1]!)).sort((a, b) => b - a);
    const tot = w.reduce((a, b) => a + b, 0);
    skew += tot > 0 ? w.slice(0, 10).reduce((a, b) => a + b, 0) / tot : 0;
  }
  skew /= Math.ceil(N / Math.max(1, Math.floor(N / 20000)));
  const dl = Array.from({ length: N }, (_, i) => len(docs, i)).sort((a, b) => a - b);
  let qn = 0, qInVocab = 0;
  for (let q = 0; q < Q; q++) { qn += len(queries, q); for (let p = queries.off[q]!; p < queries.off[q + 1]!; p++) if (df[queries.terms[p]!]! > 0) qInVocab++; }
  let maxW = 0, sumW = 0;
  for (let p = 0; p < P; p++) { const w = docs.weights[p]!; sumW += w; if (w > maxW) maxW = w; }
  return {
    documents: N, postings: P, nnzPerDoc: P / N, nnzPerDocP50: dl[N >> 1]!, nnzPerDocP90: dl[Math.floor(N * 0.9)]!, nnzPerQuery: qn / Math.max(1, Q),
    termsWithPostings: sorted.length, longestListFraction: sorted[0]! / N, postingsInTop1PctTerms: topShare(0.01), postingsInTop10PctTerms: topShare(0.1),
    listsOver1PctOfDocs: sorted.filter((x) => x > N / 100).length, meanWeight: sumW / P, maxWeight: maxW, top10WeightShare: skew,
    queryTermsWithPostings: qn > 0 ? qInVocab / qn : 0,
  };
}
