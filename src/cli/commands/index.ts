/**
 * `lion index`: builds a sparse inverted index (`.lidx`) from sparse vector files (JSONL or `.lsv` shards) or a
 * dense index (`.lvec`, optionally with an HNSW graph) from `.f32` shards, via `buildIndex` (src/index/search.ts).
 * Inputs are merged in the order given (a document's position is its load order).
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import type { DenseDtype } from '../../index/vector/flat.js';
import { checkBuildOptions } from '../../index/inverted/build.js';
import type { WeightDtype } from '../../index/inverted/format.js';
import { buildIndex, type IndexKind } from '../../index/search.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { parseArgs, refuseOverwrite, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  kind: { kind: 'string', required: true, help: 'sparse or dense' },
  vectors: { kind: 'string', multiple: true, help: 'vector file(s): sparse JSONL / .lsv shards, or dense .f32 shards (also positional)' },
  out: { kind: 'string', required: true, help: 'index file to write (.lidx sparse, .lvec dense)' },
  dtype: { kind: 'string', help: `weights: sparse f32|u8|u16 (default ${DEFAULTS.sparseIndex.dtype}); dense f32|bf16|i8 (default ${DEFAULTS.denseIndex.dtype})` },
  vocab: { kind: 'int', min: 1, max: 0xffffffff, help: 'sparse: vocabulary size (term ids must be below it; default: largest id + 1)' },
  'block-shift': { kind: 'int', min: 0, max: 24, default: DEFAULTS.sparseIndex.blockShift, help: 'sparse: log2 of documents per block-max block' },
  'impact-max': { kind: 'int', min: 1, default: DEFAULTS.sparseIndex.impactMax, help: 'sparse: longest impact-ordered list kept per term (bounds --lambda of impact search)' },
  hnsw: { kind: 'boolean', help: 'dense: also build an HNSW graph (usearch) as <out>.usearch (without it, an old <out>.usearch is removed)' },
  'allow-mixed-encoders': { kind: 'boolean', help: 'merge vector files whose recorded encoders differ' },
  reorder: { kind: 'string', default: DEFAULTS.sparseIndex.reorder, help: 'sparse: bp (recursive graph bisection: similar documents share blocks; for cluster and blockmax search) or none (load order)' },
  'reorder-iters': { kind: 'int', default: DEFAULTS.sparseIndex.reorderIters, help: 'sparse: graph bisection swap rounds per level' },
  'list-max': { kind: 'int', default: DEFAULTS.sparseIndex.listMax, help: 'sparse: postings kept per term in the clustered lists of cluster search (0 = no clustered lists)' },
  'cluster-size': { kind: 'int', default: DEFAULTS.sparseIndex.clusterSize, help: 'sparse: documents per clustered-list block' },
  'summary-mass': { kind: 'number', default: DEFAULTS.sparseIndex.summaryMass, help: 'sparse: fraction of a block summary weight kept, in (0, 1]' },
  'summary-max': { kind: 'int', default: DEFAULTS.sparseIndex.summaryMax, help: 'sparse: most entries per block summary' },
  progress: { kind: 'boolean', help: 'show documents read, total and ETA even when stderr is not a terminal' },
} satisfies OptTable;

export const indexCommand: Command = {
  name: 'index',
  summary: 'build a sparse inverted index or a dense vector index from encoded vectors',
  usage: 'lion index --kind sparse --out docs.lidx docs-0.lsv docs-1.jsonl [--dtype u8]   |   lion index --kind dense --out docs.lvec docs.f32 [--hnsw]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'index');
    const sources = [...o.vectors, ...o._];
    if (sources.length === 0) throw new UsageError('index: give at least one vector file (--vectors or positional)');
    const kind = o.kind as IndexKind;
    if (kind !== 'sparse' && kind !== 'dense') throw new UsageError(`--kind must be sparse or dense, got '${o.kind}'`, { field: 'kind' });
    if (kind === 'dense' && o.dtype !== undefined && !['f32', 'bf16', 'i8'].includes(o.dtype)) throw new UsageError(`--dtype for dense must be f32, bf16 or i8`, { field: 'dtype' });
    if (kind === 'sparse' && o.dtype !== undefined && !['f32', 'u8', 'u16'].includes(o.dtype)) throw new UsageError(`--dtype for sparse must be f32, u8 or u16`, { field: 'dtype' });
    refuseOverwrite(o.out, sources, 'index');
    // Ranges are checked before any input is read (a negative --impact-max or a huge --vocab must not allocate).
    if (kind === 'sparse') checkBuildOptions({ vocabSize: o.vocab as number | undefined, impactMax: o['impact-max'], blockShift: o['block-shift'], reorder: o.reorder as 'bp' | 'none', reorderIters: o['reorder-iters'], listMax: o['list-max'], clusterSize: o['cluster-size'], summaryMass: o['summary-mass'], summaryMax: o['summary-max'] });
    const summary = await buildIndex(sources, o.out, {
      allowForeign: o['allow-mixed-encoders'],
      kind,
      dtype: kind === 'sparse' ? (o.dtype as WeightDtype | undefined) : undefined,
      denseDtype: kind === 'dense' ? (o.dtype as DenseDtype | undefined) : undefined,
      vocabSize: o.vocab as number | undefined,
      blockShift: o['block-shift'],
      impactMax: o['impact-max'],
      reorder: o.reorder as 'bp' | 'none',
      reorderIters: o['reorder-iters'],
      listMax: o['list-max'],
      clusterSize: o['cluster-size'],
      summaryMass: o['summary-mass'],
      summaryMax: o['summary-max'],
      hnsw: o.hnsw,
      progress: o.progress,
    });
    await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ command: 'index', sources, options: { ...o, _: undefined }, summary }, null, 2)}\n`);
    process.stderr.write(`index: ${Object.entries(summary).map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`).join(', ')} -> ${o.out}\n`);
    return 0;
  },
};
