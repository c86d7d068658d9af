/**
 * `lion encode` through the simple API: what runs when the model is a BERT-family encoder, or when the
 * encoder is configured beyond Lion's paper defaults (pooling, prompt, normalisation, Matryoshka dim, logit
 * scale, decoder attention). Records are read in windows, encoded with a SparseEncoder / DenseEncoder and
 * written through the same shard and JSONL writers as src/encoders/encode.ts, in input order; `<out>.json`
 * records the resolved configuration.
 */
import { DEFAULTS } from '../defaults.js';
import { NonFiniteError, UsageError } from '../errors.js';
import { shardOf, type EncodeCollectionOptions } from '../encoders/encode.js';
import type { DensePooling } from '../encoders/pooling.js';
import { readCorpus, readQueries } from '../io/corpus.js';
import { DenseShardWriter, SparseShardWriter, sparseToObject } from '../io/vectors.js';
import type { TextRecord } from '../types.js';
import { openAtomic, writeFileAtomic } from '../util/atomic.js';
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

/** Loads the configured encoder, encodes `o.input` and writes `o.out`; returns the number of texts. */
export async function encodeCollectionConfigured(o: ConfiguredEncodeOptions): Promise<number> {
  if (!o.model && !o.adapter) throw new UsageError('encode: pass --model (and optionally --adapter)', { field: 'model' });
  const d = DEFAULTS.encode;
  const common: EncoderOptions = {
    adapter: o.model ? o.adapter : undefined, revision: o.revision, kernels: o.kernels, dtype: o.dtype, causal: o.causal,
    batchSize: o.maxBatch ?? d.maxBatch, maxTokens: o.maxTokens ?? d.maxTokens,
    ...(o.queries ? { queryMaxLength: o.maxLength, queryPrompt: o.prompt } : { documentMaxLength: o.maxLength, documentPrompt: o.prompt }),
  };
  const name = (o.model ?? o.adapter)!;
  let enc: SparseEncoder | DenseEncoder;
  if (o.paradigm === 'sparse') {
    if (o.pooling !== undefined && o.pooling !== 'max' && o.pooling !== 'sum') throw new UsageError(`sparse --pooling must be max or sum, got '${o.pooling}'`, { field: 'pooling' });
    if (o.dim !== undefined || o.normalize) throw new UsageError('--dim and --normalize apply to dense encoders', { field: 'dim' });
    enc = await SparseEncoder.load(name, { ...common, pooling: o.pooling as 'max' | 'sum' | undefined, scale: o.scale, topK: o.topK ?? d.topK });
  } else {
    if (o.pooling !== undefined && !['mean', 'mean-normalized', 'cls', 'last'].includes(o.pooling)) {
      throw new UsageError(`dense --pooling must be mean, mean-normalized, cls or last, got '${o.pooling}'`, { field: 'pooling' });
    }
    if (o.scale !== undefined) throw new UsageError('--scale applies to sparse encoders', { field: 'scale' });
    enc = await DenseEncoder.load(name, { ...common, pooling: o.pooling as DensePooling | undefined, normalize: o.normalize, dim: o.dim });
  }
  const format = o.format ?? (o.paradigm === 'sparse' ? 'jsonl' : 'shard');
  if (o.paradigm === 'dense' && format === 'jsonl') throw new UsageError('dense vectors are written as binary shards only (--format shard)');
  const records = o.queries ? readQueries(o.input) : readCorpus(o.input);
  const input = o.shard ? shardOf(records, o.shard) : records;
  const progress = new Progress(`encode ${o.queries ? 'queries' : 'corpus'}`, undefined, 'texts');
  const window = 32 * (o.maxBatch ?? d.maxBatch);
  const encode = (recs: TextRecord[]) => (o.queries ? enc.encodeQueries(recs) : enc.encodeDocuments(recs));
  // The vectors record their encoder (search and serve refuse queries from another one), and a NaN or
  // infinite output fails the run naming the text, as src/encoders/encode.ts does for the paper's encoders.
  const encoder = encoderIdentity({
    model: enc.location.base, adapter: enc.location.adapter, head: enc.kind,
    ...(enc.kind === 'sparse' ? { vocab: enc.dimension } : { dim: enc.dimension }), dtype: o.dtype ?? 'fp32',
  });
  const finite = (id: string, v: unknown): void => {
    const xs = v instanceof Float32Array ? v : (v as { weights: Float32Array }).weights;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(xs[i]!)) throw new NonFiniteError(`the ${enc.kind} encoder produced NaN or infinite values for ${id}`, { field: id });
    }
  };
  let n = 0;
  const run = async (write: (id: string, v: unknown) => Promise<void> | void) => {
    let pending: TextRecord[] = [];
    const flush = async () => {
      const reps = await encode(pending);
      for (let i = 0; i < pending.length; i++) { finite(pending[i]!.id, reps[i]); await write(pending[i]!.id, reps[i]); n++; progress.tick(); }
      pending = [];
    };
    for await (const r of input) { pending.push(r); if (pending.length >= window) await flush(); }
    if (pending.length) await flush();
  };
  if (enc.kind === 'dense') {
    const w = new DenseShardWriter(o.out, enc.dimension, encoder);
    try { await run((id, v) => w.add([id], v as Float32Array)); w.close(); } catch (e) { w.abort(); throw e; }
  } else if (format === 'shard') {
    const w = new SparseShardWriter(o.out, enc.dimension, encoder);
    try { await run((id, v) => w.add(id, v as never)); w.close(); } catch (e) { w.abort(); throw e; }
  } else {
    const w = await openAtomic(o.out);
    try {
      await run(async (id, v) => { await w.write(`${JSON.stringify({ id, vector: sparseToObject(v as never) })}\n`); });
      await w.commit();
    } catch (e) { await w.abort(); throw e; }
  }
  progress.finish();
  const { kernels: _k, onLoad: _l, ...recorded } = o;
  const resolved = {
    family: enc.family, pooling: enc.pooling, prompts: enc.prompts, maxLength: enc.maxLength,
    ...(enc.kind === 'sparse' ? { scale: enc.scale } : { normalize: enc.normalize, dim: enc.dimension }),
    base: enc.location.base, adapter: enc.location.adapter,
  };
  await writeFileAtomic(`${o.out}.json`, `${JSON.stringify({ ...recorded, format, resolved, texts: n, encoder: identityToJson(encoder) }, null, 2)}\n`);
  return n;
}
