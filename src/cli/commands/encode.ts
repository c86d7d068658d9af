/**
 * `lion encode`: encode a corpus or a query set with a sparse or dense encoder (src/encoders/encode.ts) into
 * sparse JSONL `{id, vector: {tokenId: weight}}`, a sparse binary shard, or a dense binary shard; `--shard i/N`
 * encodes every N-th record so a corpus can be split over processes. The resolved options go to `<out>.json`.
 * BERT-family models (SPLADE, embedders) and the encoder options (--pooling, --prompt, --normalize, --dim,
 * --scale, --causal) run through the simple API (src/api/encode-file.ts).
 */
import { DEFAULTS } from '../../defaults.js';
import { UsageError } from '../../errors.js';
import { encodeCollection, parseShard, type Paradigm, type VectorFormat } from '../../encoders/encode.js';
import { describePrecision, type DtypeRequest } from '../../model/precision.js';
import { encodeCollectionConfigured } from '../../api/encode-file.js';
import { readHfConfig } from '../../io/hfconfig.js';
import { isBertConfig } from '../../model/bert.js';
import { resolveModelDir } from '../../util/hfcache.js';
import { oneOf, parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const d = DEFAULTS.encode;
const options = {
  paradigm: { kind: 'choice', choices: oneOf<Paradigm>('sparse', 'dense'), required: true, help: 'sparse or dense' },
  model: { kind: 'string', help: "base model: a Hugging Face folder or a hub id in the local HF cache (default: the adapter's base_model_name_or_path)" },
  revision: { kind: 'string', help: 'branch, tag or commit of a hub-id --model in the HF cache (default main)' },
  adapter: { kind: 'string', help: 'PEFT adapter folder or cached hub id to merge (Lion-SP/DS or one `lion train` wrote; .safetensors or .bin)' },
  corpus: { kind: 'string', help: 'documents to encode (BEIR corpus.jsonl or pid\\ttext TSV)' },
  queries: { kind: 'string', help: 'queries to encode (BEIR queries.jsonl or qid\\ttext TSV)' },
  out: { kind: 'string', required: true, help: 'output file' },
  format: { kind: 'choice', choices: oneOf<VectorFormat>('jsonl', 'shard'), help: 'sparse: jsonl or shard (default jsonl); dense is always a shard' },
  'max-length': { kind: 'int', min: 1, help: `tokens per text, BOS included (default ${d.queryMaxLength} for queries, ${d.docMaxLength} for documents; BEIR uses ${d.beirMaxLength})` },
  'max-batch': { kind: 'int', min: 1, default: d.maxBatch, help: 'texts per batch at most' },
  'max-tokens': { kind: 'int', min: 1, default: d.maxTokens, help: 'padded tokens per batch at most' },
  'top-k': { kind: 'int', min: 0, default: d.topK, help: 'sparse: keep the k largest weights (0 = all, as the paper)' },
  shard: { kind: 'string', help: 'i/N: encode records i, i+N, i+2N, ...' },
  pooling: { kind: 'string', help: "sparse: max or sum; dense: mean, mean-normalized, cls or last (default: the folder's sentence-transformers config, else max / Lion's mean-normalized for decoders, mean for BERT)" },
  prompt: { kind: 'string', help: "text put before every query or document (default: the folder's sentence-transformers prompt, else none)" },
  normalize: { kind: 'boolean', help: 'dense: L2-normalise each vector (default: a Normalize module in modules.json, else off)' },
  dim: { kind: 'int', help: 'dense: keep the first dim components, Matryoshka (default: the hidden size)' },
  scale: { kind: 'number', help: 'sparse: logit scale before log1p(relu) (default d^-1/4 for decoders, 1 for BERT/SPLADE)' },
  causal: { kind: 'boolean', help: 'decoders: causal attention (default: bidirectional, causal with --pooling last)' },
  dtype: { kind: 'choice', choices: oneOf<DtypeRequest>('fp32', 'bf16', 'int8', 'auto'), default: DEFAULTS.precision.inference, help: 'weights and products: fp32, bf16, int8, or auto (bf16 where the CPU multiplies bf16 natively, else fp32)' },
  progress: { kind: 'boolean', help: 'show count, total and ETA even when stderr is not a terminal' },
} satisfies OptTable;

export const encodeCommand: Command = {
  name: 'encode',
  summary: 'encode a corpus or queries into sparse or dense vectors',
  usage: 'lion encode --paradigm sparse --model Llama-3.2-1B --adapter Lion-SP-1B --corpus corpus.jsonl --out docs.jsonl',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'encode');
    if (o._.length) throw new UsageError(`encode: unexpected argument '${o._[0]}'`);
    if (!o.corpus === !o.queries) throw new UsageError('encode: pass exactly one of --corpus or --queries');
    const dtype = o.dtype;
    const t0 = Date.now();
    // BERT-family models and encoders configured beyond the paper's defaults go through the simple API
    const configured = o.pooling !== undefined || o.prompt !== undefined || o.normalize || o.dim !== undefined || o.scale !== undefined || o.causal
      || (o.model !== undefined && isBertConfig(readHfConfig(resolveModelDir(o.model, { revision: o.revision }))));
    const n = configured ? await encodeCollectionConfigured({
      dtype, paradigm: o.paradigm, model: o.model, revision: o.revision, adapter: o.adapter, input: (o.corpus ?? o.queries)!,
      queries: Boolean(o.queries), out: o.out, format: o.format as VectorFormat | undefined, maxLength: o['max-length'], maxBatch: o['max-batch'],
      maxTokens: o['max-tokens'], topK: o['top-k'], shard: o.shard ? parseShard(o.shard) : undefined,
      pooling: o.pooling, prompt: o.prompt, normalize: o.normalize ? true : undefined, dim: o.dim, scale: o.scale, causal: o.causal ? true : undefined,
    }) : await encodeCollection({
      dtype, onLoad: (r) => process.stderr.write(`encode: ${describePrecision(r, dtype)}\n`),
      paradigm: o.paradigm, model: o.model, revision: o.revision, adapter: o.adapter, input: (o.corpus ?? o.queries)!, queries: Boolean(o.queries),
      out: o.out, format: o.format as VectorFormat | undefined, maxLength: o['max-length'], maxBatch: o['max-batch'],
      maxTokens: o['max-tokens'], topK: o['top-k'] as number | undefined, shard: o.shard ? parseShard(o.shard) : undefined, progress: o.progress,
    });
    const s = (Date.now() - t0) / 1000;
    process.stderr.write(`encode: ${n} texts in ${s.toFixed(1)} s (${(n / s).toFixed(1)}/s) -> ${o.out}\n`);
    return 0;
  },
};
