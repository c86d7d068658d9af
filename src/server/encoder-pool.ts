/**
 * A pool of worker threads that encode query texts with a neural encoder (encoder-worker.ts), so a text
 * query to a sparse or dense system never blocks the server's event loop. Requests are queued and handed to
 * the first idle worker; each waits at most `timeoutMs` (a stuck worker is replaced). `close()` terminates
 * the workers after the jobs in flight.
 */
import { Worker } from 'node:worker_threads';
import { ModelError } from '../errors.js';
import type { SparseVec } from '../types.js';
import type { EncoderWorkerData } from './encoder-worker.js';
import { HttpError } from './http.js';

export interface EncoderPoolOptions extends EncoderWorkerData {
  /** Worker threads (each holds its own copy of the model). */
  workers: number;
  timeoutMs: number;
}

type Result = SparseVec | Float32Array;
interface Job {
  id: number;
  text: string;
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}
interface Slot {
  worker: Worker;
  job?: Job;
}

export class QueryEncoderPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
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
      worker.on('exit', () => this.onExit(slot));
    });
  }

  /** Encode one query text. */
  encode(text: string): Promise<Result> {
    if (this.closed) return Promise.reject(new HttpError(503, 'E_CLOSING', 'the server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, text, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      job.timer = setTimeout(() => {
        job.reject(new HttpError(503, 'E_TIMEOUT', `encoding the query took longer than ${this.opts.timeoutMs} ms`));
        slot.job = undefined;
        void slot.worker.terminate(); // onExit replaces it
      }, this.opts.timeoutMs);
      slot.worker.postMessage({ id: job.id, text: job.text });
    }
  }

  private onResult(slot: Slot, r: { id: number; terms?: Uint32Array; weights?: Float32Array; dense?: Float32Array; error?: string }): void {
    const job = slot.job;
    if (!job || job.id !== r.id) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    if (r.error !== undefined) job.reject(new ModelError(`query encoding failed: ${r.error}`));
    else job.resolve(r.dense ?? { terms: r.terms!, weights: r.weights! });
    this.pump();
  }

  private onExit(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    if (slot.job) {
      clearTimeout(slot.job.timer);
      slot.job.reject(new HttpError(500, 'E_INTERNAL', 'the query encoder worker stopped'));
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
