/**
 * `lion export`: writes a Lion index in another engine's format (src/index/export.ts): Anserini
 * JsonVectorCollection, CIFF, OpenSearch bulk NDJSON (+ mapping) or Qdrant points JSONL (+ collection settings).
 */
import { UsageError } from '../../errors.js';
import { DEFAULTS } from '../../defaults.js';
import { exportIndex, type ExportFormat } from '../../index/export.js';
import { loadInvertedIndex } from '../../index/inverted/format.js';
import { indexKind } from '../../index/search.js';
import { loadVectorIndex } from '../../index/vector/flat.js';
import { oneOf, parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  index: { kind: 'string', required: true, help: 'index file (.lidx sparse or .lvec dense)' },
  format: { kind: 'choice', choices: oneOf<ExportFormat>('anserini', 'ciff', 'opensearch', 'qdrant'), required: true, help: 'anserini and ciff: sparse indexes; opensearch and qdrant: both kinds' },
  out: { kind: 'string', required: true, help: 'output file' },
  scale: { kind: 'number', gt: 0, default: DEFAULTS.export.scale, help: 'anserini/ciff: integer impact = round(weight x scale)' },
  name: { kind: 'string', default: DEFAULTS.export.name, help: 'OpenSearch index name' },
  field: { kind: 'string', help: 'OpenSearch field / Qdrant named vector (default sparse or dense)' },
} satisfies OptTable;

export const exportCommand: Command = {
  name: 'export',
  summary: 'export an index to Anserini, CIFF (PISA, Terrier), OpenSearch or Qdrant',
  usage: 'lion export --index docs.lidx --format ciff --out docs.ciff [--scale 100]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'export');
    if (o._.length) throw new UsageError(`export: unexpected argument '${o._[0]}'`);
    const kind = indexKind(o.index);
    const ix = kind === 'sparse' ? loadInvertedIndex(o.index) : loadVectorIndex(o.index);
    await exportIndex(ix, kind, o.format, o.out, { scale: o.scale, name: o.name, field: o.field as string | undefined });
    process.stderr.write(`export: ${kind} index ${o.index} as ${o.format} -> ${o.out}\n`);
    return 0;
  },
};
