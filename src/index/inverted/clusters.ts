/**
 * Clustered lists with block summaries, the structure of `cluster` search (the ideas of Seismic, Bruch et
 * al., SIGIR 2024, on top of graph-bisection reordering):
 * - static pruning: each term keeps only its `listMax` highest-weight postings (ties by position);
 * - blocking by similarity: the kept postings, read in position order, are cut into blocks of `clusterSize`
 *   documents; after reordering (reorder.ts) neighbouring positions hold similar documents, so a block is a
 *   cluster;
 * - a summary vector per block: per term, the largest weight among the block's documents; the smallest
 *   entries are dropped once the kept ones hold `summaryMass` of the summary's total weight (at most
 *   `summaryMax` entries), and weights are stored as 8-bit codes with one scale per block, rounded up, so with
 *   summaryMass = 1 and no cap the summary is an upper bound on every document of the block.
 * Search (search.ts) estimates each block's best score from its summary and visits the blocks best estimate
 * first, scoring their documents exactly through the forward index, until gamma x the next estimate cannot
 * beat the k-th best score.
 *
 * The native builder (native/search/clusters.h) performs the same steps with the same arithmetic and
 * returns the same arrays; this is its TypeScript twin.
 */
import { GrowF32, GrowU32, GrowU8 } from '../../util/grow.js';
import { searchAddon } from '../native.js';
import type { InvertedIndex } from './format.js';

export interface ClusterOptions {
  listMax: number;
  clusterSize: number;
  summaryMass: number;
  summaryMax: number;
  /** A document enters its blocks' summaries with its `summaryHead` heaviest weights only (0 = all). */
  summaryHead: number;
}

export type Clusters = Pick<InvertedIndex, 'clOffsets' | 'clDocOffsets' | 'clDocs' | 'clSumOffsets' | 'clSumTerms' | 'clSumCodes' | 'clSumScale'>;

/** Builds the clustered lists of an index (its postings and forward index must be complete). */
export function clusteredLists(ix: InvertedIndex, o: ClusterOptions, backend?: 'native' | 'ref'): Clusters {
  const addon = backend === 'ref' ? null : searchAddon();
  if (addon?.buildClusters) {
    const r = addon.buildClusters(ix.numDocs, ix.termOffsets, ix.docIds, ix.weights, ix.scale, ix.fwdOffsets, ix.fwdTerms, ix.fwdWeights,
      o.listMax, o.clusterSize, o.summaryMass, o.summaryMax, o.summaryHead);
    return { clOffsets: r[0] as Uint32Array, clDocOffsets: r[1] as Uint32Array, clDocs: r[2] as Uint32Array, clSumOffsets: r[3] as Uint32Array, clSumTerms: r[4] as Uint32Array, clSumCodes: r[5] as Uint8Array, clSumScale: r[6] as Float32Array };
  }
  const f = Math.fround;
  const { vocab: V, termOffsets, docIds, weights, fwdOffsets, fwdTerms, fwdWeights } = ix;
  const scale = f(ix.scale);
  const clOffsets = new Uint32Array(V + 1);
  // Typed buffers, not JS arrays: at millions of documents the summaries pass 2^27 entries, beyond what a
  // JS array can hold.
  const docOff = new GrowU32(), docs = new GrowU32(), sumOff = new GrowU32(), sumTerms = new GrowU32(), sumCodes = new GrowU8(), sumScale = new GrowF32();
  docOff.push(0); sumOff.push(0);
  const maxw = new Float32Array(V);
  const mark = new Uint8Array(V);
  // Per document, its summaryHead-th largest weight: lighter entries stay out of the summaries (the native
  // builder's headThresholds).
  const thr = new Float32Array(ix.numDocs);
  if (o.summaryHead > 0) {
    for (let d = 0; d < ix.numDocs; d++) {
      const p0 = fwdOffsets[d]!, p1 = fwdOffsets[d + 1]!;
      if (p1 - p0 <= o.summaryHead) continue;
      const ws: number[] = [];
      for (let p = p0; p < p1; p++) ws.push(f(fwdWeights[p]! * scale));
      ws.sort((a, b) => b - a);
      thr[d] = ws[o.summaryHead - 1]!;
    }
  }
  for (let t = 0; t < V; t++) {
    const a = termOffsets[t]!, b = termOffsets[t + 1]!;
    let sel = new Uint32Array(b - a);
    for (let p = a; p < b; p++) sel[p - a] = p;
    if (b - a > o.listMax) {
      sel.sort((x, y) => (weights[y]! - weights[x]!) || (docIds[x]! - docIds[y]!));
      sel = sel.subarray(0, o.listMax);
    }
    const list = sel.map((p) => docIds[p]!).sort();
    for (let s = 0; s < list.length; s += o.clusterSize) {
      const block = list.slice(s, s + o.clusterSize);
      const touched: number[] = [];
      for (const d of block) {
        docs.push(d);
        for (let p = fwdOffsets[d]!; p < fwdOffsets[d + 1]!; p++) {
          const u = fwdTerms[p]!, w = f(fwdWeights[p]! * scale);
          if (w < thr[d]!) continue;
          if (!mark[u]) { mark[u] = 1; touched.push(u); maxw[u] = w; } else if (w > maxw[u]!) maxw[u] = w;
        }
      }
      let total = 0;
      for (const u of touched) total += maxw[u]!; // first-seen order
      touched.sort((x, y) => (maxw[y]! - maxw[x]!) || (x - y));
      let keep = 0, cum = 0;
      while (keep < touched.length && keep < o.summaryMax && (keep === 0 || cum < o.summaryMass * total)) cum += maxw[touched[keep++]!]!;
      const kept = touched.slice(0, keep).sort((x, y) => x - y);
      const top = keep > 0 ? maxw[touched[0]!]! : 0;
      const sc = top > 0 ? f((top / 255) * (1 + 1e-6)) : 1;
      for (const u of kept) {
        const w = maxw[u]!;
        let c = Math.ceil(w / sc);
        while (c < 255 && f(c * sc) < w) c++;
        sumTerms.push(u);
        sumCodes.push(Math.min(255, c));
      }
      for (const u of touched) mark[u] = 0;
      sumScale.push(sc);
      sumOff.push(sumTerms.length);
      docOff.push(docs.length);
    }
    clOffsets[t + 1] = docOff.length - 1;
  }
  return {
    clOffsets, clDocOffsets: docOff.toArray(), clDocs: docs.toArray(), clSumOffsets: sumOff.toArray(),
    clSumTerms: sumTerms.toArray(), clSumCodes: sumCodes.toArray(), clSumScale: sumScale.toArray(),
  };
}
