/**
 * `lion fuse`: hybrid fusion of TREC runs (src/index/fusion.ts): reciprocal rank fusion or a weighted sum after
 * min-max or z-score normalisation. Writes one run with strictly decreasing scores and `<run>.json`.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { fuseRuns, type FusionMethod, type FusionNorm } from '../../index/fusion.js';
import { readRun, writeRun } from '../../io/trec.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  run: { kind: 'string', multiple: true, help: 'input run (repeat; also positional)' },
  out: { kind: 'string', required: true, help: 'fused TREC run to write' },
  method: { kind: 'string', default: DEFAULTS.fusion.method, help: 'rrf or sum' },
  norm: { kind: 'string', default: DEFAULTS.fusion.norm, help: 'sum: minmax, zscore or none' },
  weight: { kind: 'number', min: 0, multiple: true, help: 'one weight per run, in order (default 1 each)' },
  'rrf-k': { kind: 'number', min: 0, default: DEFAULTS.fusion.rrfK, help: 'RRF constant c in 1 / (c + rank)' },
  depth: { kind: 'int', min: 1, help: 'hits of each input run used per query (default all)' },
  k: { kind: 'int', min: 1, default: DEFAULTS.search.k, help: 'hits per query in the output' },
  tag: { kind: 'string', default: 'lion-fused', help: 'run tag (6th column)' },
} satisfies OptTable;

export const fuseCommand: Command = {
  name: 'fuse',
  summary: 'fuse runs (reciprocal rank fusion, or weighted sum after min-max / z-score normalisation)',
  usage: 'lion fuse sparse.trec dense.trec --out hybrid.trec [--method sum --norm zscore --weight 0.3 --weight 0.7]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'fuse');
    const paths = [...o.run, ...o._];
    if (paths.length < 1) throw new UsageError('fuse: give at least one run');
    const runs = await Promise.all(paths.map((p) => readRun(p)));
    const fused = fuseRuns(runs, {
      method: o.method as FusionMethod, norm: o.norm as FusionNorm, weights: o.weight.length ? o.weight : undefined,
      rrfK: o['rrf-k'], depth: o.depth as number | undefined, k: o.k,
    });
    await writeRun(o.out, fused, { tag: o.tag });
    await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ command: 'fuse', runs: paths, options: { ...o, _: undefined } }, null, 2)}\n`);
    process.stderr.write(`fuse: ${paths.length} runs, ${fused.size} queries -> ${o.out}\n`);
    return 0;
  },
};
