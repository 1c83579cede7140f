import type { ReplicaHealth } from '../runtime/replica-set.js';

/** Options of {@link FlowStats}. */
export interface FlowStatsOptions {
  /** The Executors in the order to list them (the graph's); others are listed after them. */
  names?: string[];
  /** Each deployment's replicas, asked at every {@link FlowStats.snapshot} (`ConnectionPool.health`). */
  health?: () => Record<string, ReplicaHealth>;
  /** The window of the request rate and the percentiles, ms. Default 10 s. */
  windowMs?: number;
  /** How many recent call durations are kept per Executor for the percentiles. Default 1024. */
  samples?: number;
}

/**
 * How an Executor is doing: `serving` (every replica), `degraded` (some), `down` (none, and some
 * fail or drain) or `idle` (not connected yet: the Gateway connects on the first request).
 */
export type ExecutorState = 'serving' | 'degraded' | 'down' | 'idle';

/** One Executor in {@link FlowStatsSnapshot}. */
export interface ExecutorStats {
  name: string;
  state: ExecutorState;
  replicas: ReplicaHealth;
  /** Calls from the Gateway since it started, and how many of them failed. */
  requests: number;
  errors: number;
  /** Calls and failed calls per second over the window. */
  rate: number;
  errorRate: number;
  /** Latency of the calls that ended in the window, ms; null when there were none. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** What `GET /flow/stats` answers. */
export interface FlowStatsSnapshot {
  windowSeconds: number;
  executors: ExecutorStats[];
}

const SECOND = 1000;

/** Counters of one deployment: per-second buckets for the rate, a ring of durations. */
class Series {
  requests = 0;
  errors = 0;
  firstAt = 0;
  readonly bucketSec: Float64Array;
  readonly bucketCalls: Uint32Array;
  readonly bucketErrors: Uint32Array;
  readonly durations: Float64Array;
  readonly endedAt: Float64Array;
  next = 0;

  constructor(buckets: number, samples: number) {
    this.bucketSec = new Float64Array(buckets).fill(-1);
    this.bucketCalls = new Uint32Array(buckets);
    this.bucketErrors = new Uint32Array(buckets);
    this.durations = new Float64Array(samples);
    this.endedAt = new Float64Array(samples).fill(-Infinity);
  }
}

/**
 * The Gateway's live numbers about each Executor it calls: request rate, error count and latency
 * percentiles over a sliding window, plus each deployment's replica health. Always on and cheap:
 * {@link record} is a handful of array writes (it is `ConnectionPool`'s `onCall`); the work happens
 * in {@link snapshot}, when the `/flow` page asks.
 *
 * @example
 * ```ts
 * const stats = new FlowStats({ health: () => pool.health() });
 * const pool = new ConnectionPool(addresses, { onCall: stats.record });
 * stats.snapshot().executors[0]; // { name: 'encoder', rate: 12.5, p50Ms: 3.1, ... }
 * ```
 */
export class FlowStats {
  private readonly series = new Map<string, Series>();
  private readonly windowMs: number;
  private readonly buckets: number;
  private readonly samples: number;

  constructor(private readonly options: FlowStatsOptions = {}) {
    this.windowMs = Math.max(SECOND, options.windowMs ?? 10 * SECOND);
    this.buckets = Math.ceil(this.windowMs / SECOND) + 1;
    this.samples = Math.max(16, options.samples ?? 1024);
  }

  /** Records one call to `name` that took `ms` and succeeded (`ok`) or failed. */
  readonly record = (name: string, ms: number, ok: boolean): void => {
    let s = this.series.get(name);
    const now = Date.now();
    if (!s) {
      s = new Series(this.buckets, this.samples);
      s.firstAt = now - ms;
      this.series.set(name, s);
    }
    s.requests++;
    const sec = Math.floor(now / SECOND);
    const b = sec % this.buckets;
    if (s.bucketSec[b] !== sec) {
      s.bucketSec[b] = sec;
      s.bucketCalls[b] = 0;
      s.bucketErrors[b] = 0;
    }
    s.bucketCalls[b]!++;
    if (!ok) {
      s.errors++;
      s.bucketErrors[b]!++;
    }
    s.durations[s.next] = ms;
    s.endedAt[s.next] = now;
    s.next = (s.next + 1) % this.samples;
  };

  /** The numbers of every Executor now. */
  snapshot(): FlowStatsSnapshot {
    const now = Date.now();
    const health = this.options.health?.() ?? {};
    const names = [
      ...new Set([...(this.options.names ?? []), ...Object.keys(health), ...this.series.keys()]),
    ];
    return {
      windowSeconds: this.windowMs / SECOND,
      executors: names.map((name) => this.executor(name, health[name], now)),
    };
  }

  private executor(name: string, health: ReplicaHealth | undefined, now: number): ExecutorStats {
    const replicas = health ?? { total: 0, serving: 0, draining: 0, failing: 0 };
    const s = this.series.get(name);
    const base = { name, state: stateOf(replicas), replicas };
    if (!s) return { ...base, requests: 0, errors: 0, rate: 0, errorRate: 0, p50Ms: null, p99Ms: null };
    const oldestSec = Math.floor((now - this.windowMs) / SECOND);
    let calls = 0;
    let errors = 0;
    for (let i = 0; i < this.buckets; i++) {
      if (s.bucketSec[i]! <= oldestSec) continue;
      calls += s.bucketCalls[i]!;
      errors += s.bucketErrors[i]!;
    }
    // Whole seconds are counted: the window spans from the oldest counted second until now.
    const spanMs = Math.max(SECOND, now - Math.max((oldestSec + 1) * SECOND, s.firstAt));
    const recent: number[] = [];
    for (let i = 0; i < this.samples; i++)
      if (s.endedAt[i]! > now - this.windowMs) recent.push(s.durations[i]!);
    recent.sort((a, b) => a - b);
    return {
      ...base,
      requests: s.requests,
      errors: s.errors,
      rate: round((calls * SECOND) / spanMs),
      errorRate: round((errors * SECOND) / spanMs),
      p50Ms: percentile(recent, 0.5),
      p99Ms: percentile(recent, 0.99),
    };
  }
}

function stateOf(r: ReplicaHealth): ExecutorState {
  if (r.total > 0 && r.serving === r.total) return 'serving';
  if (r.serving > 0) return 'degraded';
  return r.failing > 0 || r.draining > 0 ? 'down' : 'idle';
}

/** The nearest-rank percentile of sorted values, ms rounded to 0.01; null when there are none. */
function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
