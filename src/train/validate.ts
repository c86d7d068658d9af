/**
 * Validation during training (`lion train --eval-queries/--eval-qrels/--eval-corpus --eval-every N`): every N
 * optimiser steps the model being trained encodes the dev queries and the dev corpus (no dropout), searches
 * exactly in the in-memory index its head type declares (src/index/memory.ts: inverted or flat) and is scored with trec_eval's measures:
 * nDCG@10, MRR@10 (`recip_rank` on the first 10 hits) and recall@100. The loop (loop.ts) logs each
 * evaluation to `eval_log.jsonl`, keeps the best weights in `<out>/best/`, stops early after `patience`
 * evaluations without a gain, and draws `curves.svg` (training loss and dev metric by step).
 *
 * Tune on a dev split, never the test one: the best checkpoint is chosen with these judgements.
 */
import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import type { Paradigm } from '../encoders/encode.js';
import type { EncoderTokenizer } from '../encoders/batch.js';
import { HeadEncoder } from '../encoders/load.js';
import { evaluate } from '../eval/evaluate.js';
import { buildMemoryIndex } from '../index/memory.js';
import { toRun } from '../index/topk.js';
import { collect, readCorpus, readQueries } from '../io/corpus.js';
import { readQrels } from '../io/trec.js';
import type { LlamaModel } from '../model/llama.js';
import type { Qrels, SparseVec, TextRecord } from '../types.js';

export interface ValidationSet {
  queries: TextRecord[];
  corpus: TextRecord[];
  qrels: Qrels;
}

/** Reads the dev queries (only those judged in the qrels), the qrels and the corpus to search. */
export async function loadValidationSet(queriesPath: string, qrelsPath: string, corpusPath: string): Promise<ValidationSet> {
  const qrels = await readQrels(qrelsPath);
  const queries = (await collect(readQueries(queriesPath))).filter((q) => qrels.has(q.id));
  if (!queries.length) throw new UsageError(`no query of ${queriesPath} is judged in ${qrelsPath}`, { file: qrelsPath, hint: 'the query ids of the two files must match' });
  const corpus = await collect(readCorpus(corpusPath));
  if (!corpus.length) throw new UsageError('the evaluation corpus is empty', { file: corpusPath });
  return { queries, corpus, qrels };
}

export interface ValidationOptions {
  paradigm: Paradigm;
  queryMaxLength?: number;
  docMaxLength?: number;
  /** Hits per query searched (recall is measured at this depth). */
  k?: number;
}

/** The dev metrics (names as trec_eval prints them, MRR@10 as `recip_rank_10`). */
export async function evaluateModel(model: LlamaModel, tok: EncoderTokenizer, set: ValidationSet, o: ValidationOptions): Promise<Record<string, number>> {
  const k = o.k ?? DEFAULTS.validate.k;
  const enc = new HeadEncoder(model, tok, o.paradigm, { docMaxLength: o.docMaxLength ?? DEFAULTS.validate.docMaxLength, queryMaxLength: o.queryMaxLength ?? DEFAULTS.encode.queryMaxLength });
  const docs = await enc.encodeDocuments(set.corpus);
  const qs = await enc.encodeQueries(set.queries);
  const ix = await buildMemoryIndex(enc.index, set.corpus.map((d) => d.id), docs, enc.dimension);
  const run = toRun(ix.search(qs, Math.min(k, docs.length)), set.queries.map((q) => q.id), (pos) => ix.ids[pos]!);
  const main = evaluate(set.qrels, run, { measures: ['ndcg_cut.10', `recall.${k}`] }).mean;
  const mrr = evaluate(set.qrels, run, { measures: ['recip_rank'], maxDocs: 10 }).mean;
  let nnz = 0;
  if (enc.head.flops) for (const d of docs) nnz += (d as SparseVec).terms.length / docs.length;
  return { ndcg_cut_10: main.ndcg_cut_10 ?? 0, recip_rank_10: mrr.recip_rank ?? 0, [`recall_${k}`]: main[`recall_${k}`] ?? 0, ...(enc.head.flops ? { docNnz: nnz } : {}) };
}

