/**
 * Atomic file output: everything Lion writes that must not be seen half-done (indexes, checkpoints, runs)
 * goes to `<path>.tmp-<pid>-<n>` first and is renamed into place only once it is complete and flushed.
 * A failure removes the temporary file and leaves any earlier version of `path` untouched. A process killed
 * mid-write cannot clean up, so every new write to `path` first removes the `<path>.tmp-<pid>-<n>` files of
 * processes that are no longer running.
 *
 * This module is the one atomic writer of Lion: whole files (`writeFileAtomic`, `writeFileAtomicSync`), streams
 * (`openAtomic`, `withAtomicWrite`), positioned binary writes (`AtomicFileSync`, for shards and index files)
 * and folders built under a temporary name (`replaceDirSync`).
 */
import {
  closeSync, createWriteStream, fsyncSync, mkdirSync, openSync, promises as fsp, readdirSync, renameSync, rmSync, writeSync, type WriteStream,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Removes temporary files of `path` left by processes that died mid-write. */
export function sweepStaleTemps(path: string): void {
  const dir = dirname(path), base = basename(path);
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  const prefix = `${base}.tmp-`;
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+$/.exec(n.slice(prefix.length));
    if (m && !alive(Number(m[1]))) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/** A fresh temporary name for `path` (`<path>.tmp-<pid>-<n>`), after sweeping dead processes' leftovers. */
export function tempName(path: string): string {
  sweepStaleTemps(path);
  counter += 1;
  return `${path}.tmp-${process.pid}-${counter}`;
}

/** Write `data` to `path` atomically (temp file, fsync, rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** A stream to a temporary file that becomes `path` on `commit()` and disappears on `abort()`. */
export interface AtomicStream {
  stream: WriteStream;
  write(chunk: string | Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function openAtomic(path: string): Promise<AtomicStream> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const stream = createWriteStream(tmp);
  await new Promise<void>((res, rej) => { stream.once('open', () => res()); stream.once('error', rej); });
  let done = false;
  const write = (chunk: string | Uint8Array) =>
    new Promise<void>((res, rej) => {
      if (stream.write(chunk)) return res();
      // Wait for drain or error, and remove whichever listener did not fire so that
      // millions of writes do not pile up listeners on the stream.
      const onDrain = () => { stream.off('error', onError); res(); };
      const onError = (e: Error) => { stream.off('drain', onDrain); rej(e); };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  const close = () => new Promise<void>((res, rej) => { stream.end((err?: Error | null) => (err ? rej(err) : res())); });
  return {
    stream,
    write,
    async commit() {
      if (done) return;
      done = true;
      await close();
      await fsp.rename(tmp, path);
    },
    async abort() {
      if (done) return;
      done = true;
      try { await close(); } catch { /* already broken */ }
      await fsp.rm(tmp, { force: true });
    },
  };
}

/** Run `fn` with an atomic stream to `path`; commits on success, aborts (and rethrows) on failure. */
export async function withAtomicWrite<T>(path: string, fn: (out: AtomicStream) => Promise<T>): Promise<T> {
  const out = await openAtomic(path);
  try {
    const r = await fn(out);
    await out.commit();
    return r;
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/**
 * A temporary file opened for synchronous, optionally positioned writes that becomes `path` on `commit()`
 * (fsync, close, rename) and disappears on `abort()`.
 */
export class AtomicFileSync {
  readonly tmp: string;
  private fd: number;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = tempName(path);
    this.fd = openSync(this.tmp, 'w');
  }

  /** Writes all of `b` at byte `position` (at the current end when omitted), in pieces of at most 1 GiB. */
  write(b: Uint8Array, position?: number): void {
    let done = 0;
    while (done < b.byteLength) {
      const n = Math.min(1 << 30, b.byteLength - done);
      done += position === undefined ? writeSync(this.fd, b, done, n) : writeSync(this.fd, b, done, n, position + done);
    }
  }

  /** Flushes the file to disk and renames it into place; on failure removes it and rethrows. */
  commit(): void {
    if (this.fd < 0) throw new Error(`${this.path}: atomic write already finished`);
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Discards the temporary file (a no-op after `commit()`). */
  abort(): void {
    if (this.fd >= 0) { try { closeSync(this.fd); } catch { /* already broken */ } this.fd = -1; }
    rmSync(this.tmp, { force: true });
  }
}

/** Write `data` to `path` atomically and synchronously (temp file, fsync, rename). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const f = new AtomicFileSync(path);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } catch (e) {
    f.abort();
    throw e;
  }
  f.commit();
}

/**
 * Makes `tmp` (a complete file written by other code under `tempName(path)`, e.g. a library's own save) durable
 * and renames it to `path`; on failure removes `tmp` and rethrows.
 */
export function commitTempFile(tmp: string, path: string): void {
  try {
    const fd = openSync(tmp, 'r+');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Flushes a folder's entries (renames into it) to disk where the file system supports it. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* not supported on this file system: rename is still atomic */ }
}

/**
 * Replaces the folder `path` by the complete folder `tmp` (built under `tempName(path)`), removing any earlier
 * `path` first: readers see the old folder, no folder, or the new one, never a partial one.
 */
export function replaceDirSync(tmp: string, path: string): void {
  rmSync(path, { recursive: true, force: true });
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}
