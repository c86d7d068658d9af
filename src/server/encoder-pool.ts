/**
 * A pool of worker threads that encode query texts with a neural encoder (encoder-worker.ts), so a text
 * query to a sparse or dense system never blocks the server's event loop. Requests queue; an idle worker
 * takes every queued query (up to `maxBatch`) and encodes them in one forward pass, so under load queries are
 * batched without any added wait. A batch has `timeoutMs` to finish (past it its queries fail with 503 and
 * the worker is replaced). `close()` rejects queued queries and terminates the workers.
 */
import { Worker } from 'node:worker_threads';
import { ModelError } from '../errors.js';
import type { SparseVec } from '../types.js';
import type { EncoderWorkerData } from './encoder-worker.js';
import { HttpError } from './http.js';

export interface EncoderPoolOptions extends EncoderWorkerData {
  /** Worker threads (each holds its own copy of the model). */
  workers: number;
  /** Deadline of one batch, in milliseconds. */
  timeoutMs: number;
}

type Result = SparseVec | Float32Array;
interface Job {
  text: string;
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
}
interface Batch {
  id: number;
  jobs: Job[];
  timer: NodeJS.Timeout;
}
interface Slot {
  worker: Worker;
  batch?: Batch;
}

export class QueryEncoderPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Forward passes run and queries encoded (batches × their sizes), for metrics and tests. */
  readonly stats = { batches: 0, queries: 0 };
  /** Vocabulary size and hidden size of the loaded model, known once `ready` resolves. */
  vocab = 0;
  dim = 0;

  private constructor(private readonly opts: EncoderPoolOptions) {}

  /** Start the workers and wait until each has loaded the model (a load failure rejects with its message). */
  static async start(opts: EncoderPoolOptions): Promise<QueryEncoderPool> {
    const pool = new QueryEncoderPool(opts);
    try {
      for (let i = 0; i < Math.max(1, opts.workers); i++) pool.slots.push(await pool.spawn());
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private spawn(): Promise<Slot> {
    const { workers: _w, timeoutMs: _t, ...data } = this.opts;
    const worker = new Worker(new URL('./encoder-worker.js', import.meta.url), { workerData: data });
    const slot: Slot = { worker };
    return new Promise((resolve, reject) => {
      const onFirst = (m: { ready?: boolean; fatal?: string; vocab?: number; dim?: number }) => {
        if (m.fatal !== undefined) {
          void worker.terminate();
          reject(new ModelError(`cannot load the query encoder: ${m.fatal}`, { file: this.opts.model }));
          return;
        }
        this.vocab = m.vocab!;
        this.dim = m.dim!;
        worker.on('message', (r) => this.onResult(slot, r));
        resolve(slot);
      };
      worker.once('message', onFirst);
      worker.once('error', (e) => reject(new ModelError(`query encoder worker failed: ${e.message}`, { file: this.opts.model })));
      // a worker that ends before it answers would otherwise leave start() waiting forever (no-op once resolved)
      worker.once('exit', (code) => reject(new ModelError(`the query encoder worker stopped (exit code ${code}) before it loaded the model`, { file: this.opts.model })));
      worker.on('exit', () => this.onExit(slot));
    });
  }

  /** Encode one query text. */
  encode(text: string): Promise<Result> {
    if (this.closed) return Promise.reject(new HttpError(503, 'E_CLOSING', 'the server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.batch) continue;
      const jobs = this.queue.splice(0, Math.max(1, this.opts.maxBatch));
      const batch: Batch = {
        id: this.nextId++,
        jobs,
        timer: setTimeout(() => {
          for (const j of jobs) j.reject(new HttpError(503, 'E_TIMEOUT', `encoding the query took longer than ${this.opts.timeoutMs} ms`));
          slot.batch = undefined;
          void slot.worker.terminate(); // onExit replaces it
        }, this.opts.timeoutMs),
      };
      slot.batch = batch;
      this.stats.batches++;
      this.stats.queries += jobs.length;
      slot.worker.postMessage({ id: batch.id, texts: jobs.map((j) => j.text) });
    }
  }

  private onResult(slot: Slot, r: { id: number; results?: Array<{ terms?: Uint32Array; weights?: Float32Array; dense?: Float32Array }>; error?: string }): void {
    const batch = slot.batch;
    if (!batch || batch.id !== r.id) return;
    clearTimeout(batch.timer);
    slot.batch = undefined;
    batch.jobs.forEach((job, i) => {
      const x = r.results?.[i];
      if (r.error !== undefined || !x) job.reject(new ModelError(`query encoding failed: ${r.error ?? 'no result'}`));
      else job.resolve(x.dense ?? { terms: x.terms!, weights: x.weights! });
    });
    this.pump();
  }

  private onExit(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    if (slot.batch) {
      clearTimeout(slot.batch.timer);
      for (const j of slot.batch.jobs) j.reject(new HttpError(500, 'E_INTERNAL', 'the query encoder worker stopped'));
      slot.batch = undefined;
    }
    // Replace the worker so one bad query cannot take the system down.
    this.spawn().then((s) => {
      if (this.closed) void s.worker.terminate();
      else {
        this.slots[i] = s;
        this.pump();
      }
    }, () => this.slots.splice(i, 1));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new HttpError(503, 'E_CLOSING', 'the server is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
