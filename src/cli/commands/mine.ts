/**
 * `lion mine`: hard negatives for training from a first-stage run (src/train/mine.ts), written as a CL
 * training file `{"question", "pos_pid", "neg_pids"}` that `lion train` and `lion rerank` read.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { mineToFile } from '../../train/mine.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  run: { kind: 'string', required: true, help: 'first-stage run (TREC), e.g. from `lion bm25 search` on the training queries' },
  qrels: { kind: 'string', required: true, help: 'training qrels (TREC or BEIR TSV); grade > 0 = positive' },
  queries: { kind: 'string', required: true, help: 'training queries (BEIR queries.jsonl or qid\\ttext TSV)' },
  out: { kind: 'string', required: true, help: 'CL training file to write (JSONL)' },
  negatives: { kind: 'int', min: 1, default: DEFAULTS.mine.negatives, help: `negatives kept per query: a pool \`lion train\` samples ${DEFAULTS.train.negatives} per query from` },
  skip: { kind: 'int', min: 0, default: DEFAULTS.mine.skip, help: 'top hits to skip before taking negatives' },
  progress: { kind: 'boolean', help: 'show examples written, total and ETA even when stderr is not a terminal' },
} satisfies OptTable;

export const mineCommand: Command = {
  name: 'mine',
  summary: 'mine hard negatives from a run into a CL training file',
  usage: 'lion mine --run bm25.train.trec --qrels qrels.train.tsv --queries queries.train.tsv --out train.jsonl --negatives 50',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'mine');
    if (o._.length) throw new UsageError(`mine: unexpected argument '${o._[0]}'`);
    const r = await mineToFile({ run: o.run, qrels: o.qrels, queries: o.queries, out: o.out, negatives: o.negatives, skip: o.skip, progress: o.progress });
    process.stderr.write(`mine: ${r.examples.length} examples (${r.skipped} judged queries skipped) -> ${o.out}\n`);
    return 0;
  },
};
