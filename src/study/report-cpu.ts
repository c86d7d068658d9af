/**
 * Report of the CPU study (cpu.ts): tables, power-law fits with 95 % intervals, the robustness comparison,
 * the findings table, and SVG plots (log-log, points, fitted lines and their confidence bands).
 *
 * Every number printed comes from results.json; the findings are decided by the rules written next to them
 * (`findings`), so the same results always give the same verdicts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { CpuCellResult, CpuStudyFile } from './cpu.js';
import { fitPowerLaw, formatExponent, powerLawBand, type PowerLawFit } from './fit.js';
import { formatCount, OBJECTIVES, PARADIGMS } from './grid.js';

const COLORS: Record<string, string> = { 'sparse-cl': '#1f77b4', 'sparse-kd': '#2ca02c', 'sparse-cl+kd': '#9467bd', 'dense-cl': '#d62728', 'dense-kd': '#ff7f0e', 'dense-cl+kd': '#8c564b' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export type Axis = 'params' | 'compute';
export type Quantity = 'avg' | 'scifact' | 'outAvg' | 'heldoutLoss';
const QUANTITY_LABEL: Record<Quantity, string> = { avg: 'mean nDCG@10 (5 collections)', scifact: 'SciFact test nDCG@10', outAvg: 'out-of-domain mean nDCG@10', heldoutLoss: 'held-out contrastive loss' };
const AXIS_LABEL: Record<Axis, string> = { params: 'non-embedding parameters', compute: 'training compute (FLOPs, MNTP + fine-tuning)' };

export const main = (f: CpuStudyFile) => f.cells.filter((c) => c.noise === 0);
export const xOf = (c: CpuCellResult, a: Axis) => (a === 'params' ? c.nonEmbeddingParams : c.computeFlops);
export function yOf(c: CpuCellResult, q: Quantity): number {
  if (q === 'heldoutLoss') return c.heldoutLoss;
  if (q === 'scifact') return c.suite.perCollection['scifact']?.ndcg10 ?? NaN;
  return c.suite[q];
}

/** Power-law fits of one quantity against one axis, per paradigm × objective (main grid only). */
export function seriesFits(f: CpuStudyFile, q: Quantity, a: Axis): Map<string, { cells: CpuCellResult[]; fit?: PowerLawFit; why?: string }> {
  const out = new Map<string, { cells: CpuCellResult[]; fit?: PowerLawFit; why?: string }>();
  for (const p of PARADIGMS) {
    for (const o of OBJECTIVES) {
      const cells = main(f).filter((c) => c.paradigm === p && c.objective === o).sort((x, y) => x.params - y.params);
      if (cells.length === 0) continue;
      const pts = cells.filter((c) => yOf(c, q) > 0 && Number.isFinite(yOf(c, q)));
      try {
        out.set(`${p}-${o}`, { cells, fit: fitPowerLaw(pts.map((c) => xOf(c, a)), pts.map((c) => yOf(c, q))) });
      } catch (e) {
        out.set(`${p}-${o}`, { cells, why: (e as Error).message });
      }
    }
  }
  return out;
}

interface PlotSeries { key: string; label: string; points: Array<{ x: number; y: number; title: string }>; fit?: PowerLawFit; color: string; dashed: boolean }

