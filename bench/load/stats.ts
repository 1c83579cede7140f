/** Latency statistics of one measured window. */

/** What one load run reports. */
export interface LoadResult {
  /** Requests completed inside the measured window. */
  requests: number;
  /** Failed requests, warm-up included. */
  errors: number;
  firstError?: string;
  /** Length of the measured window, ms. */
  elapsedMs: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  meanMs: number | undefined;
  /** Which load generator produced it. */
  tool: string;
}

/** p-th percentile (0..100) of ascending `sorted`, nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** A growable list of latencies in ms. */
export class Latencies {
  private values = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): Pick<LoadResult, 'p50Ms' | 'p99Ms' | 'meanMs'> {
    const sorted = this.values.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      meanMs: this.n ? sum / this.n : undefined,
    };
  }
}
