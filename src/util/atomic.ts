/**
 * Atomic file output: everything Lion writes that must not be seen half-done (indexes, checkpoints, runs)
 * goes to `<path>.tmp-<pid>-<n>` first and is renamed into place only once it is complete and flushed.
 * A failure removes the temporary file and leaves any earlier version of `path` untouched. A process killed
 * mid-write cannot clean up, so every new write to `path` first removes the `<path>.tmp-<pid>-<n>` files of
 * processes that are no longer running.
 */
import { createWriteStream, promises as fsp, readdirSync, rmSync, type WriteStream } from 'node:fs';
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
