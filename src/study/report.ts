/**
 * The study's report: a markdown table (one row per cell, the plan's settings and the metrics) and one SVG
 * line plot per metric (metric against parameter count on a log axis, one line per paradigm × objective,
 * as the paper's scaling figures). Plain strings; `writeStudyReport` writes them atomically.
 *
 * Invariants: rows and series are ordered paradigm, objective, parameter count; the SVG is self-contained
 * (no fonts or scripts fetched) and its y axis spans [0, max metric] rounded up to a tenth.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { formatCount, OBJECTIVES, PARADIGMS } from './grid.js';
import type { StudyFile, StudyResult } from './run.js';

/** Metrics the report knows, with their column titles. */
export const STUDY_METRICS = { ndcg10: 'nDCG@10', mrr10: 'MRR@10', recall100: 'R@100' } as const;
export type StudyMetric = keyof typeof STUDY_METRICS;

function ordered(cells: readonly StudyResult[]): StudyResult[] {
  const pi = (p: string) => PARADIGMS.indexOf(p as never), oi = (o: string) => OBJECTIVES.indexOf(o as never);
  return [...cells].sort((a, b) => pi(a.paradigm) - pi(b.paradigm) || oi(a.objective) - oi(b.objective) || a.params - b.params);
}

/** The markdown table of every cell. */
export function studyTable(f: StudyFile): string {
  const head = ['paradigm', 'objective', 'size', 'params', 'epochs', 'batch', 'negs', 'steps', 'nDCG@10', 'MRR@10', 'R@100', 'loss first→last', 'train s'];
  const rows = ordered(f.cells).map((c) => [
    c.paradigm, c.objective, c.size, formatCount(c.params), Number.isInteger(c.epochs) ? String(c.epochs) : c.epochs.toFixed(2),
    String(c.batch), String(c.negatives), String(c.steps), c.ndcg10.toFixed(4), c.mrr10.toFixed(4), c.recall100.toFixed(4),
    `${c.firstLoss.toFixed(3)}→${c.lastLoss.toFixed(3)}`, c.trainSeconds.toFixed(1),
  ]);
  const md = (r: string[]) => `| ${r.join(' | ')} |`;
  return [md(head), md(head.map((_, i) => (i < 3 ? '---' : '---:'))), ...rows.map(md)].join('\n');
}

const COLORS: Record<string, string> = { 'sparse-cl': '#1f77b4', 'sparse-kd': '#2ca02c', 'sparse-cl+kd': '#9467bd', 'dense-cl': '#d62728', 'dense-kd': '#ff7f0e', 'dense-cl+kd': '#8c564b' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An SVG line plot of one metric against parameter count (log x), one line per paradigm × objective. */
export function studyPlot(f: StudyFile, metric: StudyMetric): string {
  if (f.cells.length === 0) throw new UsageError('the study has no finished cells to plot', { field: 'cells' });
  const W = 560, H = 360, L = 60, R = 150, T = 30, B = 50;
  const xs = f.cells.map((c) => Math.log10(c.params));
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x1 - x0 < 1e-9) { x0 -= 0.5; x1 += 0.5; }
  const pad = (x1 - x0) * 0.08; x0 -= pad; x1 += pad;
  const ymax = Math.max(0.1, Math.ceil(Math.max(...f.cells.map((c) => c[metric])) * 10) / 10);
  const px = (p: number) => L + ((Math.log10(p) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => T + (1 - v / ymax) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(L + W - R) / 2}" y="18" text-anchor="middle" font-size="13">${esc(STUDY_METRICS[metric])} vs parameters</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (ymax * i) / 5, y = py(v).toFixed(1);
    out.push(`<line x1="${L - 4}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#ddd"/><text x="${L - 6}" y="${y}" text-anchor="end" dy="4">${v.toFixed(2)}</text>`);
  }
  for (const p of [...new Set(f.cells.map((c) => c.params))].sort((a, b) => a - b)) {
    const x = px(p).toFixed(1);
    const label = f.cells.find((c) => c.params === p)!.size;
    out.push(`<line x1="${x}" y1="${H - B}" x2="${x}" y2="${H - B + 4}" stroke="black"/><text x="${x}" y="${H - B + 16}" text-anchor="middle">${esc(label)}</text><text x="${x}" y="${H - B + 29}" text-anchor="middle" fill="#555">${formatCount(p)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">parameters (log scale)</text>`);
  let legendY = T + 6;
  for (const paradigm of PARADIGMS) {
    for (const objective of OBJECTIVES) {
      const pts = ordered(f.cells.filter((c) => c.paradigm === paradigm && c.objective === objective));
      if (pts.length === 0) continue;
      const key = `${paradigm}-${objective}`, color = COLORS[key]!, dash = paradigm === 'dense' ? ' stroke-dasharray="5,3"' : '';
      const path = pts.map((c) => `${px(c.params).toFixed(1)},${py(c[metric]).toFixed(1)}`).join(' ');
      out.push(`<polyline class="series" data-series="${esc(key)}" points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      for (const c of pts) out.push(`<circle cx="${px(c.params).toFixed(1)}" cy="${py(c[metric]).toFixed(1)}" r="3" fill="${color}"><title>${esc(c.id)}: ${c[metric].toFixed(4)}</title></circle>`);
      out.push(`<line x1="${W - R + 10}" y1="${legendY}" x2="${W - R + 30}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash}/><text x="${W - R + 35}" y="${legendY + 4}">${esc(`${paradigm} ${objective.toUpperCase()}`)}</text>`);
      legendY += 16;
    }
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Write `<dir>/study.md` (the table) and `<dir>/<metric>.svg` for each metric; returns the paths written. */
export async function writeStudyReport(f: StudyFile, dir: string, metrics: readonly StudyMetric[] = ['ndcg10', 'mrr10', 'recall100']): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const md = [`# Scaling study: ${f.collection}`, '', `Budget ${f.plan.budget.toExponential(3)} parameter·document-passes per training query, ${f.plan.examples} training examples per epoch; ${f.cells.length} of ${f.plan.cells.length} cells finished.`, '', studyTable(f), ''];
  for (const m of metrics) {
    const p = join(dir, `${m}.svg`);
    await writeFileAtomic(p, studyPlot(f, m));
    written.push(p);
    md.push(`![${STUDY_METRICS[m]}](${m}.svg)`);
  }
  const mdPath = join(dir, 'study.md');
  await writeFileAtomic(mdPath, `${md.join('\n')}\n`);
  return [mdPath, ...written];
}
