/**
 * `lion quickstart` (also `npm start`): index, search and evaluate the shipped Cranfield collection (or a
 * BEIR folder) with every available system — BM25 and the shipped sparse and dense demonstration models
 * (models/) — and print one table row per system (src/quickstart.ts).
 */
import { basename, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { DEFAULTS } from '../../defaults.js';
import { formatQuickstart, quickstartSystems, runQuickstart } from '../../quickstart.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  collection: { kind: 'string', help: 'BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); default the shipped Cranfield' },
  k: { kind: 'int', min: 100, default: DEFAULTS.search.kBeir, help: 'hits per query (at least 100: R@100 is reported)' },
  json: { kind: 'boolean', help: 'print the result as JSON' },
  systems: { kind: 'string', default: DEFAULTS.quickstart.systems, help: 'comma-separated rows: bm25, sparse, dense (the shipped demonstration models), hybrid (BM25 + sparse, fused)' },
} satisfies OptTable;

export const quickstartCommand: Command = {
  name: 'quickstart',
  summary: 'index, search and evaluate the shipped Cranfield collection end to end',
  usage: 'lion quickstart [--collection DIR] [--systems bm25,sparse,dense,hybrid] [--json]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'quickstart');
    if (o._.length) throw new UsageError(`quickstart: unexpected argument '${o._[0]}'`);
    const collection = o.collection ? { name: basename(resolve(o.collection)), dir: o.collection } : undefined;
    const r = await runQuickstart({
      collection,
      k: o.k,
      systems: quickstartSystems(o.systems.split(',').map((x) => x.trim()).filter(Boolean)),
      onStage: o.json ? undefined : (m) => process.stderr.write(`quickstart: ${m}\n`),
    });
    console.log(o.json ? JSON.stringify(r, null, 2) : formatQuickstart(r));
    return 0;
  },
};
