/**
 * A training run owns its output folder:
 *
 * - **Lock.** `<out>/train.lock` is created exclusively (`{pid, host, started}`) before anything is written
 *   and removed when the run ends. A second run into the same folder is refused (`E_BUSY`) naming the holder;
 *   a lock whose process is gone (the run was killed) is taken over.
 * - **Same settings.** Resuming compares the checkpoint's recorded configuration with the new one; any
 *   difference in a setting that changes the result (steps, learning rate, batch size, data, model, ...) is
 *   refused (`E_USAGE`) naming each difference, unless `--force-resume`. Logging and checkpoint cadence may change.
 * - **Finished.** A run whose checkpoint already reached the last step says so and does nothing.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BusyError, UsageError } from '../errors.js';

/** Settings that may change between a run and its resumption (they do not change the trained weights). */
export const RESUME_MAY_CHANGE = new Set(['forceResume', 'resume', 'output', 'logEvery', 'saveEvery', 'onStep', 'threads', 'kernels', 'tokenizer']);

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Takes the folder's lock; returns its release function. */
export function lockRunFolder(out: string): () => void {
  const path = join(out, 'train.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try { writeSync(fd, `${JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() })}\n`); } finally { closeSync(fd); }
      let held = true;
      const release = () => { if (held) { held = false; rmSync(path, { force: true }); } };
      process.once('exit', release);
      return () => { process.off('exit', release); release(); };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid?: unknown; host?: unknown; started?: unknown } = {};
      try { holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder; } catch { /* being written, or garbage */ }
      const pid = typeof holder.pid === 'number' ? holder.pid : undefined;
      const sameHost = holder.host === hostname();
      if (pid !== undefined && sameHost && !alive(pid)) { rmSync(path, { force: true }); continue; } // stale: the run was killed
      throw new BusyError(`another training run holds ${out} (${pid !== undefined ? `pid ${pid}` : 'unknown process'}${typeof holder.host === 'string' ? ` on ${holder.host}` : ''}, since ${String(holder.started ?? '?')})`, { file: path });
    }
  }
  throw new BusyError(`could not take the lock of ${out}`, { file: path });
}

/** The settings that differ between a checkpoint's configuration and the new one (`key: old -> new`). */
export function settingDifferences(old: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].filter((k) => !RESUME_MAY_CHANGE.has(k)).sort();
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  const out: string[] = [];
  for (const k of keys) {
    const a = JSON.stringify(old[k]), b = JSON.stringify(now[k]);
    if (a !== b) out.push(`${k}: ${show(old[k])} -> ${show(now[k])}`);
  }
  return out;
}

/** Refuses to resume under changed settings unless forced. */
export function checkResumeSettings(out: string, old: Record<string, unknown> | undefined, now: Record<string, unknown>, force: boolean): void {
  if (!old || force) return;
  const d = settingDifferences(old, now);
  if (d.length === 0) return;
  throw new UsageError(`${out} holds a run with other settings; resuming it under these would mix two runs: ${d.join('; ')}`, {
    field: 'resume', hint: 'rerun with the original settings, use a new --out, pass --no-resume to start over, or --force-resume to continue anyway',
  });
}

/** First and last logged loss of a run (for a finished run's summary); NaN when the log holds none. */
export function loggedLosses(out: string): { first: number; last: number } {
  const p = join(out, 'train_log.jsonl');
  let first = NaN, last = NaN;
  if (!existsSync(p)) return { first, last };
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    try {
      const l = (JSON.parse(line) as { loss?: unknown }).loss;
      if (typeof l === 'number') { if (Number.isNaN(first)) first = l; last = l; }
    } catch { /* not a log line */ }
  }
  return { first, last };
}
