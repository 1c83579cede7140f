/**
 * A closed-loop load: `concurrency` loops, each sending its next request as soon as the previous
 * answered. A warm-up runs first; only requests that both start and end inside the measured window
 * count, and `onWindow` marks its edges (the parent samples the server's CPU and memory there).
 */
import { Latencies, type LoadResult } from './stats.js';

/** Sends one request; rejects when it fails. */
export type Sender = () => Promise<void>;

/** Options of {@link runClosedLoop}. */
export interface ClosedLoopOptions {
  /** One sender per loop (a loop may own a connection). */
  senders: Sender[];
  warmupMs: number;
  durationMs: number;
  /** Longest wait for requests still in flight after the window, ms; then the caller cuts them. */
  drainMs?: number;
  onWindow?: (edge: 'start' | 'end') => void;
  tool: string;
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const latencies = new Latencies();
  let cut = false;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const windowStart = t0 + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  let startMarked = false;
  const markStart = () => {
    if (!startMarked) {
      startMarked = true;
      o.onWindow?.('start');
    }
  };
  const startTimer = setTimeout(markStart, o.warmupMs);
  const loop = async (send: Sender) => {
    for (;;) {
      const s = performance.now();
      if (s >= windowEnd) return;
      try {
        await send();
      } catch (err) {
        if (cut) return; // cut off after the window by the caller: not a failure
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (errors > 100) return; // broken: stop hammering
        continue;
      }
      const e = performance.now();
      if (e >= windowStart && e <= windowEnd) latencies.add(e - s);
    }
  };
  const loops = Promise.all(o.senders.map(loop));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => resolve(), o.warmupMs + o.durationMs);
    void loops.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  markStart();
  clearTimeout(startTimer);
  o.onWindow?.('end');
  const end = performance.now();
  // Let requests in flight finish, within reason; the caller then closes the connections.
  await Promise.race([loops, new Promise<void>((r) => setTimeout(r, o.drainMs ?? 3000).unref())]);
  cut = true;
  return {
    requests: latencies.count,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    elapsedMs: Math.max(0, Math.min(end, windowEnd) - windowStart),
    ...latencies.summary(),
    tool: o.tool,
  };
}
