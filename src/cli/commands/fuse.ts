/**
 * `lion fuse`: hybrid fusion of TREC runs (src/index/fusion.ts): reciprocal rank fusion or a weighted sum after
 * min-max or z-score normalisation. Writes one run with strictly decreasing scores and `<run>.json`.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { fuseRuns, type FusionMethod, type FusionNorm } from '../../index/fusion.js';
import { readFile } from 'node:fs/promises';
import { checkDevQrels, tuneFusion, type FusionSetting, type TuneResult } from '../../index/fuse-tune.js';
import { readQrels, readRun, writeRun } from '../../io/trec.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { oneOf, parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  run: { kind: 'string', multiple: true, help: 'input run (repeat; also positional)' },
  out: { kind: 'string', required: true, help: 'fused TREC run to write' },
  method: { kind: 'choice', choices: oneOf<FusionMethod>('rrf', 'sum'), default: DEFAULTS.fusion.method, help: 'reciprocal rank fusion or weighted sum' },
  norm: { kind: 'choice', choices: oneOf<FusionNorm>('minmax', 'zscore', 'none'), default: DEFAULTS.fusion.norm, help: 'sum: score normalisation' },
  weight: { kind: 'number', min: 0, multiple: true, help: 'one weight per run, in order (default 1 each)' },
  'rrf-k': { kind: 'number', min: 0, default: DEFAULTS.fusion.rrfK, help: 'RRF constant c in 1 / (c + rank)' },
  depth: { kind: 'int', min: 1, help: 'hits of each input run used per query (default all)' },
  k: { kind: 'int', min: 1, default: DEFAULTS.search.k, help: 'hits per query in the output' },
  tag: { kind: 'string', default: DEFAULTS.tags.fuse, help: 'run tag (6th column)' },
  tune: { kind: 'boolean', help: 'choose --method/--norm/--weight on --qrels (a train/dev split) by a grid over the weight simplex; writes <out>.weights.json' },
  qrels: { kind: 'string', help: 'with --tune: development judgements (a file named like a test split is refused)' },
  measure: { kind: 'string', default: DEFAULTS.eval.measure, help: 'with --tune: trec_eval measure to maximise' },
  step: { kind: 'number', gt: 0, max: 1, default: DEFAULTS.fusion.tuneStep, help: 'with --tune: weight grid step (weights sum to 1)' },
  'allow-test': { kind: 'boolean', help: 'with --tune: accept a qrels file named like a test split' },
  'weights-from': { kind: 'string', help: 'apply the method, normalisation and weights recorded by an earlier --tune (<out>.weights.json)' },
} satisfies OptTable;

export const fuseCommand: Command = {
  name: 'fuse',
  summary: 'fuse runs (reciprocal rank fusion, or weighted sum after min-max / z-score normalisation)',
  usage: 'lion fuse sparse.trec dense.trec --out hybrid.trec [--method sum --norm zscore --weight 0.3 --weight 0.7]\n       lion fuse bm25.trec sparse.trec --tune --qrels qrels/train.tsv --out hybrid.trec   (then --weights-from hybrid.trec.weights.json)',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'fuse');
    const paths = [...o.run, ...o._];
    if (paths.length < 1) throw new UsageError('fuse: give at least one run');
    if (o.tune && o['weights-from']) throw new UsageError('fuse: --tune and --weights-from exclude each other');
    if (o.tune && !o.qrels) throw new UsageError('fuse --tune needs --qrels (train or dev judgements)', { field: 'qrels' });
    if (o.tune) checkDevQrels(o.qrels, o['allow-test']);
    const runs = await Promise.all(paths.map((p) => readRun(p)));
    let setting: FusionSetting = { method: o.method, norm: o.norm, weights: o.weight.length ? o.weight : runs.map(() => 1) };
    let tuned: TuneResult | undefined;
    if (o.tune) {
      tuned = tuneFusion(runs, await readQrels(o.qrels), { measure: o.measure, step: o.step, depth: o.depth as number | undefined, k: o.k });
      setting = { method: tuned.method, norm: tuned.norm, weights: tuned.weights };
      const { tried, ...summary } = tuned;
      await writeFileAtomic(`${o.out}.weights.json`, `${JSON.stringify({ runs: paths, qrels: o.qrels, ...summary, settingsTried: tried.length }, null, 2)}\n`);
      process.stderr.write(`fuse --tune: ${tuned.topics} dev topics; ${o.measure} ${tuned.singles.map((x, i) => `${paths[i]} ${x.toFixed(4)}`).join(', ')}; `
        + `best ${setting.method}${setting.method === 'sum' ? `/${setting.norm}` : ''} weights ${setting.weights.join(', ')} -> ${tuned.score.toFixed(4)} (${tried.length} settings; ${o.out}.weights.json)\n`);
    } else if (o['weights-from']) {
      const w = JSON.parse(await readFile(o['weights-from'], 'utf8')) as Partial<FusionSetting>;
      if (!Array.isArray(w.weights) || w.weights.length !== runs.length || (w.method !== 'sum' && w.method !== 'rrf')) {
        throw new UsageError(`${o['weights-from']} records ${Array.isArray(w.weights) ? w.weights.length : 'no'} weights (method ${String(w.method)}) for ${runs.length} runs`, { file: o['weights-from'], field: 'weights' });
      }
      setting = { method: w.method, norm: (w.norm ?? 'none') as FusionNorm, weights: w.weights };
    }
    const fused = fuseRuns(runs, { ...setting, rrfK: o['rrf-k'], depth: o.depth as number | undefined, k: o.k });
    await writeRun(o.out, fused, { tag: o.tag });
    await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ command: 'fuse', runs: paths, setting, options: { ...o, _: undefined } }, null, 2)}\n`);
    process.stderr.write(`fuse: ${paths.length} runs, ${fused.size} queries, ${setting.method}${setting.method === 'sum' ? `/${setting.norm}` : ''} weights ${setting.weights.join(', ')} -> ${o.out}\n`);
    return 0;
  },
};
