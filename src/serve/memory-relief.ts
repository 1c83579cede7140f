import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The environment variable that sets {@link MemoryReliefOptions.thresholdMb} (0: off). */
export const MEMORY_RELIEF_ENV = 'FLOWGATE_MEMORY_RELIEF_MB';

/** Options of {@link startMemoryRelief}. */
export interface MemoryReliefOptions {
  /** Collect when the resident memory is this many MB above its level after the last collection; 0: never. Default 64. */
  thresholdMb?: number;
  /** How often the process is looked at, ms. Default 1000. */
  intervalMs?: number;
  /** Collect only when the event loop was busy less than this share of the last interval. Default 0.05. */
  maxBusy?: number;
  /** Reads the resident memory, bytes (default `process.memoryUsage.rss`). */
  readRss?: () => number;
  /** Reads how busy the event loop was since the last call, 0-1 (default: `eventLoopUtilization`). */
  readBusy?: () => number;
  /** A full garbage collection (default: V8's, exposed for this). */
  collect?: () => void;
}

/** A running {@link startMemoryRelief}. */
export interface MemoryRelief {
  /** Full collections run so far. */
  readonly collections: number;
  stop(): void;
}

/**
 * Gives memory back after a big request. A process that goes quiet after a request of tens of MB
 * keeps it resident: V8 collects when it allocates, and an idle process allocates nothing, so the
 * request's strings, parsed JSON and buffers stay until the next request (docs/memory.md). Once a
 * second this looks at the resident memory: when it is `thresholdMb` above its level after the last
 * collection and the event loop is (nearly) idle, it runs one full collection (tens of ms, once per
 * big request; never under load, when V8 collects on its own).
 *
 * @example
 * ```ts
 * const relief = startMemoryRelief({ thresholdMb: 64 });
 * // ... serve
 * relief.stop();
 * ```
 */
export function startMemoryRelief(options: MemoryReliefOptions = {}): MemoryRelief {
  const threshold = (options.thresholdMb ?? 64) * 2 ** 20;
  const readRss = options.readRss ?? (() => process.memoryUsage.rss());
  const readBusy = options.readBusy ?? busySinceLastCall();
  const maxBusy = options.maxBusy ?? 0.05;
  let collect = options.collect;
  let floor = readRss();
  let collections = 0;
  const timer = setInterval(() => {
    const rss = readRss();
    const busy = readBusy();
    if (rss < floor) floor = rss;
    if (rss - floor <= threshold || busy >= maxBusy) return;
    collect ??= exposedGc();
    collect();
    collections++;
    floor = readRss();
  }, options.intervalMs ?? 1000);
  timer.unref();
  return {
    get collections() {
      return collections;
    },
    stop: () => clearInterval(timer),
  };
}

/** The {@link MemoryReliefOptions.thresholdMb} from `FLOWGATE_MEMORY_RELIEF_MB` (default 64). */
export function memoryReliefThresholdMb(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env[MEMORY_RELIEF_ENV]);
  return env[MEMORY_RELIEF_ENV] !== undefined && Number.isFinite(given) && given >= 0 ? given : 64;
}

function busySinceLastCall(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return busy;
  };
}

/** V8's `gc()`, without starting Node with `--expose-gc` (the flag applies to new contexts). */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
