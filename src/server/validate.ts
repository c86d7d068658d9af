/**
 * Parameter validation for the search API. Every accepted request is normalised into a `SearchRequest`;
 * everything else is a 400 naming the field, what it must be and what was sent. Limits come from
 * `DEFAULTS.serve` (overridable per server) so a client cannot ask for unbounded work: k, query length,
 * sparse vector size and dense dimension are all checked before any system runs.
 */
import { badRequest } from './http.js';
import type { SearchSystem, SystemQuery } from './system.js';

export interface Limits {
  maxK: number;
  maxQueryChars: number;
  maxSparseTerms: number;
}

export interface SearchRequest {
  query: SystemQuery;
  /** Which form the query came in. */
  form: 'text' | 'sparse' | 'dense';
  k: number;
  systems: SearchSystem[];
  explain: boolean;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** k: an integer in 1..maxK; strings of digits are accepted (query-string form). */
export function parseK(v: unknown, fallback: number, limits: Limits): number {
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > limits.maxK) {
    throw badRequest(`k must be an integer from 1 to ${limits.maxK}; got ${describe(v)}`, 'k');
  }
  return n;
}

function parseBool(v: unknown, field: string, fallback: boolean): boolean {
  if (v === undefined || v === '') return fallback;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw badRequest(`${field} must be true or false; got ${describe(v)}`, field);
}

function parseText(v: unknown, limits: Limits): SystemQuery {
  if (typeof v !== 'string') throw badRequest(`q must be a string; got ${describe(v)}`, 'q');
  if (v.trim() === '') throw badRequest('q is empty; type a query', 'q');
  if (v.length > limits.maxQueryChars) {
    throw badRequest(`q is ${v.length} characters long; the limit is ${limits.maxQueryChars}`, 'q');
  }
  return { text: v };
}

function parseSparse(v: unknown, limits: Limits): SystemQuery {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest(`sparse must be an object of term → weight, e.g. {"wing": 1.5} or {"1042": 0.8}; got ${describe(v)}`, 'sparse');
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) throw badRequest('sparse has no terms', 'sparse');
  if (entries.length > limits.maxSparseTerms) {
    throw badRequest(`sparse has ${entries.length} terms; the limit is ${limits.maxSparseTerms}`, 'sparse');
  }
  const m = new Map<string, number>();
  for (const [term, w] of entries) {
    if (term === '' || term.length > 200) throw badRequest(`sparse term ${describe(term)} must be 1 to 200 characters`, 'sparse');
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw badRequest(`sparse weight of ${describe(term)} must be a finite number ≥ 0; got ${describe(w)}`, 'sparse');
    }
    m.set(term, w);
  }
  return { sparse: m };
}

function parseDense(v: unknown): SystemQuery {
  if (!Array.isArray(v) || v.length === 0) throw badRequest(`dense must be a non-empty array of numbers; got ${describe(v)}`, 'dense');
  const a = new Float32Array(v.length); // (dim)
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw badRequest(`dense[${i}] must be a finite number; got ${describe(x)}`, 'dense');
    a[i] = x;
  }
  return { dense: a };
}

/**
 * Normalise a search request from a JSON body or query-string parameters. `systems` may be an array or a
 * comma-separated string; when absent, every system that accepts the query form is used.
 */
export function parseSearch(p: Record<string, unknown>, all: SearchSystem[], limits: Limits, defaultK: number): SearchRequest {
  const known = new Set(['q', 'sparse', 'dense', 'k', 'systems', 'explain']);
  for (const key of Object.keys(p)) {
    if (!known.has(key)) throw badRequest(`unknown parameter '${key}'; expected one of q, sparse, dense, k, systems, explain`, key);
  }
  const given = (['q', 'sparse', 'dense'] as const).filter((f) => p[f] !== undefined);
  if (given.length !== 1) {
    throw badRequest(given.length === 0 ? 'give a query: q (text), sparse (term → weight) or dense (array of numbers)' : `give exactly one of q, sparse, dense; got ${given.join(' and ')}`);
  }
  const form = given[0] === 'q' ? 'text' : given[0]!;
  const query = form === 'text' ? parseText(p.q, limits) : form === 'sparse' ? parseSparse(p.sparse, limits) : parseDense(p.dense);
  const k = parseK(p.k, defaultK, limits);
  const explain = parseBool(p.explain, 'explain', false);
  let systems: SearchSystem[];
  if (p.systems === undefined || p.systems === '') {
    systems = all.filter((s) => s.info.accepts.includes(form));
    if (systems.length === 0) throw badRequest(`no served system accepts a ${form} query`, given[0]);
  } else {
    const names = typeof p.systems === 'string' ? p.systems.split(',') : p.systems;
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      throw badRequest(`systems must be a list of system names; got ${describe(p.systems)}`, 'systems');
    }
    systems = [];
    for (const n of new Set(names as string[])) {
      const s = all.find((x) => x.info.name === n.trim());
      if (!s) throw badRequest(`unknown system '${n}'; served: ${all.map((x) => x.info.name).join(', ')}`, 'systems');
      if (!s.info.accepts.includes(form)) throw badRequest(`system '${n}' (${s.info.kind}) does not accept a ${form} query; it takes ${s.info.accepts.join(', ')}`, 'systems');
      systems.push(s);
    }
  }
  if (form === 'dense') {
    const dim = (query as { dense: Float32Array }).dense.length;
    const wrong = systems.find((s) => s.info.dim !== undefined && s.info.dim !== dim);
    if (wrong) throw badRequest(`dense has ${dim} dimensions; system '${wrong.info.name}' expects ${wrong.info.dim}`, 'dense');
  }
  return { query, form, k, systems, explain };
}
