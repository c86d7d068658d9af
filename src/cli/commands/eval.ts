/**
 * `lion eval`: trec_eval-compatible evaluation of a run against qrels (src/eval/). Prints trec_eval's
 * three-column text (diffable against trec_eval 10.0) or, with --json, a JSON object. Flags keep trec_eval's
 * short names: -c, -q, -M, -l, -m, -J.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { evaluate } from '../../eval/evaluate.js';
import { readQrels, readRun, readRunFile } from '../../io/trec.js';
import { evalToJson, formatTrecEval } from '../../eval/format.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';
import { compareRuns, formatComparison } from '../../eval/compare.js';

const options = {
  qrels: { kind: 'string', help: 'qrels: TREC `qid 0 docid grade`, BEIR TSV, or JSON (or the first positional argument)' },
  run: { kind: 'string', help: 'run: TREC 6-column, `qid docid score`, or JSON (or the second positional argument)' },
  measure: { kind: 'string', short: 'm', multiple: true, help: 'trec_eval measure, e.g. ndcg_cut.10, P.5,10, recip_rank, official, judged.10' },
  complete: { kind: 'boolean', short: 'c', help: 'average over every qrels topic; topics without results score 0' },
  'per-query': { kind: 'boolean', short: 'q', help: 'also print every topic\'s values' },
  'max-docs': { kind: 'int', min: 1, short: 'M', help: 'evaluate only the first n documents of each ranking (after sorting)' },
  level: { kind: 'int', short: 'l', default: DEFAULTS.eval.relevanceLevel, help: 'lowest grade that binary measures count as relevant' },
  'judged-only': { kind: 'boolean', short: 'J', help: 'drop unjudged documents from the rankings first' },
  beir: { kind: 'boolean', help: 'BEIR mode: drop docid == qid, average over queries in both run and qrels' },
  json: { kind: 'boolean', help: 'print JSON instead of trec_eval text' },
  compare: { kind: 'string', help: 'a second run: print the paired comparison of --run and it on the first -m measure (default ndcg_cut.10) with a t-test and a randomisation test' },
} satisfies OptTable;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a run against qrels exactly as trec_eval 10.0 does',
  usage: 'lion eval --qrels QRELS --run RUN [-c] [-q] [-M n] [-l n] [-m measure]... [--json] [--beir]\n       lion eval --qrels QRELS --run A --compare B [-m ndcg_cut.10]   (paired t-test and randomisation test)',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'eval');
    const pos = [...o._];
    const qrels = o.qrels ?? pos.shift();
    const run = o.run ?? pos.shift();
    if (!qrels || !run) throw new UsageError('eval: needs --qrels and --run (or the two files as arguments)');
    if (pos.length) throw new UsageError(`eval: unexpected argument '${pos[0]}'`);
    if (o.compare) {
      const measure = o.measure[0] ?? 'ndcg_cut.10';
      const c = compareRuns(await readQrels(qrels), await readRun(run), await readRun(o.compare), measure);
      process.stdout.write(o.json ? `${JSON.stringify({ runA: run, runB: o.compare, ...c }, null, 2)}\n` : `${formatComparison(c, [run, o.compare])}\n`);
      return 0;
    }
    const [qr, runFile] = await Promise.all([readQrels(qrels), readRunFile(run)]);
    const warning = overlapWarning(qr, runFile.run);
    if (warning) process.stderr.write(`lion eval: warning: ${warning}\n`);
    const r = evaluate(qr, runFile.run, {
      runid: runFile.tag,
      measures: o.measure,
      complete: o.complete,
      maxDocs: (o['max-docs'] as number | undefined),
      relevanceLevel: o.level,
      judgedOnly: o['judged-only'],
      beir: o.beir,
    });
    const perQuery = o['per-query'];
    process.stdout.write(o.json ? `${JSON.stringify(evalToJson(r, { perQuery }), null, 2)}\n` : formatTrecEval(r, { perQuery }));
    return 0;
  },
};

/**
 * A warning when the run and the qrels share fewer than half of either side's query ids: trec_eval then
 * averages over the few shared topics, a number that is easy to mistake for the collection's score.
 */
export function overlapWarning(qrels: Map<string, unknown>, run: Map<string, unknown>): string | undefined {
  let shared = 0;
  for (const q of run.keys()) if (qrels.has(q)) shared++;
  if (run.size === 0 || qrels.size === 0) return undefined;
  if (shared * 2 >= qrels.size && shared * 2 >= run.size) return undefined;
  return `only ${shared} of the run's ${run.size} queries have judgements, and ${shared} of the qrels' ${qrels.size} topics have results; `
    + 'measures average over those shared topics only (use -c to count missing topics as 0). Check that the run and the qrels use the same query ids.';
}
