/**
 * `lion search`: searches a sparse or dense index (or several shards, or a `.json` shard manifest) with query
 * vectors and writes a TREC run with strictly decreasing scores (src/index/search.ts), plus `<run>.json`
 * with the resolved configuration and timing.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { resolvedSparseSettings, type SparseSearchOptions } from '../../index/inverted/search.js';
import { searchToRunFile, type SearchIndexOptions } from '../../index/search.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { oneOf, parseArgs, refuseOverwrite, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  index: { kind: 'string', required: true, multiple: true, help: 'index file(s) (.lidx / .lvec), shards searched together, or a .json manifest' },
  'query-vectors': { kind: 'string', required: true, was: ['queries'], help: 'query vectors (`lion encode --queries`): sparse JSONL / .lsv, or a dense .f32 shard' },
  out: { kind: 'string', required: true, help: 'TREC run file to write' },
  k: { kind: 'int', min: 1, default: DEFAULTS.search.k, help: 'hits per query' },
  mode: { kind: 'choice', choices: oneOf<NonNullable<SearchIndexOptions['mode']>>('exact', 'blockmax', 'impact', 'cluster', 'hnsw'), help: 'sparse: exact, blockmax, impact or cluster; dense: exact or hnsw (default exact)' },
  alpha: { kind: 'number', gt: 0, max: 1, default: DEFAULTS.sparseSearch.alpha, help: 'blockmax: score a block while alpha x bound > k-th score (1 = safe)' },
  cut: { kind: 'int', min: 1, help: `impact and cluster: query terms (heaviest first) that generate candidates (default ${DEFAULTS.sparseSearch.cut} for impact; for cluster ${DEFAULTS.sparseSearch.clusterCut}, or ${DEFAULTS.sparseSearch.clusterLarge.cut} on an index of ${DEFAULTS.sparseSearch.clusterLarge.fromDocs / 1e6}M documents or more)` },
  lambda: { kind: 'int', min: 1, default: DEFAULTS.sparseSearch.lambda, help: 'impact: candidates per term, from its highest-weight postings' },
  threads: { kind: 'int', min: 1, max: 1024, help: 'threads (default LION_THREADS or all cores)' },
  gamma: { kind: 'number', help: `cluster: score a block when gamma x its summary estimate > k-th score (larger = more accurate, slower; default ${DEFAULTS.sparseSearch.gamma}, or ${DEFAULTS.sparseSearch.clusterLarge.gamma} on an index of ${DEFAULTS.sparseSearch.clusterLarge.fromDocs / 1e6}M documents or more)` },
  tag: { kind: 'string', default: DEFAULTS.tags.search, help: 'run tag (6th column)' },
  'allow-foreign-queries': { kind: 'boolean', help: 'search with query vectors from another encoder than the one recorded in the index' },
} satisfies OptTable;

export const searchCommand: Command = {
  name: 'search',
  summary: 'search a sparse or dense index with query vectors and write a TREC run',
  usage: 'lion search --index docs.lidx --query-vectors queries.jsonl --k 1000 --out run.trec [--mode cluster --cut 12 --gamma 1.2 | --mode blockmax --alpha 0.9 | --mode impact --cut 5 --lambda 100]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'search');
    if (o._.length) throw new UsageError(`search: unexpected argument '${o._[0]}'`);
    const mode = o.mode as typeof o.mode | undefined;
    const threads = o.threads as number | undefined;
    refuseOverwrite(o.out, [...o.index, o['query-vectors']], 'search');
    const cut = o.cut as number | undefined;
    const stats = await searchToRunFile(o.index, o['query-vectors'], o.out, { k: o.k, mode, alpha: o.alpha, cut, lambda: o.lambda, gamma: o.gamma, threads, tag: o.tag, allowForeign: o['allow-foreign-queries'] });
    const settings = stats.sparse ? resolvedSparseSettings({ k: o.k, mode: mode as SparseSearchOptions['mode'], alpha: o.alpha, cut, lambda: o.lambda, gamma: o.gamma as number | undefined }, stats.largestShard) : { mode: mode ?? 'exact', k: o.k };
    await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ command: 'search', options: { ...o, _: undefined }, settings, stats }, null, 2)}\n`);
    const knobs = Object.entries(settings).filter(([key]) => key !== 'mode' && key !== 'k').map(([key, v]) => `${key} ${v}`).join(', ');
    if ((settings.mode === 'cluster' || settings.mode === 'blockmax') && stats.shardsNotReordered) {
      process.stderr.write(`search: note: ${stats.shardsNotReordered} shard(s) were built without --reorder bp; ${settings.mode} search is far less effective on them\n`);
    }
    process.stderr.write(`search: mode ${settings.mode}${knobs ? ` (${knobs})` : ''}; ${stats.queries} queries over ${stats.documents} documents (${stats.shards} shard(s)) in ${stats.seconds!.toFixed(3)} s -> ${o.out}\n`);
    return 0;
  },
};
