/**
 * The Node load generator, in its own process so that it does not share the server's event loop.
 * The parent sends `{ type: 'run', job }`; the worker answers `{ type: 'window', edge }` at the edges
 * of the measured window and then `{ type: 'result', result }` (or `unavailable` / `failed`).
 */
import type { PayloadName } from '../payloads.js';
import { runClosedLoop } from './closed-loop.js';
import { openDriver, Unavailable, type DriverKind } from './drivers.js';
import type { LoadResult } from './stats.js';

/** One load run. */
export interface LoadJob {
  kind: DriverKind;
  port: number;
  payload: PayloadName;
  flowgate: boolean;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** HTTP only: post `DataRequestProto` bytes as `application/x-protobuf` instead of JSON. */
  body?: 'json' | 'protobuf';
  /**
   * Only check: one full answer, then rounds of one request on each of `concurrency` connections
   * for about 200 ms (at least one round), every answer checked; no timing.
   */
  probeOnly?: boolean;
}

/** What the worker sends back. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'window'; edge: 'start' | 'end' }
  | { type: 'result'; result: LoadResult }
  | { type: 'unavailable'; reason: string }
  | { type: 'failed'; message: string };

/** How long a check (`probeOnly`) goes on, ms. */
const CHECK_MS = 200;

const send = (m: WorkerMessage) => process.send!(m);
const describe = (err: unknown): string => (err instanceof Error ? err.message : JSON.stringify(err));

async function run(job: LoadJob): Promise<void> {
  const driver = openDriver(job);
  try {
    const senders = await driver.senders(job.concurrency);
    if (job.probeOnly) {
      // Rounds of one request per connection, every answer checked, for about CHECK_MS: at least
      // one round, so a slow payload costs one round trip.
      const t0 = performance.now();
      let requests = 1;
      const failed: PromiseRejectedResult[] = [];
      do {
        const outcomes = await Promise.allSettled(senders.map((s) => s()));
        requests += outcomes.length;
        failed.push(...outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected'));
      } while (performance.now() - t0 < CHECK_MS && failed.length === 0);
      const first = failed.length ? describe(failed[0]!.reason) : undefined;
      send({
        type: 'result',
        result: {
          requests,
          errors: failed.length,
          ...(first !== undefined ? { firstError: first } : {}),
          elapsedMs: 0,
          p50Ms: undefined,
          p99Ms: undefined,
          meanMs: undefined,
          tool: 'probe',
        },
      });
      return;
    }
    const result = await runClosedLoop({
      senders,
      warmupMs: job.warmupMs,
      durationMs: job.durationMs,
      onWindow: (edge) => send({ type: 'window', edge }),
      tool: job.kind.startsWith('client-') ? 'flowgate Client' : `node ${job.kind} (worker process)`,
    });
    send({ type: 'result', result });
  } catch (err) {
    if (err instanceof Unavailable) send({ type: 'unavailable', reason: err.message });
    else send({ type: 'failed', message: describe(err) });
  } finally {
    await driver.close();
  }
}

if (process.send) {
  process.on('message', (m: { type: string; job: LoadJob }) => {
    if (m.type === 'run') void run(m.job);
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
