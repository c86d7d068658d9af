/**
 * The evaluation view's back end: `POST /api/evaluate` with a qrels file and one or two runs, each either
 * uploaded as text from the browser or named by a server path (inside the configured file roots only). Files
 * are read with Lion's own readers (src/io/trec.ts; uploads go through a private temporary folder so the
 * readers and their error messages are the same as on the command line) and scored with the trec_eval-exact
 * evaluator (src/eval). For two runs it returns the per-query differences sorted by gain, their mean, a
 * paired t-test and a seeded paired randomisation test (stats.ts).
 *
 * Query set: trec_eval's default (queries in both the run and the qrels) for each run's mean; for the paired
 * comparison, the union of the two runs' evaluated queries, a query missing from one run scoring 0 there.
 */
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve, sep } from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { evaluate } from '../eval/evaluate.js';
import { readQrels, readRun } from '../io/trec.js';
import type { Qrels, Run } from '../types.js';
import { HttpError, badRequest } from './http.js';
import { pairedRandomisationTest, pairedTTest } from '../eval/significance.js';

export interface EvalOptions {
  /** Folders whose files may be opened by server path. */
  fileRoots: string[];
  /** The request's deadline: work stops at the next stage once it is aborted. */
  signal?: AbortSignal;
}

interface FileSpec {
  name: string;
  path?: string;
  text?: string;
}

function fileSpec(v: unknown, field: string): FileSpec {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest(`${field} must be an object with either "path" (a file on the server) or "text" (the file's contents)`, field);
  }
  const o = v as Record<string, unknown>;
  const hasPath = typeof o.path === 'string' && o.path !== '';
  const hasText = typeof o.text === 'string';
  if (hasPath === hasText) throw badRequest(`${field} needs exactly one of "path" or "text"`, field);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length > 200)) throw badRequest(`${field}.name must be a string of at most 200 characters`, field);
  const name = (o.name as string | undefined) || (hasPath ? basename(o.path as string) : field);
  return hasPath ? { name, path: o.path as string } : { name, text: o.text as string };
}

/** Resolve a server path and refuse it unless it lies inside one of the roots (after following links). */
async function allowedPath(p: string, roots: string[], field: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(p));
  } catch {
    throw new HttpError(404, 'E_NOT_FOUND', `${field}: no such file on the server: ${p.slice(0, 300)}`, field);
  }
  for (const root of roots) {
    let r: string;
    try {
      r = await realpath(resolve(root));
    } catch {
      continue;
    }
    if (real === r || real.startsWith(r.endsWith(sep) ? r : r + sep)) return real;
  }
  throw new HttpError(403, 'E_FORBIDDEN', `${field}: ${p.slice(0, 300)} is outside the folders this server may read (${roots.join(', ')}); start it with --files <dir>`, field);
}

/** Read one file spec with `reader`, mapping temporary upload paths back to the uploaded name in errors. */
async function load<T>(spec: FileSpec, field: string, roots: string[], tmp: string, reader: (p: string) => Promise<T>): Promise<T> {
  let path: string;
  if (spec.path !== undefined) path = await allowedPath(spec.path, roots, field);
  else {
    const ext = extname(spec.name).replace(/[^.a-zA-Z0-9]/g, '').slice(0, 10);
    path = join(tmp, `${field.replace(/\W/g, '_')}${ext}`);
    await writeFile(path, spec.text!);
  }
  try {
    return await reader(path);
  } catch (e) {
    if (e instanceof Error && spec.text !== undefined) e.message = e.message.split(path).join(spec.name);
    throw e;
  }
}

/** Per-query values and the trec_eval mean of one measure for a run (trec_eval's default query set). */
function perQuery(qrels: Qrels, run: Run, measure: string): { values: Map<string, number>; mean: number } {
  const r = evaluate(qrels, run, { measures: [measure] });
  const cols = r.columns.filter((c) => c.perQuery);
  if (cols.length !== 1) {
    throw badRequest(`measure '${measure}' gives ${cols.length} per-query values; choose one, e.g. ndcg_cut.10 or recip_rank`, 'measure');
  }
  const name = cols[0]!.name;
  const values = new Map<string, number>();
  for (const [qid, row] of r.perQuery) if (row[name] !== undefined) values.set(qid, row[name]!);
  return { values, mean: r.mean[name]! };
}

function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Handle one evaluation request body (already parsed JSON). */
export async function evaluateRequest(body: Record<string, unknown>, opts: EvalOptions): Promise<Record<string, unknown>> {
  const d = DEFAULTS.serve;
  const measure = body.measure ?? d.measure;
  if (typeof measure !== 'string' || !/^[A-Za-z_@.0-9]{1,40}$/.test(measure)) throw badRequest(`measure must be a trec_eval measure name such as ndcg_cut.10; got ${JSON.stringify(measure)}`, 'measure');
  const trials = body.trials ?? d.randomisationTrials;
  if (typeof trials !== 'number' || !Number.isInteger(trials) || trials < 100 || trials > 100_000) throw badRequest('trials must be an integer from 100 to 100000', 'trials');
  const seed = body.seed ?? d.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw badRequest('seed must be an integer from 0 to 2^32-1', 'seed');
  if (!Array.isArray(body.runs) || body.runs.length < 1 || body.runs.length > 2) throw badRequest('runs must be a list of one or two runs', 'runs');
  const qSpec = fileSpec(body.qrels, 'qrels');
  const rSpecs = body.runs.map((r, i) => fileSpec(r, `runs[${i}]`));

  const tmp = await mkdtemp(join(tmpdir(), 'lion-serve-eval-'));
  try {
    const stop = () => { if (opts.signal?.aborted) throw new HttpError(503, 'E_TIMEOUT', 'the evaluation passed its deadline and was abandoned'); };
    const qrels = await load(qSpec, 'qrels', opts.fileRoots, tmp, readQrels);
    stop();
    const runs = [];
    for (let i = 0; i < rSpecs.length; i++) { runs.push(await load(rSpecs[i]!, `runs[${i}]`, opts.fileRoots, tmp, readRun)); stop(); }
    const evals = runs.map((run) => { stop(); return perQuery(qrels, run, measure); });
    stop();
    const values = evals.map((e) => e.values);
    const qids = [...new Set(values.flatMap((m) => [...m.keys()]))].sort(compareIds);
    const runsOut = evals.map((e, i) => ({ name: rSpecs[i]!.name, mean: e.mean, queries: e.values.size }));
    const result: Record<string, unknown> = {
      measure,
      qrels: { name: qSpec.name, queries: qrels.size },
      runs: runsOut,
      perQuery: qids.map((qid) => ({ qid, values: values.map((m) => m.get(qid) ?? null) })),
    };
    if (values.length === 2) {
      const diffs = qids.map((qid) => ({ qid, a: values[0]!.get(qid) ?? 0, b: values[1]!.get(qid) ?? 0 }))
        .map((x) => ({ qid: x.qid, diff: x.b - x.a }));
      const dv = diffs.map((x) => x.diff);
      result.comparison = {
        direction: `${runsOut[1]!.name} − ${runsOut[0]!.name}`,
        queries: diffs.length,
        wins: dv.filter((x) => x > 0).length,
        losses: dv.filter((x) => x < 0).length,
        ties: dv.filter((x) => x === 0).length,
        diffs: diffs.sort((x, y) => y.diff - x.diff || compareIds(x.qid, y.qid)),
        ttest: pairedTTest(dv),
        randomisation: pairedRandomisationTest(dv, trials, seed),
      };
    }
    return result;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
