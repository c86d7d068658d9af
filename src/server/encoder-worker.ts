/**
 * Worker-thread side of the query encoder pool (encoder-pool.ts): loads one encoder (a Hugging Face model
 * directory, or a PEFT adapter merged into its base) and its tokenizer, then encodes batches of query texts
 * (one forward pass per batch: the pool hands a worker every query that queued while it was busy), so the
 * server's event loop never runs a forward pass. Replies carry typed arrays transferred, not copied.
 *
 * Messages in:  {id, texts}   out: {id, results: [{terms, weights} (sparse) | {dense}]} | {id, error}
 * On start:     {ready: true, vocab, dim} once the model is loaded, or {fatal: message} if it cannot be.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Paradigm } from '../encoders/encode.js';
import { loadEncoder } from '../encoders/load.js';
import type { SparseVec } from '../types.js';
import type { DtypeRequest } from '../model/precision.js';

export interface EncoderWorkerData {
  /** A model directory, or a PEFT adapter directory (has adapter_config.json) whose base it names. */
  model: string;
  paradigm: Paradigm;
  maxLength: number;
  /** Queries encoded together in one forward pass at most. */
  maxBatch: number;
  /** Storage and products of the model's base matrices (default fp32; 'auto' = `defaultDtype`). */
  dtype?: DtypeRequest;
}

const port = parentPort!;
const data = workerData as EncoderWorkerData;

try {
  const encoder = loadEncoder(data.model, { head: data.paradigm, dtype: data.dtype, queryMaxLength: data.maxLength });
  port.on('message', (m: { id: number; texts: string[] }) => {
    try {
      const reps = encoder.encodeBatch(m.texts, 'query');
      const transfer: ArrayBuffer[] = [];
      const results = reps.map((rep) => {
        if (rep instanceof Float32Array) {
          transfer.push(rep.buffer as ArrayBuffer);
          return { dense: rep };
        }
        const v = rep as SparseVec;
        transfer.push(v.terms.buffer as ArrayBuffer, v.weights.buffer as ArrayBuffer);
        return { terms: v.terms, weights: v.weights };
      });
      port.postMessage({ id: m.id, results }, transfer);
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ ready: true, vocab: encoder.model.config.vocabSize, dim: encoder.model.config.hiddenSize });
} catch (e) {
  port.postMessage({ fatal: e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}`.trim() : String(e) });
}
