/**
 * The measure registry: trec_eval 10.0's measures that Lion implements, in trec_eval's own order (which is
 * also the printing order), plus `judged` (Judged@k, not a trec_eval measure). Each measure is a pure
 * function of one query's RankedRels (judge.ts) returning one value per cutoff.
 *
 * Semantics follow trec_eval's m_*.c files: binary measures count a document as relevant when its grade is
 * >= the relevance level (-l); nDCG uses the raw grade as gain with a log2(rank+1) discount and an ideal
 * ranking built from all judged grades of the topic (-l does not apply); a cutoff k beyond the documents
 * retrieved counts the missing ranks as non-relevant; a topic without relevant documents scores 0.
 * Summation order matches trec_eval's, so the printed 4-decimal values agree to the last digit.
 */
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import { NONPOOL, UNJUDGED, type RankedRels } from './judge.js';

/** How a measure's per-query values become the `all` value. */
export type Aggregate = 'mean' | 'sum' | 'geomean' | 'count';

export interface MeasureDef {
  name: string;
  help: string;
  /** Printed as an integer (`%ld`) rather than `%6.4f`. */
  integer: boolean;
  /** Printed per query with -q (trec_eval prints runid, num_q and gm_map only in the summary). */
  perQuery: boolean;
  aggregate: Aggregate;
  /** Default cutoffs for measures that take them (`P.5,10`); undefined for single-valued measures. */
  cutoffs?: readonly number[];
  /** Cutoffs are fractions (iprec_at_recall), printed `%3.2f`. */
  fractional?: boolean;
  compute(r: RankedRels, level: number, cutoffs: readonly number[]): number[];
}

const DEPTHS = [5, 10, 15, 20, 30, 100, 200, 500, 1000] as const;
/** trec_eval's MIN_GEO_MEAN: the floor of a per-topic AP before its logarithm in gm_map. */
export const MIN_GEO_MEAN = 0.00001;

function averagePrecision(r: RankedRels, level: number, depth = r.numRet): number {
  let relSoFar = 0;
  let sum = 0;
  const n = Math.min(depth, r.numRet);
  for (let i = 0; i < n; i++) {
    if (r.rels[i]! >= level) {
      relSoFar++;
      sum += relSoFar / (i + 1);
    }
  }
  return r.numRel > 0 ? sum / r.numRel : 0;
}

/** Relevant documents among the first `k` ranks, for each ascending cutoff. */
function relAtCutoffs(r: RankedRels, level: number, cutoffs: readonly number[]): number[] {
  const out: number[] = [];
  let relSoFar = 0;
  let i = 0;
  for (const k of cutoffs) {
    const n = Math.min(k, r.numRet);
    for (; i < n; i++) if (r.rels[i]! >= level) relSoFar++;
    out.push(relSoFar);
  }
  return out;
}

/** Ideal DCG prefix sums: grades of all judged documents, highest first, discounted as ranks 1, 2, ... */
function idealGains(r: RankedRels, limit: number): number[] {
  const gains: number[] = [];
  for (let g = r.numRelLevels - 1; g > 0 && gains.length < limit; g--) {
    const c = r.relLevels[g] ?? 0;
    for (let j = 0; j < c && gains.length < limit; j++) gains.push(g);
  }
  return gains;
}

function dcg(values: ArrayLike<number>, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const gain = values[i]!;
    if (gain > 0) sum += gain / Math.log2(i + 2);
  }
  return sum;
}

const single = (f: (r: RankedRels, level: number) => number) => (r: RankedRels, level: number) => [f(r, level)];

