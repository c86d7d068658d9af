/**
 * A progress bar for long work (indexing, encoding, training) on stderr, with a rate and an ETA.
 * It draws only when stderr is a TTY (or LION_PROGRESS=1), at most ~10 times a second, so logs and
 * CI output stay clean; LION_PROGRESS=0 turns it off.
 */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private done = 0;
  private readonly enabled: boolean;

  constructor(private readonly label: string, private readonly total?: number, private readonly unit = 'it') {
    const env = process.env.LION_PROGRESS;
    this.enabled = env === '1' || (env !== '0' && Boolean(process.stderr.isTTY));
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (this.enabled && now - this.last > 100) {
      this.last = now;
      this.draw(now);
    }
  }

  /** Items per second so far. */
  rate(): number {
    const s = (Date.now() - this.start) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  private draw(now: number): void {
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    let line = `${this.label} ${this.done}`;
    if (this.total) {
      const frac = Math.min(1, this.done / this.total);
      const w = 24;
      const fill = Math.round(frac * w);
      const eta = rate > 0 ? (this.total - this.done) / rate : 0;
      line = `${this.label} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${this.done}/${this.total} ETA ${eta.toFixed(0)}s`;
    }
    process.stderr.write(`\r${line} ${rate.toFixed(1)} ${this.unit}/s\x1b[K`);
  }

  finish(): void {
    if (this.enabled) {
      this.draw(Date.now());
      process.stderr.write('\n');
    }
  }
}
