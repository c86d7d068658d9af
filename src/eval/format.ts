/**
 * Printing evaluation results: trec_eval's three-column text (`%-22s\t%s\t%6.4f`, integers as `%ld`, the
 * `runid` line, per-query rows with -q before the `all` rows) and a JSON form.
 *
 * C's printf rounds the exact binary value half-to-even; JavaScript's toFixed rounds exact ties up. The only
 * doubles that sit exactly halfway at the 4th decimal are odd multiples of 1/32 (e.g. a reciprocal rank of
 * 1/32 = 0.03125, which trec_eval prints as 0.0312), so `fixed4` handles those and defers to toFixed otherwise.
 */
import type { EvalResult } from './evaluate.js';

/** `%6.4f` exactly as glibc prints it. */
export function fixed4(x: number): string {
  if (Number.isNaN(x)) return x < 0 ? '-nan' : 'nan';
  const m = x * 32; // exact: scaling by a power of two
  if (Number.isInteger(m) && m % 2 !== 0) {
    const scaled = Math.abs(m) * 312.5; // = |x| * 10^4, exact, ends in .5
    let n = Math.floor(scaled);
    if (n % 2 !== 0) n += 1; // half to even
    const s = (n / 1e4).toFixed(4);
    return x < 0 ? `-${s}` : s;
  }
  return x.toFixed(4);
}

function line(name: string, qid: string, value: string): string {
  return `${name.padEnd(22)}\t${qid}\t${value}\n`;
}

function value(v: number, integer: boolean): string {
  return integer ? String(Math.trunc(v)) : fixed4(v);
}

export interface FormatOptions {
  /** Print per-query rows before the summary (trec_eval -q). */
  perQuery?: boolean;
}

/** The text trec_eval would print for this result. */
export function formatTrecEval(r: EvalResult, opts: FormatOptions = {}): string {
  let out = '';
  if (opts.perQuery) {
    for (const [qid, row] of r.perQuery) {
      for (const c of r.columns) if (c.perQuery) out += line(c.name, qid, value(row[c.name]!, c.integer));
    }
  }
  if (r.showRunid) out += line('runid', 'all', r.runid);
  for (const c of r.columns) out += line(c.name, 'all', value(r.mean[c.name]!, c.integer));
  return out;
}

/** A JSON-ready object: `{runid, num_q, all: {measure: value}, per_query?: {qid: {measure: value}}}`. */
export function evalToJson(r: EvalResult, opts: FormatOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { runid: r.runid, num_q: r.numQ, all: r.mean };
  if (opts.perQuery) out.per_query = Object.fromEntries(r.perQuery);
  return out;
}