/** Every measure, in trec_eval's order (measures.c, te_trec_measures). */
export const MEASURES: readonly MeasureDef[] = [
  { name: 'runid', help: 'run tag of the first run line (summary only)', integer: false, perQuery: false, aggregate: 'count', compute: () => [0] },
  { name: 'num_q', help: 'number of topics averaged over', integer: true, perQuery: false, aggregate: 'count', compute: () => [1] },
  { name: 'num_ret', help: 'documents retrieved (after -M)', integer: true, perQuery: true, aggregate: 'sum', compute: single((r) => r.numRet) },
  { name: 'num_rel', help: 'relevant documents judged (grade >= -l)', integer: true, perQuery: true, aggregate: 'sum', compute: single((r) => r.numRel) },
  { name: 'num_rel_ret', help: 'relevant documents retrieved', integer: true, perQuery: true, aggregate: 'sum', compute: single((r) => r.numRelRet) },
  { name: 'map', help: 'mean average precision', integer: false, perQuery: true, aggregate: 'mean', compute: single((r, l) => averagePrecision(r, l)) },
  {
    name: 'gm_map', help: 'geometric mean of AP (floored at 1e-5; summary only)', integer: false, perQuery: false, aggregate: 'geomean',
    compute: single((r, l) => Math.log(Math.max(averagePrecision(r, l), MIN_GEO_MEAN))),
  },
  {
    name: 'Rprec', help: 'precision after num_rel documents', integer: false, perQuery: true, aggregate: 'mean',
    compute: single((r, l) => (r.numRel > 0 ? relAtCutoffs(r, l, [r.numRel])[0]! / r.numRel : 0)),
  },
  {
    name: 'bpref', help: 'binary preference (Buckley and Voorhees, SIGIR 2004)', integer: false, perQuery: true, aggregate: 'mean',
    compute: single((r, l) => {
      let numNonrel = 0;
      for (let g = 0; g < l && g < r.relLevels.length; g++) numNonrel += r.relLevels[g]!;
      let nonrelSoFar = 0;
      let bpref = 0;
      for (let j = 0; j < r.numRet; j++) {
        const g = r.rels[j]!;
        if (g === NONPOOL || g === UNJUDGED) continue;
        if (g >= 0 && g < l) nonrelSoFar++;
        else if (nonrelSoFar > 0) bpref += 1 - Math.min(nonrelSoFar, r.numRel) / Math.min(numNonrel, r.numRel);
        else bpref += 1;
      }
      return r.numRel > 0 ? bpref / r.numRel : bpref;
    }),
  },
  {
    name: 'recip_rank', help: 'reciprocal rank of the first relevant document (MRR with -M 10)', integer: false, perQuery: true, aggregate: 'mean',
    compute: single((r, l) => {
      for (let i = 0; i < r.numRet; i++) if (r.rels[i]! >= l) return 1 / (i + 1);
      return 0;
    }),
  },
  {
    name: 'iprec_at_recall', help: 'interpolated precision at recall fractions', integer: false, perQuery: true, aggregate: 'mean',
    cutoffs: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], fractional: true,
    compute: (r, l, fractions) => {
      const out = fractions.map(() => 0);
      // trec_eval divides 0 by 0 here (NaN) for a topic with nothing retrieved; Lion reports 0.
      if (r.numRet === 0) return out;
      const cuts = fractions.map((f) => Math.trunc(f * r.numRel + 0.9));
      let cur = cuts.length - 1;
      while (cur >= 0 && cuts[cur]! > r.numRelRet) cur--;
      let intPrecis = r.numRelRet / r.numRet;
      let relSoFar = r.numRelRet;
      for (let i = r.numRet; i > 0 && relSoFar > 0; i--) {
        const precis = relSoFar / i;
        if (intPrecis < precis) intPrecis = precis;
        if (r.rels[i - 1]! >= l) {
          while (cur >= 0 && relSoFar === cuts[cur]) out[cur--] = intPrecis;
          relSoFar--;
        }
      }
      while (cur >= 0) out[cur--] = intPrecis;
      return out;
    },
  },
  {
    name: 'P', help: 'precision at cutoffs', integer: false, perQuery: true, aggregate: 'mean', cutoffs: DEPTHS,
    compute: (r, l, ks) => relAtCutoffs(r, l, ks).map((c, i) => c / ks[i]!),
  },
  {
    name: 'recall', help: 'recall at cutoffs', integer: false, perQuery: true, aggregate: 'mean', cutoffs: DEPTHS,
    compute: (r, l, ks) => relAtCutoffs(r, l, ks).map((c) => (r.numRel > 0 ? c / r.numRel : 0)),
  },
  {
    name: 'ndcg', help: 'nDCG over the whole ranking (gain = grade, log2 discount)', integer: false, perQuery: true, aggregate: 'mean',
    compute: single((r) => {
      const ideal = idealGains(r, Infinity);
      const idcg = dcg(ideal, ideal.length);
      return idcg > 0 ? dcg(r.rels, r.numRet) / idcg : 0;
    }),
  },
  {
    name: 'ndcg_cut', help: 'nDCG at cutoffs (gain = grade, log2 discount, ideal from the qrels)', integer: false, perQuery: true,
    aggregate: 'mean', cutoffs: DEPTHS,
    compute: (r, _l, ks) => {
      const ideal = idealGains(r, ks[ks.length - 1]!);
      return ks.map((k) => {
        const d = dcg(r.rels, Math.min(k, r.numRet));
        const idcg = dcg(ideal, Math.min(k, ideal.length));
        return idcg > 0 ? d / idcg : d;
      });
    },
  },
  {
    name: 'map_cut', help: 'average precision of the top k, divided by num_rel', integer: false, perQuery: true, aggregate: 'mean',
    cutoffs: DEPTHS, compute: (r, l, ks) => ks.map((k) => averagePrecision(r, l, k)),
  },
  {
    name: 'success', help: '1 if a relevant document is in the top k', integer: false, perQuery: true, aggregate: 'mean', cutoffs: [1, 5, 10],
    compute: (r, l, ks) => relAtCutoffs(r, l, ks).map((c) => (c > 0 ? 1 : 0)),
  },
  {
    name: 'judged', help: 'Judged@k: share of the top k that the qrels judge (not trec_eval)', integer: false, perQuery: true,
    aggregate: 'mean', cutoffs: [DEFAULTS.eval.judgedK],
    compute: (r, _l, ks) => {
      let judged = 0;
      let i = 0;
      return ks.map((k) => {
        for (const n = Math.min(k, r.numRet); i < n; i++) if (r.rels[i]! >= 0) judged++;
        return judged / k;
      });
    },
  },
];

