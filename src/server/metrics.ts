/**
 * Request metrics for `GET /api/metrics`: counts per route and per status, requests in flight, and latency
 * percentiles over a sliding window of the most recent requests (a fixed ring buffer, so memory stays
 * bounded however long the server runs). Percentiles use the nearest-rank definition on the window.
 */

/** Percentiles of a sample by nearest rank; `p` in (0, 100]. The sample is sorted in place. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  /** Number of requests in the window the percentiles describe. */
  window: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

class Window {
  private readonly buf: Float64Array;
  private n = 0;
  private next = 0;
  constructor(size: number) {
    this.buf = new Float64Array(size);
  }
  add(ms: number): void {
    this.buf[this.next] = ms;
    this.next = (this.next + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
  }
  summary(): LatencySummary {
    const s = this.buf.slice(0, this.n).sort();
    let sum = 0;
    for (const v of s) sum += v;
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      window: this.n,
      p50: r(percentile(s, 50)),
      p90: r(percentile(s, 90)),
      p99: r(percentile(s, 99)),
      max: r(this.n ? s[this.n - 1]! : 0),
      mean: r(this.n ? sum / this.n : 0),
    };
  }
}

export class Metrics {
  private readonly started = Date.now();
  private total = 0;
  private inFlight = 0;
  private readonly byRoute = new Map<string, { count: number; window: Window }>();
  private readonly byStatus = new Map<number, number>();
  private readonly all: Window;

  constructor(private readonly windowSize = 10_000) {
    this.all = new Window(windowSize);
  }

  /** Call when a request arrives; call the returned function once when its reply is finished. */
  begin(): (route: string, status: number) => void {
    const t0 = process.hrtime.bigint();
    this.inFlight++;
    let ended = false;
    return (route, status) => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      this.total++;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      this.all.add(ms);
      let r = this.byRoute.get(route);
      if (!r) {
        r = { count: 0, window: new Window(Math.min(this.windowSize, 2048)) };
        this.byRoute.set(route, r);
      }
      r.count++;
      r.window.add(ms);
      this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    };
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  snapshot(): Record<string, unknown> {
    const mem = process.memoryUsage();
    return {
      uptime_s: Math.round((Date.now() - this.started) / 100) / 10,
      requests: {
        total: this.total,
        in_flight: this.inFlight,
        by_status: Object.fromEntries([...this.byStatus].sort((a, b) => a[0] - b[0])),
        by_route: Object.fromEntries(
          [...this.byRoute].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, { count: v.count, latency_ms: v.window.summary() }]),
        ),
      },
      latency_ms: this.all.summary(),
      memory_mb: { rss: Math.round(mem.rss / 1048576), heap_used: Math.round(mem.heapUsed / 1048576) },
    };
  }
}
