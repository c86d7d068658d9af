/**
 * Joins one query's hits with its judgements the way trec_eval's form_res_rels does, producing the ranked
 * relevance list every measure reads.
 *
 * Layout: `rels[i]` is the grade of the document at rank i+1 after sorting (score descending, docno
 * descending), `NONPOOL` (-1) for a document absent from the qrels and `UNJUDGED` (-2) for one present with a
 * negative grade (in the pool but not judged). `relLevels[g]` counts the judged documents of grade g >= 0,
 * retrieved or not. `numRel` counts judged documents with grade >= the relevance level (-l).
 *
 * Order of operations, as trec_eval: sort, cut to `maxDocs` (-M), then (with `judgedOnly`, -J) drop documents
 * that are not judged.
 */
import type { Hit } from '../types.js';
import { compareHits } from '../order.js';

export const NONPOOL = -1;
export const UNJUDGED = -2;

export interface RankedRels {
  rels: Int32Array; // (numRet)
  numRet: number;
  numRel: number;
  numRelRet: number;
  /** Counts per non-negative grade (index = grade). */
  relLevels: number[];
  /** 1 + the highest grade with a non-zero count (0 when nothing is judged >= 0). */
  numRelLevels: number;
}

export interface JudgeOptions {
  relevanceLevel: number;
  maxDocs: number;
  judgedOnly: boolean;
}

/** Rank `hits` and look up each document's grade in `judged` (docid -> grade). */
export function rankRels(hits: readonly Hit[], judged: ReadonlyMap<string, number>, opts: JudgeOptions): RankedRels {
  const sorted = hits.slice().sort(compareHits);
  const n = Math.min(sorted.length, opts.maxDocs);
  let rels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = judged.get(sorted[i]!.docid);
    rels[i] = g === undefined ? NONPOOL : g < 0 ? UNJUDGED : g;
  }
  if (opts.judgedOnly) rels = rels.filter((g) => g >= 0);
  let numRelRet = 0;
  for (let i = 0; i < rels.length; i++) if (rels[i]! >= 0 && rels[i]! >= opts.relevanceLevel) numRelRet++;
  const relLevels: number[] = [];
  for (const g of judged.values()) {
    if (g < 0) continue;
    while (relLevels.length <= g) relLevels.push(0);
    relLevels[g]! += 1;
  }
  let numRel = 0;
  let numRelLevels = 0;
  for (let g = 0; g < relLevels.length; g++) {
    if (relLevels[g]! > 0) {
      numRelLevels = g + 1;
      if (g >= opts.relevanceLevel) numRel += relLevels[g]!;
    }
  }
  return { rels, numRet: rels.length, numRel, numRelRet, relLevels, numRelLevels };
}