const BY_NAME = new Map(MEASURES.map((m) => [m.name, m]));

/** trec_eval's measure groups (`-m official` is the default when no measure is named). */
export const NICKNAMES: Record<string, readonly string[]> = {
  official: ['runid', 'num_q', 'num_ret', 'num_rel', 'num_rel_ret', 'map', 'gm_map', 'Rprec', 'bpref', 'recip_rank', 'iprec_at_recall', 'P'],
};

/** A requested measure with its resolved cutoffs and printed names. */
export interface MeasureRequest {
  def: MeasureDef;
  cutoffs: number[];
  /** Printed names, one per value: `map`, `P_10`, `iprec_at_recall_0.50`. */
  names: string[];
}

function parseCutoffs(def: MeasureDef, spec: string, raw: string): number[] {
  if (!def.cutoffs) throw new UsageError(`measure '${def.name}' takes no parameters (got '${spec}')`, { field: 'measure' });
  const values = raw.split(',').map((s) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v) || (!def.fractional && !Number.isInteger(v))) {
      throw new UsageError(`measure '${spec}': cutoff '${s}' is not ${def.fractional ? 'a number' : 'an integer'}`, { field: 'measure' });
    }
    return v;
  }).sort((a, b) => a - b);
  if (!def.fractional && values[0]! <= 0) throw new UsageError(`measure '${spec}': cutoffs must be positive`, { field: 'measure' });
  for (let i = 1; i < values.length; i++) {
    if (values[i] === values[i - 1]) throw new UsageError(`measure '${spec}': duplicate cutoff ${values[i]}`, { field: 'measure' });
  }
  return values;
}

function printedName(def: MeasureDef, c: number): string {
  return def.fractional ? `${def.name}_${c.toFixed(2)}` : `${def.name}_${c}`;
}

/**
 * Resolve trec_eval `-m` specs (`map`, `P.5,10`, `ndcg_cut.10`, `official`) into requests in trec_eval's
 * order. As in trec_eval, the first parameter list given for a measure wins (`-m ndcg_cut.10 -m ndcg_cut.100`
 * computes ndcg_cut_10 only) and cutoffs are sorted ascending.
 */
export function resolveMeasures(specs: readonly string[]): MeasureRequest[] {
  const marked = new Set<string>();
  const params = new Map<string, string>();
  for (const spec of specs.length ? specs : ['official']) {
    const dot = spec.indexOf('.');
    const root = dot >= 0 ? spec.slice(0, dot) : spec;
    if (dot >= 0) {
      if (dot === spec.length - 1) throw new UsageError(`measure '${spec}': empty parameter list`, { field: 'measure' });
      if (!params.has(root)) params.set(root, spec.slice(dot + 1));
    }
    const group = NICKNAMES[root];
    if (group) { for (const n of group) marked.add(n); continue; }
    if (!BY_NAME.has(root)) {
      throw new UsageError(`unknown measure '${spec}'`, {
        field: 'measure', hint: `known measures: ${[...BY_NAME.keys(), ...Object.keys(NICKNAMES)].join(', ')}`,
      });
    }
    marked.add(root);
  }
  const out: MeasureRequest[] = [];
  for (const def of MEASURES) {
    if (!marked.has(def.name)) continue;
    const raw = params.get(def.name);
    const cutoffs = raw !== undefined ? parseCutoffs(def, `${def.name}.${raw}`, raw) : def.cutoffs ? [...def.cutoffs] : [];
    const names = def.cutoffs ? cutoffs.map((c) => printedName(def, c)) : [def.name];
    out.push({ def, cutoffs, names });
  }
  return out;
}
