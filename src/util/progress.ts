/**
 * A progress bar for long work (indexing, encoding, mining, re-ranking, training) on stderr, with the count,
 * the total when known, a rate, an ETA and an optional note (e.g. the current loss and dev metric). It draws
 * only when stderr is a TTY, when the command was given `--progress` (`force`), or when LION_PROGRESS=1, at
 * most ~10 times a second, so logs and CI output stay clean; LION_PROGRESS=0 turns it off.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a progress display is shown: `--progress` forces it; otherwise a TTY on stderr, overridden by LION_PROGRESS. */
export function progressEnabled(force = false): boolean {
  const env = process.env.LION_PROGRESS;
  if (env === '0') return false;
  return force || env === '1' || Boolean(process.stderr.isTTY);
}

/** "1h02m", "3m05s", "12s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private done = 0;
  private note = '';
  private readonly enabled: boolean;
  private readonly tty: boolean;

  constructor(private readonly label: string, private total?: number, private readonly unit = 'it', force = false) {
    this.enabled = progressEnabled(force);
    this.tty = Boolean(process.stderr.isTTY);
  }

  /** Sets (or corrects) the total once it is known. */
  setTotal(total: number | undefined): void {
    this.total = total;
  }

  /** Text shown after the bar, e.g. `loss 0.412 nDCG@10 0.281`. */
  setNote(note: string): void {
    this.note = note;
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    // Without a terminal (forced output into a log) draw a line every 2 s instead of redrawing in place.
    if (this.enabled && now - this.last > (this.tty ? 100 : 2000)) {
      this.last = now;
      this.draw(now);
    }
  }

  /** Items done so far. */
  get count(): number {
    return this.done;
  }

  /** Items per second so far. */
  rate(): number {
    const s = (Date.now() - this.start) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  /** The line the bar shows now (without terminal control codes). */
  line(now = Date.now()): string {
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    let line = `${this.label} ${this.done} ${this.unit}`;
    if (this.total) {
      const frac = Math.min(1, this.done / this.total);
      const w = 24;
      const fill = Math.round(frac * w);
      const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
      line = `${this.label} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${this.done}/${this.total} ${(100 * frac).toFixed(0)}% ETA ${formatSeconds(eta)}`;
    }
    return `${line} ${rate.toFixed(1)} ${this.unit}/s elapsed ${formatSeconds(secs)}${this.note ? ` ${this.note}` : ''}`;
  }

  private draw(now: number): void {
    process.stderr.write(this.tty ? `\r${this.line(now)}\x1b[K` : `${this.line(now)}\n`);
  }

  finish(): void {
    if (this.enabled) {
      this.draw(Date.now());
      if (this.tty) process.stderr.write('\n');
    }
  }
}

/**
 * Number of non-blank lines of a text file (a BEIR folder: its `name` file), for a progress total; undefined
 * for gzip files or when the file cannot be read. Reads the file once in 1 MiB chunks.
 */
export function countLines(path: string, name?: string): number | undefined {
  try {
    let p = path;
    if (statSync(p).isDirectory()) { if (!name) return undefined; p = join(p, name); }
    if (p.endsWith('.gz')) return undefined;
    const fd = openSync(p, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let n = 0, content = false, got: number;
      while ((got = readSync(fd, buf, 0, buf.length, null)) > 0) {
        for (let i = 0; i < got; i++) {
          const c = buf[i]!;
          if (c === 10) { if (content) n++; content = false; } else if (c !== 13 && c !== 32 && c !== 9) content = true;
        }
      }
      return content ? n + 1 : n;
    } finally { closeSync(fd); }
  } catch {
    return undefined;
  }
}
