/**
 * `lion encode` through the simple API: what runs when the model is a BERT-family encoder, or when the
 * encoder is configured beyond Lion's paper defaults (pooling, prompt, normalisation, Matryoshka dim, logit
 * scale, decoder attention). Records are read in windows, encoded with a SparseEncoder / DenseEncoder and
 * written through the same shard and JSONL writers as src/encoders/encode.ts, in input order; `<out>.json`
 * records the resolved configuration.
 */
import { DEFAULTS } from '../defaults.js';
import { NonFiniteError, UsageError } from '../errors.js';
import type { Vector } from '../encoders/contract.js';
import { openVectorWriter, shardOf, vectorFormat, type EncodeCollectionOptions } from '../encoders/encode.js';
import { DENSE_POOLINGS, type DensePooling } from '../encoders/pooling.js';
import { readCorpus, readQueries } from '../io/corpus.js';
import type { TextRecord } from '../types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { encoderIdentity, identityToJson } from '../util/identity.js';
import { Progress } from '../util/progress.js';
import { DenseEncoder, SparseEncoder, type EncoderOptions } from './encoder.js';

/** `encodeCollection`'s options plus the encoder configuration of the simple API. */
export interface ConfiguredEncodeOptions extends EncodeCollectionOptions {
  /** sparse: max | sum; dense: mean | mean-normalized | cls | last. */
  pooling?: string;
  /** Text put before every query or document (default: the folder's sentence-transformers prompt). */
  prompt?: string;
  normalize?: boolean;
  dim?: number;
  scale?: number;
  causal?: boolean;
}

/** The simple API's encoder for each paradigm, with the options that apply to it checked. */
const CONFIGURED: Record<string, (name: string, common: EncoderOptions, o: ConfiguredEncodeOptions) => Promise<SparseEncoder | DenseEncoder>> = {
  sparse(name, common, o) {
    if (o.pooling !== undefined && o.pooling !== 'max' && o.pooling !== 'sum') throw new UsageError(`sparse --pooling must be max or sum, got '${o.pooling}'`, { field: 'pooling' });
    if (o.dim !== undefined || o.normalize) throw new UsageError('--dim and --normalize apply to dense encoders', { field: 'dim' });
    return SparseEncoder.load(name, { ...common, pooling: o.pooling as 'max' | 'sum' | undefined, scale: o.scale, topK: o.topK ?? DEFAULTS.encode.topK });
  },
  dense(name, common, o) {
    if (o.pooling !== undefined && !(DENSE_POOLINGS as readonly string[]).includes(o.pooling)) {
      throw new UsageError(`dense --pooling must be mean, mean-normalized, cls or last, got '${o.pooling}'`, { field: 'pooling' });
    }
    if (o.scale !== undefined) throw new UsageError('--scale applies to sparse encoders', { field: 'scale' });
    return DenseEncoder.load(name, { ...common, pooling: o.pooling as DensePooling | undefined, normalize: o.normalize, dim: o.dim });
  },
};

/** Loads the configured encoder, encodes `o.input` and writes `o.out`; returns the number of texts. */
export async function encodeCollectionConfigured(o: ConfiguredEncodeOptions): Promise<number> {
  if (!o.model && !o.adapter) throw new UsageError('encode: pass --model (and optionally --adapter)', { field: 'model' });
  const d = DEFAULTS.encode;
  const common: EncoderOptions = {
    adapter: o.model ? o.adapter : undefined, revision: o.revision, kernels: o.kernels, dtype: o.dtype, causal: o.causal,
    batchSize: o.maxBatch ?? d.maxBatch, maxTokens: o.maxTokens ?? d.maxTokens,
    ...(o.queries ? { queryMaxLength: o.maxLength, queryPrompt: o.prompt } : { documentMaxLength: o.maxLength, documentPrompt: o.prompt }),
  };
  const load = CONFIGURED[o.paradigm];
  if (!load) throw new UsageError(`configured encoders (--pooling, --prompt, BERT models) are sparse or dense, got '${o.paradigm}'`, { field: 'paradigm' });
  const enc = await load((o.model ?? o.adapter)!, common, o);
  const format = vectorFormat(enc.kind, o.format);
  const records = o.queries ? readQueries(o.input) : readCorpus(o.input);
  const input = o.shard ? shardOf(records, o.shard) : records;
  const progress = new Progress(`encode ${o.queries ? 'queries' : 'corpus'}`, undefined, 'texts');
  const window = 32 * (o.maxBatch ?? d.maxBatch);
  const encode = (recs: TextRecord[]) => (o.queries ? enc.encodeQueries(recs) : enc.encodeDocuments(recs));
  // The vectors record their encoder (search and serve refuse queries from another one), and a NaN or
  // infinite output fails the run naming the text, as src/encoders/encode.ts does for the paper's encoders.
  const encoder = encoderIdentity({ model: enc.location.base, adapter: enc.location.adapter, head: enc.kind, vocab: enc.dimension, dim: enc.dimension, dtype: o.dtype ?? 'fp32' });
  const finite = (id: string, v: unknown): void => {
    const xs = v instanceof Float32Array ? v : (v as { weights: Float32Array }).weights;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(xs[i]!)) throw new NonFiniteError(`the ${enc.kind} encoder produced NaN or infinite values for ${id}`, { field: id });
    }
  };
  let n = 0;
  const w = await openVectorWriter(o.out, enc.kind, format, enc.dimension, encoder);
  try {
    let pending: TextRecord[] = [];
    const flush = async () => {
      const reps: Vector[] = await encode(pending);
      for (let i = 0; i < pending.length; i++) { finite(pending[i]!.id, reps[i]); await w.add(pending[i]!.id, reps[i]!); n++; progress.tick(); }
      pending = [];
    };
    for await (const r of input) { pending.push(r); if (pending.length >= window) await flush(); }
    if (pending.length) await flush();
    await w.commit();
  } catch (e) { await w.abort(); throw e; }
  progress.finish();
  const { kernels: _k, onLoad: _l, ...recorded } = o;
  const resolved = {
    family: enc.family, pooling: enc.pooling, prompts: enc.prompts, maxLength: enc.maxLength,
    ...(enc instanceof SparseEncoder ? { scale: enc.scale } : { normalize: enc.normalize, dim: enc.dimension }),
    base: enc.location.base, adapter: enc.location.adapter,
  };
  await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ ...recorded, format, resolved, texts: n, encoder: identityToJson(encoder) }, null, 2)}\n`);
  return n;
}
