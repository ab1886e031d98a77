/** Latency of the most recent inference calls, kept in a fixed ring so memory stays flat on a device. */

/** Latency percentiles in milliseconds and how many calls they cover. */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  count: number;
}

/** The last `size` latencies (ms) and their percentiles. */
export class LatencyRing {
  private readonly values: Float64Array;
  private count = 0;

  constructor(size = 2048) {
    this.values = new Float64Array(size);
  }

  /** Records one call's latency in milliseconds. */
  record(ms: number): void {
    this.values[this.count++ % this.values.length] = ms;
  }

  /** p50, p90 and p99 of the recorded calls (zeros before the first). */
  percentiles(): LatencyPercentiles {
    const n = Math.min(this.count, this.values.length);
    if (n === 0) return { p50: 0, p90: 0, p99: 0, count: 0 };
    const s = Array.from(this.values.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number): number => Number(s[Math.min(n - 1, Math.floor(q * n))].toFixed(3));
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), count: n };
  }
}
