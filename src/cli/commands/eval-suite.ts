/**
 * `lion eval-suite`: one retriever on every collection available under the data folder — SciFact test,
 * Cranfield, MED, and TREC DL 2019/2020 as re-ranking of the BM25 top 100 — with BM25 beside it and,
 * optionally, BM25 fused with it; prints the BEIR-style table with the average (src/api/eval-suite.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DEFAULTS } from '../../defaults.js';
import { FormatError, NotFoundError, UsageError } from '../../errors.js';
import type { Paradigm } from '../../encoders/encode.js';
import type { FusionMethod, FusionNorm } from '../../index/fusion.js';
import { parseDtype } from '../../model/precision.js';
import { neuralQuickstartSystem } from '../../quickstart.js';
import { formatEvalSuite, runEvalSuite, SUITE_COLLECTIONS } from '../../api/eval-suite.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  model: { kind: 'string', help: 'model folder (Hugging Face layout); without it only BM25 is shown' },
  adapter: { kind: 'string', help: 'PEFT adapter merged into --model' },
  paradigm: { kind: 'string', default: 'auto', choices: ['auto', 'sparse', 'dense'], help: "sparse or dense; auto reads 'paradigm' from the model's training_args.json" },
  name: { kind: 'string', help: 'label of the model row (default the model folder name)' },
  data: { kind: 'string', default: '../shared/data', help: 'data folder (scifact/, cranfield/beir, med/beir, trec-dl-2019/, trec-dl-2020/)' },
  collections: { kind: 'string', default: SUITE_COLLECTIONS.map((c) => c.id).join(','), help: 'comma-separated collection ids to run' },
  hybrid: { kind: 'boolean', help: 'also show BM25 fused with the model (--method, --norm, --weight)' },
  'no-bm25': { kind: 'boolean', help: 'leave the BM25 column out (it is still the first stage of TREC DL and of --hybrid)' },
  method: { kind: 'string', default: DEFAULTS.fusion.method, choices: ['rrf', 'sum'], help: 'with --hybrid: rrf or sum' },
  norm: { kind: 'string', default: DEFAULTS.fusion.norm, choices: ['minmax', 'zscore', 'none'], help: 'with --hybrid and --method sum: score normalisation' },
  weight: { kind: 'number', min: 0, multiple: true, help: 'with --hybrid: two weights, BM25 then the model (default 1 1)' },
  'weights-from': { kind: 'string', help: 'with --hybrid: method, normalisation and the two weights recorded by `lion fuse --tune` on dev judgements (BM25 run first)' },
  'doc-max-length': { kind: 'int', min: 2, default: 256, help: `tokens per document, BOS included (longer than training's ${DEFAULTS.train.docMaxLength}: BEIR documents are long; queries: ${DEFAULTS.encode.queryMaxLength})` },
  dtype: { kind: 'string', default: 'fp32', help: 'weights and products: fp32, bf16, int8 or auto' },
  json: { kind: 'string', help: 'also write the result as JSON to this file' },
} satisfies OptTable;

/** The paradigm a model folder records (training_args.json), for `--paradigm auto`. */
function recordedParadigm(model: string, adapter?: string): Paradigm {
  for (const dir of [adapter, model]) {
    if (!dir) continue;
    const f = [join(dir, 'training_args.json'), join(dir, 'init.json')].find((x) => existsSync(x)); // trained, or made by lion init
    if (!f) continue;
    let p: unknown;
    try {
      p = (JSON.parse(readFileSync(f, 'utf8')) as { paradigm?: unknown }).paradigm;
    } catch (e) {
      throw new FormatError(`not valid JSON: ${(e as Error).message}`, { file: f });
    }
    if (p === 'sparse' || p === 'dense') return p;
  }
  throw new UsageError(`eval-suite: ${adapter ?? model} records no paradigm (training_args.json or init.json)`, { field: 'paradigm', hint: 'give --paradigm sparse or --paradigm dense' });
}

export const evalSuiteCommand: Command = {
  name: 'eval-suite',
  summary: 'evaluate a retriever on every available collection (SciFact, Cranfield, MED, TREC DL re-ranking), BM25 beside it',
  usage: 'lion eval-suite --model models/lion-demo-sp [--paradigm sparse] [--hybrid] [--data ../shared/data] [--json suite.json]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'eval-suite');
    if (o._.length) throw new UsageError(`eval-suite: unexpected argument '${o._[0]}'`);
    if (!existsSync(o.data)) throw new NotFoundError('data folder not found', { file: o.data, hint: 'give --data DIR (the layout of ../shared/data)' });
    if (!o.model && (o.adapter || o.hybrid || o.name)) throw new UsageError('eval-suite: --adapter, --hybrid and --name need --model');
    if (o.weight.length && o.weight.length !== 2) throw new UsageError(`eval-suite: --weight takes two values (BM25, model), got ${o.weight.length}`, { field: 'weight' });
    let fusion = { method: o.method as FusionMethod, norm: o.norm as FusionNorm, weights: o.weight.length ? o.weight : undefined as number[] | undefined };
    if (o['weights-from']) {
      if (!o.hybrid) throw new UsageError('eval-suite: --weights-from needs --hybrid');
      if (o.weight.length) throw new UsageError('eval-suite: --weight and --weights-from exclude each other');
      const f = o['weights-from'];
      if (!existsSync(f)) throw new NotFoundError('fusion settings not found', { file: f });
      let w: { method?: unknown; norm?: unknown; weights?: unknown };
      try { w = JSON.parse(readFileSync(f, 'utf8')) as typeof w; } catch (e) { throw new FormatError(`not valid JSON: ${(e as Error).message}`, { file: f }); }
      if ((w.method !== 'rrf' && w.method !== 'sum') || !Array.isArray(w.weights) || w.weights.length !== 2 || !w.weights.every((x) => typeof x === 'number' && x >= 0)) {
        throw new FormatError('expected {"method": "rrf"|"sum", "norm", "weights": [bm25, model]} as `lion fuse --tune` writes for two runs', { file: f, field: 'weights' });
      }
      const norm = w.norm === 'minmax' || w.norm === 'zscore' || w.norm === 'none' ? w.norm : 'none';
      fusion = { method: w.method, norm, weights: w.weights as number[] };
    }
    const systems = [];
    if (o.model) {
      if (!existsSync(join(o.model, 'config.json'))) throw new NotFoundError('model folder lacks config.json', { file: o.model });
      const paradigm = o.paradigm === 'auto' ? recordedParadigm(o.model, o.adapter) : (o.paradigm as Paradigm);
      const label = o.name ?? basename(resolve(o.adapter ?? o.model));
      systems.push(neuralQuickstartSystem({ paradigm, model: o.model, adapter: o.adapter, name: label, docMaxLength: o['doc-max-length'], dtype: parseDtype(o.dtype) }));
      process.stderr.write(`eval-suite: ${label}: ${paradigm}, documents cut at ${o['doc-max-length']} tokens, ${o.dtype}\n`);
    }
    const r = await runEvalSuite({
      data: o.data,
      collections: o.collections.split(',').map((x) => x.trim()).filter(Boolean),
      systems,
      bm25: !o['no-bm25'],
      hybrid: o.hybrid ? fusion : false,
      onStage: (m) => process.stderr.write(`eval-suite: ${m}\n`),
    });
    console.log(formatEvalSuite(r));
    if (o.json) await writeFileAtomic(o.json, `${JSON.stringify({ command: 'eval-suite', options: { ...o, _: undefined }, ...r }, null, 2)}\n`);
    return 0;
  },
};