/** Early-stopping bookkeeping: the best value so far and evaluations since it. */
export interface BestTracker {
  best: number;
  bestStep: number;
  bad: number;
}

/**
 * An SVG of the training curves: the logged loss (left axis) and the dev metric (right panel) against the step.
 * Plain SVG 1.1, no script; the numbers are also in train_log.jsonl and eval_log.jsonl.
 */
export function curvesSvg(loss: Array<[number, number]>, metric: Array<[number, number]>, measure: string, bestStep?: number): string {
  const W = 720, H = 260, pad = { l: 52, r: 16, t: 28, b: 34 }, gap = 40;
  const pw = (W - pad.l - pad.r - gap) / 2, ph = H - pad.t - pad.b;
  const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
  const panel = (pts: Array<[number, number]>, x0: number, title: string, color: string, mark?: number): string => {
    if (!pts.length) return `<text x="${x0}" y="${pad.t + 14}" font-size="12">${esc(title)}: no points yet</text>`;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const xmin = Math.min(...xs), xmax = Math.max(...xs, xmin + 1);
    let ymin = Math.min(...ys), ymax = Math.max(...ys);
    if (ymax - ymin < 1e-9) { ymin -= 0.5; ymax += 0.5; }
    const X = (x: number) => x0 + ((x - xmin) / (xmax - xmin)) * pw;
    const Y = (y: number) => pad.t + (1 - (y - ymin) / (ymax - ymin)) * ph;
    const path = pts.map((p, i) => `${i ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
    const dots = pts.length <= 60 ? pts.map((p) => `<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="2.5" fill="${color}"><title>step ${p[0]}: ${p[1].toFixed(4)}</title></circle>`).join('') : '';
    const best = mark !== undefined && pts.find((p) => p[0] === mark);
    return `<g><text x="${x0}" y="${pad.t - 10}" font-size="13" font-weight="bold">${esc(title)}</text>`
      + `<rect x="${x0}" y="${pad.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`
      + `<text x="${x0 - 4}" y="${pad.t + 10}" font-size="11" text-anchor="end">${ymax.toFixed(3)}</text>`
      + `<text x="${x0 - 4}" y="${pad.t + ph}" font-size="11" text-anchor="end">${ymin.toFixed(3)}</text>`
      + `<text x="${x0}" y="${H - pad.b + 16}" font-size="11">${xmin}</text>`
      + `<text x="${x0 + pw}" y="${H - pad.b + 16}" font-size="11" text-anchor="end">${xmax}</text>`
      + `<text x="${x0 + pw / 2}" y="${H - 6}" font-size="11" text-anchor="middle">step</text>`
      + `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.8"/>${dots}`
      + (best ? `<circle cx="${X(best[0]).toFixed(1)}" cy="${Y(best[1]).toFixed(1)}" r="5" fill="none" stroke="#c00" stroke-width="2"><title>best: step ${best[0]}</title></circle>` : '')
      + '</g>';
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`
    + `<rect width="${W}" height="${H}" fill="#fff"/>`
    + panel(loss, pad.l, 'training loss', '#2060c0')
    + panel(metric, pad.l + pw + gap, `dev ${measure}${bestStep !== undefined ? ` (best at step ${bestStep})` : ''}`, '#208040', bestStep)
    + '</svg>\n';
}

/** Points (step, value) of a field in a JSONL log (lines without it are skipped). */
export function logSeries(path: string, field: string): Array<[number, number]> {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { return []; }
  const out: Array<[number, number]> = [];
  for (const l of text.split('\n')) {
    if (!l) continue;
    try {
      const j = JSON.parse(l) as Record<string, number>;
      if (typeof j.step === 'number' && typeof j[field] === 'number') out.push([j.step, j[field]!]);
    } catch { /* a torn last line after a crash */ }
  }
  return out;
}