/** A log-log SVG plot: points, fitted power laws and their 95 % bands, optional horizontal reference lines. */
export function logLogPlot(title: string, xLabel: string, yLabel: string, series: PlotSeries[], refs: Array<{ y: number; label: string }> = []): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new UsageError('nothing to plot', { field: 'cells' });
  const W = 640, H = 400, L = 70, R = 170, T = 30, B = 55;
  const lx = all.map((p) => Math.log10(p.x)), ly = [...all.map((p) => Math.log10(p.y)), ...refs.map((r) => Math.log10(r.y))];
  let x0 = Math.min(...lx), x1 = Math.max(...lx), y0 = Math.min(...ly), y1 = Math.max(...ly);
  if (x1 - x0 < 1e-9) { x0 -= 0.5; x1 += 0.5; }
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const px0 = (x1 - x0) * 0.06, py0 = (y1 - y0) * 0.1;
  x0 -= px0; x1 += px0; y0 -= py0; y1 += py0;
  const X = (v: number) => L + ((Math.log10(v) - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v: number) => T + (1 - (Math.log10(v) - y0) / (y1 - y0)) * (H - T - B);
  const o: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(L + W - R) / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  ];
  // Ticks: powers of ten and their 2x, 5x where the range is small.
  const ticks = (a: number, b: number) => {
    const out: number[] = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) for (const m of b - a < 1.5 ? [1, 2, 5] : [1]) { const v = m * 10 ** e; if (Math.log10(v) >= a && Math.log10(v) <= b) out.push(v); }
    return out;
  };
  const fmt = (v: number) => (v >= 1000 ? formatCount(v) : v >= 1 ? v.toPrecision(2) : v.toPrecision(2));
  for (const v of ticks(x0, x1)) o.push(`<line x1="${X(v).toFixed(1)}" y1="${H - B}" x2="${X(v).toFixed(1)}" y2="${H - B + 4}" stroke="black"/><text x="${X(v).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${esc(fmt(v))}</text>`);
  const yt = ticks(y0, y1);
  if (yt.length < 3) for (let i = 0; i <= 4; i++) yt.push(10 ** (y0 + ((y1 - y0) * i) / 4));
  for (const v of yt) o.push(`<line x1="${L - 4}" y1="${Y(v).toFixed(1)}" x2="${W - R}" y2="${Y(v).toFixed(1)}" stroke="#e5e5e5"/><text x="${L - 6}" y="${Y(v).toFixed(1)}" text-anchor="end" dy="4">${esc(v.toPrecision(2))}</text>`);
  o.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)} (log)</text>`);
  o.push(`<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)} (log)</text>`);
  for (const r of refs) o.push(`<line x1="${L}" y1="${Y(r.y).toFixed(1)}" x2="${W - R}" y2="${Y(r.y).toFixed(1)}" stroke="#444" stroke-dasharray="2,3"/><text x="${W - R - 4}" y="${(Y(r.y) - 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(r.label)}</text>`);
  let legendY = T + 6;
  for (const s of series) {
    const dash = s.dashed ? ' stroke-dasharray="5,3"' : '';
    if (s.fit) {
      const xs = s.points.map((p) => p.x), a = Math.min(...xs), b = Math.max(...xs);
      const grid = Array.from({ length: 25 }, (_, i) => 10 ** (Math.log10(a) + ((Math.log10(b) - Math.log10(a)) * i) / 24));
      const band = grid.map((x) => ({ x, ...powerLawBand(s.fit!, x) }));
      const clampY = (v: number) => Math.min(H - B, Math.max(T, Y(v)));
      if (band.every((p) => Number.isFinite(p.low))) {
        const poly = [...band.map((p) => `${X(p.x).toFixed(1)},${clampY(p.high).toFixed(1)}`), ...band.reverse().map((p) => `${X(p.x).toFixed(1)},${clampY(p.low).toFixed(1)}`)].join(' ');
        o.push(`<polygon class="band" data-series="${esc(s.key)}" points="${poly}" fill="${s.color}" fill-opacity="0.12" stroke="none"/>`);
        band.reverse();
      }
      o.push(`<polyline class="fit" data-series="${esc(s.key)}" data-exponent="${s.fit.b.toFixed(4)}" points="${band.map((p) => `${X(p.x).toFixed(1)},${clampY(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"${dash}/>`);
    }
    for (const p of s.points) o.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(p.title)}</title></circle>`);
    o.push(`<line x1="${W - R + 10}" y1="${legendY}" x2="${W - R + 30}" y2="${legendY}" stroke="${s.color}" stroke-width="2"${dash}/><text x="${W - R + 35}" y="${legendY + 4}">${esc(s.label)}</text>`);
    legendY += 15;
  }
  o.push(`<text x="${W - R + 10}" y="${legendY + 8}" fill="#555" font-size="10">lines: power-law fits;</text><text x="${W - R + 10}" y="${legendY + 20}" fill="#555" font-size="10">shading: 95 % band</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

/** The plot of one quantity against one axis (main grid, every paradigm × objective). */
export function fitPlot(f: CpuStudyFile, q: Quantity, a: Axis): string {
  const fits = seriesFits(f, q, a);
  const series: PlotSeries[] = [...fits].map(([key, s]) => {
    const [p, o] = key.split(/-(.+)/) as [string, string];
    return {
      key, label: `${p} ${o.toUpperCase()}${s.fit ? ` b=${s.fit.b.toFixed(2)}` : ''}`, color: COLORS[key]!, dashed: p === 'dense', fit: s.fit,
      points: s.cells.filter((c) => yOf(c, q) > 0).map((c) => ({ x: xOf(c, a), y: yOf(c, q), title: `${c.id}: ${yOf(c, q).toFixed(4)}` })),
    };
  });
  const refs: Array<{ y: number; label: string }> = [];
  const bm = Object.values(f.bm25);
  if (q === 'avg' && bm.length) refs.push({ y: bm.reduce((s, v) => s + v, 0) / bm.length, label: 'BM25' });
  if (q === 'scifact' && f.bm25['scifact']) refs.push({ y: f.bm25['scifact'], label: 'BM25' });
  return logLogPlot(`${QUANTITY_LABEL[q]} vs ${AXIS_LABEL[a].split(' (')[0]}`, AXIS_LABEL[a], QUANTITY_LABEL[q], series, refs);
}

/** Clean vs corrupted-label cells: the relative change of the mean nDCG@10 (negative = degradation). */
export function robustness(f: CpuStudyFile): Array<{ size: string; params: number; paradigm: string; clean: number; noisy: number; cleanIn: number; noisyIn: number; change: number; changeIn: number }> {
  const out = [];
  for (const n of f.cells.filter((c) => c.noise > 0)) {
    const clean = f.cells.find((c) => c.noise === 0 && c.size === n.size && c.paradigm === n.paradigm && c.objective === n.objective);
    if (!clean) continue;
    const sIn = (c: CpuCellResult) => c.suite.perCollection['scifact']?.ndcg10 ?? NaN;
    out.push({
      size: n.size, params: n.nonEmbeddingParams, paradigm: n.paradigm, clean: clean.suite.avg, noisy: n.suite.avg, cleanIn: sIn(clean), noisyIn: sIn(n),
      change: n.suite.avg / clean.suite.avg - 1, changeIn: sIn(n) / sIn(clean) - 1,
    });
  }
  return out.sort((a, b) => a.params - b.params || a.paradigm.localeCompare(b.paradigm));
}

/** One-sided exact sign test: P(at least `wins` of `n` under p = 1/2). */
export function signTest(wins: number, n: number): number {
  let p = 0;
  const lc = (k: number) => { let s = 0; for (let i = 1; i <= k; i++) s += Math.log(i); return s; };
  for (let k = wins; k <= n; k++) p += Math.exp(lc(n) - lc(k) - lc(n - k) - n * Math.log(2));
  return Math.min(1, p);
}

export type Verdict = 'holds' | 'does not hold' | 'cannot tell';
export interface Finding { finding: string; verdict: Verdict; evidence: string }

/**
 * The paper's three findings judged on the results, by these rules:
 *  1. CL scales, KD barely: per paradigm, the exponent of the mean nDCG@10 against non-embedding parameters.
 *     Holds when CL's 95 % interval is above 0 and KD's exponent is below half of CL's, in both paradigms;
 *     does not hold when CL's interval is entirely ≤ 0 or KD's exponent is at least CL's with CL's interval above 0
 *     in both paradigms; otherwise cannot tell.
 *  2. Sparse beats dense (paired by size and objective, main grid): in-domain (SciFact) and out-of-domain (mean of
 *     the others) each judged by a one-sided sign test at 0.05 (sparse better: holds; dense better: does not hold;
 *     else cannot tell); robustness holds when sparse's relative degradation under corrupted labels is smaller at a
 *     majority of the noisy sizes, does not hold when it is larger at a majority. The finding holds only when all
 *     three parts hold, does not hold when any part does not hold, else cannot tell.
 *  3. Sparse CL+KD at the largest size is the best cell by mean nDCG@10: holds or does not hold (with the gap).
 */
export function findings(f: CpuStudyFile): Finding[] {
  const out: Finding[] = [];
  const fits = seriesFits(f, 'avg', 'params');
  {
    const parts = PARADIGMS.map((p) => ({ p, cl: fits.get(`${p}-cl`)?.fit, kd: fits.get(`${p}-kd`)?.fit }));
    const ev = parts.map(({ p, cl, kd }) => `${p}: CL b = ${cl ? formatExponent(cl) : 'n/a'}, KD b = ${kd ? formatExponent(kd) : 'n/a'}`).join('; ');
    const ok = parts.every(({ cl, kd }) => cl && kd && cl.bLow > 0 && kd.b < cl.b / 2);
    const bad = parts.every(({ cl, kd }) => cl && kd && (cl.bHigh <= 0 || (cl.bLow > 0 && kd.b >= cl.b)));
    out.push({ finding: '1. CL scales with model size; KD barely does', verdict: ok ? 'holds' : bad ? 'does not hold' : 'cannot tell', evidence: `exponents of mean nDCG@10 vs non-embedding parameters, 95 % intervals — ${ev}` });
  }
  {
    const pairs = main(f).filter((c) => c.paradigm === 'sparse').map((s) => ({ s, d: main(f).find((c) => c.paradigm === 'dense' && c.size === s.size && c.objective === s.objective) })).filter((x) => x.d);
    const part = (get: (c: CpuCellResult) => number, name: string): { v: Verdict; text: string } => {
      const diffs = pairs.map(({ s, d }) => get(s) - get(d!));
      const wins = diffs.filter((x) => x > 0).length, losses = diffs.filter((x) => x < 0).length, n = wins + losses;
      const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(1, diffs.length);
      const pS = signTest(wins, n), pD = signTest(losses, n);
      const v: Verdict = pS < 0.05 ? 'holds' : pD < 0.05 ? 'does not hold' : 'cannot tell';
      return { v, text: `${name}: sparse better in ${wins} of ${pairs.length} pairs, mean Δ ${mean >= 0 ? '+' : ''}${mean.toFixed(4)} (sign test p = ${Math.min(pS, pD).toFixed(3)} for ${wins >= losses ? 'sparse' : 'dense'})` };
    };
    const ind = part((c) => c.suite.perCollection['scifact']?.ndcg10 ?? NaN, 'in-domain SciFact');
    const ood = part((c) => c.suite.outAvg, 'out-of-domain mean');
    const rob = robustness(f);
    const sizes = [...new Set(rob.map((r) => r.size))];
    let better = 0, worse = 0;
    const rtext = sizes.map((sz) => {
      const s = rob.find((r) => r.size === sz && r.paradigm === 'sparse'), d = rob.find((r) => r.size === sz && r.paradigm === 'dense');
      if (!s || !d) return '';
      if (s.change > d.change) better++; else if (s.change < d.change) worse++;
      return `${sz}: sparse ${(100 * s.change).toFixed(1)} %, dense ${(100 * d.change).toFixed(1)} %`;
    }).filter(Boolean).join('; ');
    const rv: Verdict = sizes.length === 0 ? 'cannot tell' : better > sizes.length / 2 ? 'holds' : worse > sizes.length / 2 ? 'does not hold' : 'cannot tell';
    const vs = [ind.v, ood.v, rv];
    const verdict: Verdict = vs.every((v) => v === 'holds') ? 'holds' : vs.includes('does not hold') ? 'does not hold' : 'cannot tell';
    out.push({
      finding: '2. Sparse beats dense in and out of domain, and degrades less under noisy supervision', verdict,
      evidence: `${ind.text} → ${ind.v}; ${ood.text} → ${ood.v}; change of mean nDCG@10 with ${Math.round(100 * f.settings.noise)} % corrupted labels (CL) — ${rtext || 'no noisy cells'} → ${rv}`,
    });
  }
  {
    const cells = main(f);
    if (cells.length) {
      const best = [...cells].sort((a, b) => b.suite.avg - a.suite.avg)[0]!;
      const largest = Math.max(...cells.map((c) => c.params));
      const target = cells.find((c) => c.params === largest && c.paradigm === 'sparse' && c.objective === 'cl+kd');
      const holds = target !== undefined && best.id === target.id;
      out.push({
        finding: '3. Sparse CL+KD at the largest size is the best retriever', verdict: target ? (holds ? 'holds' : 'does not hold') : 'cannot tell',
        evidence: target ? `${target.id} mean nDCG@10 ${target.suite.avg.toFixed(4)}; best cell ${best.id} ${best.suite.avg.toFixed(4)}${holds ? '' : ` (gap ${(best.suite.avg - target.suite.avg).toFixed(4)})`}` : 'the largest sparse CL+KD cell has not run',
      });
    }
  }
  return out;
}

const md = (r: Array<string | number>) => `| ${r.join(' | ')} |`;
/** Fixed decimals, or an em dash for a missing value (NaN is written to JSON as null). */
const fx = (v: number | null | undefined, d = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');

/** The markdown of the whole report. */
export function cpuReportMarkdown(f: CpuStudyFile, imgPrefix = ''): string {
  const names = Object.keys(f.bm25);
  const L: string[] = [];
  L.push(`${f.cells.length} of ${f.planned} cells finished. Machine: ${f.machine.cpu}, ${f.machine.cores} cores, Node ${f.machine.node}.`, '');
  L.push('### Model sizes and MNTP', '', md(['size', 'non-embedding params', 'params (tied embeddings)', 'MNTP tokens', 'MNTP steps', 'MNTP loss first→last', 'MNTP s']), md(['---', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const s of [...f.sizes].sort((a, b) => a.params - b.params)) L.push(md([s.name, formatCount(s.nonEmbeddingParams), formatCount(s.params), formatCount(s.mntpTokens), s.mntpSteps, `${s.mntpFirstLoss.toFixed(3)}→${s.mntpLastLoss.toFixed(3)}`, s.mntpSeconds.toFixed(0)]));
  const t = f.teacher;
  L.push('', '### Teacher', '', `Lexical fusion (weights ${t.features.map((n, i) => `${n} ${t.weights[i]}`).join(', ')}), fitted on ${t.fitQueries} SciFact train queries. On the ${t.heldoutQueries} held-out training queries (re-ranking the BM25 top 100): nDCG@10 **${t.heldoutNdcg10.toFixed(4)}** against BM25 ${t.bm25HeldoutNdcg10.toFixed(4)} (${t.heldoutNdcg10 >= t.bm25HeldoutNdcg10 ? '+' : ''}${(t.heldoutNdcg10 - t.bm25HeldoutNdcg10).toFixed(4)}).`, '');
  L.push('### Every cell (nDCG@10)', '', md(['cell', 'non-emb params', 'epochs', 'steps', ...names, 'out-of-domain mean', 'mean', 'held-out CL loss', 'train s', 'eval s']), md(['---', ...Array(names.length + 8).fill('---:')]));
  L.push(md(['BM25', '', '', '', ...names.map((n) => f.bm25[n]!.toFixed(4)), '', '', '', '', '']));
  const order = (c: CpuCellResult) => [c.noise, PARADIGMS.indexOf(c.paradigm), OBJECTIVES.indexOf(c.objective), c.params];
  const sorted = [...f.cells].sort((a, b) => { const x = order(a), y = order(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!; return 0; });
  for (const c of sorted) {
    L.push(md([c.id, formatCount(c.nonEmbeddingParams), c.epochs.toFixed(2), c.steps, ...names.map((n) => fx(c.suite.perCollection[n]?.ndcg10)), fx(c.suite.outAvg), fx(c.suite.avg), fx(c.heldoutLoss, 3), c.trainSeconds.toFixed(0), c.evalSeconds.toFixed(0)]));
  }
  L.push('', '### Power-law fits', '', 'y = a · x^b by least squares in log-log space; b with its 95 % regression interval (t, n − 2 df) and bootstrap interval (2,000 resamples of the points).', '');
  L.push(md(['quantity', 'against', 'series', 'b [95 % CI]', 'bootstrap CI', 'R²', 'points']), md(['---', '---', '---', '---:', '---:', '---:', '---:']));
  for (const q of ['avg', 'scifact', 'outAvg', 'heldoutLoss'] as Quantity[]) {
    if (!main(f).some((c) => yOf(c, q) > 0)) continue;
    for (const a of ['params', 'compute'] as Axis[]) {
      for (const [key, s] of seriesFits(f, q, a)) {
        if (!s.fit) { L.push(md([QUANTITY_LABEL[q], AXIS_LABEL[a].split(' (')[0]!, key, `n/a (${s.why})`, '', '', s.cells.length])); continue; }
        const boot = Number.isFinite(s.fit.bootLow) ? `[${s.fit.bootLow.toFixed(3)}, ${s.fit.bootHigh.toFixed(3)}]` : 'n/a';
        L.push(md([QUANTITY_LABEL[q], AXIS_LABEL[a].split(' (')[0]!, key, formatExponent(s.fit), boot, s.fit.r2.toFixed(2), s.fit.n]));
      }
    }
  }
  const rob = robustness(f);
  if (rob.length) {
    L.push('', `### Robustness: CL with ${Math.round(100 * f.settings.noise)} % corrupted labels`, '', md(['size', 'paradigm', 'mean clean', 'mean noisy', 'change', 'SciFact clean', 'SciFact noisy', 'change']), md(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const r of rob) L.push(md([r.size, r.paradigm, fx(r.clean), fx(r.noisy), `${fx(100 * r.change, 1)} %`, fx(r.cleanIn), fx(r.noisyIn), `${fx(100 * r.changeIn, 1)} %`]));
  }
  L.push('', '### Findings', '', md(['paper finding', 'at this scale', 'evidence']), md(['---', '---', '---']));
  for (const x of findings(f)) L.push(md([x.finding, `**${x.verdict}**`, x.evidence]));
  L.push('');
  for (const [q, a] of PLOTS) L.push(`![${QUANTITY_LABEL[q]} vs ${AXIS_LABEL[a]}](${imgPrefix}${plotName(q, a)})`);
  return `${L.join('\n')}\n`;
}

export const PLOTS: Array<[Quantity, Axis]> = [['avg', 'params'], ['scifact', 'params'], ['heldoutLoss', 'params'], ['avg', 'compute'], ['heldoutLoss', 'compute']];
export const plotName = (q: Quantity, a: Axis) => `study-cpu-${q === 'heldoutLoss' ? 'loss' : q}-${a}.svg`;

/** Write `<dir>/study-cpu.md` and the plots; returns the paths written. */
export async function writeCpuReport(f: CpuStudyFile, dir: string): Promise<string[]> {
  if (f.cells.length === 0) throw new UsageError('the CPU study has no finished cells yet', { field: 'cells' });
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [q, a] of PLOTS) {
    if (!main(f).some((c) => yOf(c, q) > 0)) continue; // e.g. SciFact left out of the suite
    const p = join(dir, plotName(q, a));
    await writeFileAtomic(p, fitPlot(f, q, a));
    written.push(p);
  }
  const mdPath = join(dir, 'study-cpu.md');
  await writeFileAtomic(mdPath, cpuReportMarkdown(f));
  return [mdPath, ...written];
}
