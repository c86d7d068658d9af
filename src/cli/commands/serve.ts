/**
 * `lion serve`: the HTTP API and web page over one or more indexes (src/server/). Runs until SIGINT or
 * SIGTERM, then stops accepting connections, finishes the requests in flight and exits 0.
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { getKernels } from '../../kernels/index.js';
import { kernelIsa, resolveDtype, type DtypeRequest } from '../../model/precision.js';
import { demoModels } from '../../server/collection.js';
import { serve } from '../../server/serve.js';
import { oneOf, parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const d = DEFAULTS.serve;

const options = {
  index: { kind: 'string', multiple: true, help: 'index file or folder, as PATH or NAME=PATH (repeat for several systems)' },
  collection: { kind: 'string', help: "collection to index in memory at start-up and show (e.g. test/fixtures/cranfield): BM25 as 'bm25'" },
  'sparse-model': { kind: 'string', help: "with --collection: encoder (model or PEFT adapter folder) for a learned sparse index of it, as 'sparse'" },
  'dense-model': { kind: 'string', help: "with --collection: encoder for a dense index of it, as 'dense'" },
  'demo-models': { kind: 'boolean', help: 'with --collection: the shipped demonstration encoders (models/lion-demo-sp, -ds) as --sparse-model and --dense-model' },
  model: { kind: 'string', multiple: true, help: 'query encoder for a sparse or dense index, as NAME=DIR (model or PEFT adapter folder); text queries are encoded on worker threads' },
  'encoder-workers': { kind: 'int', min: 1, max: 64, default: d.encoderWorkers, help: 'worker threads per query encoder' },
  dtype: { kind: 'choice', choices: oneOf<DtypeRequest>('fp32', 'bf16', 'int8', 'auto'), default: DEFAULTS.precision.inference, help: 'encoder weights and products: fp32, bf16, int8, or auto (bf16 where the CPU multiplies bf16 natively, else fp32)' },
  corpus: { kind: 'string', multiple: true, help: 'corpus whose titles and text the page shows (BEIR folder, corpus.jsonl or TSV)' },
  host: { kind: 'string', default: d.host, help: 'address to listen on (0.0.0.0 exposes the server to the network)' },
  port: { kind: 'int', min: 0, max: 65535, default: d.port, help: 'TCP port (0 picks a free one)' },
  k: { kind: 'int', min: 1, default: d.k, help: 'results per system when a request gives no k' },
  'max-k': { kind: 'int', min: 1, default: d.maxK, help: 'largest k a request may ask for' },
  'timeout-ms': { kind: 'int', min: 1, default: d.timeoutMs, help: 'per-request deadline' },
  files: { kind: 'string', multiple: true, help: 'folder whose qrels and runs the evaluation view may open by path (default: the current folder)' },
  k1: { kind: 'number', min: 0, default: DEFAULTS.bm25.k1, help: 'BM25 k1 for BM25 indexes' },
  b: { kind: 'number', min: 0, max: 1, default: DEFAULTS.bm25.b, help: 'BM25 b for BM25 indexes' },
  'allow-foreign-queries': { kind: 'boolean', help: 'serve an index with a --model other than the encoder recorded in it' },
  'max-connections': { kind: 'int', min: 1, default: d.maxConnections, help: 'open connections at most (more get a 503)' },
  'max-heavy': { kind: 'int', min: 1, default: d.maxHeavy, help: 'evaluations and explained searches in progress at most (more get a 503)' },
  live: { kind: 'string', multiple: true, help: 'live index folder (`lion live create`), as DIR or NAME=DIR: searched, and changed over POST /api/live/add|delete|merge' },
  reranker: { kind: 'string', help: 'cross-encoder directory (`lion rerank train`) for POST /api/rerank' },
  'reranker-base': { kind: 'string', help: 'base model of --reranker when it is a LoRA adapter' },
  'live-token': { kind: 'string', help: 'bearer token for live-index writes (required off loopback; default $LION_LIVE_TOKEN)' },
} satisfies OptTable;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve indexes over HTTP with a search and evaluation web page',
  usage: 'lion serve --index bm25=cran.lbm25 [--index sp=docs.lidx --model sp=MODEL_DIR] [--corpus test/fixtures/cranfield] [--port 8080] [--host 127.0.0.1]\n       lion serve --collection test/fixtures/cranfield [--demo-models | --sparse-model DIR --dense-model DIR]',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'serve');
    if (o._.length) throw new UsageError(`serve: unexpected argument '${o._[0]}'`);
    if (o.k > o['max-k']) throw new UsageError(`--k must be 1..${o['max-k']} (--max-k)`, { field: 'k' });
    const models: Record<string, string> = {};
    for (const m of o.model) {
      const eq = m.indexOf('=');
      if (eq <= 0) throw new UsageError(`--model expects NAME=DIR (NAME is an --index name), got '${m}'`, { field: 'model' });
      models[m.slice(0, eq)] = m.slice(eq + 1);
    }
    const dtype = o.dtype;
    const s = await serve({
      indexes: o.index,
      collection: o.collection || undefined,
      ...(o['demo-models'] ? demoModels() : {}),
      ...(o['sparse-model'] ? { sparseModel: o['sparse-model'] } : {}),
      ...(o['dense-model'] ? { denseModel: o['dense-model'] } : {}),
      corpus: o.corpus,
      host: o.host,
      port: o.port,
      k: o.k,
      limits: { maxK: o['max-k'] },
      timeoutMs: o['timeout-ms'],
      fileRoots: o.files.length ? o.files : undefined,
      bm25: { k1: o.k1, b: o.b },
      models,
      encoderWorkers: o['encoder-workers'],
      dtype,
      allowForeignQueries: o['allow-foreign-queries'],
      maxConnections: o['max-connections'],
      maxHeavy: o['max-heavy'],
      live: o.live,
      ...(o.reranker ? { rerankerDir: o.reranker, rerankerBase: o['reranker-base'] } : {}),
      ...(o['live-token'] ? { liveToken: o['live-token'] } : {}),
    });
    const names = s.systems.map((x) => `${x.info.name} (${x.info.kind})`).join(', ');
    process.stderr.write(`lion serve: ${s.url}/ serving ${names}; Ctrl-C stops\n`);
    if (o['demo-models'] || o['sparse-model'] || o['dense-model'] || o.model.length) {
      const k = getKernels(), r = resolveDtype(dtype, k), isa = kernelIsa(k);
      process.stderr.write(`lion serve: encoders in dtype ${r}${dtype === 'auto' ? ' (auto)' : ''}, kernels ${k.name}, bf16 path ${isa.bf16}, int8 path ${isa.int8}\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        process.stderr.write(`lion serve: ${sig}: finishing ${s.metrics.inFlightCount} request(s) in flight, then exiting\n`);
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        void s.close().then(resolve);
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    return 0;
  },
};
