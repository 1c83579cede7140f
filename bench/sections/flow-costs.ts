/**
 * Costs of the Flow itself: time from `flow.start()` to ready for 1 and 5 Executors, and the
 * latency each extra Executor in a chain adds (gRPC, c1, one 100 B document; the p50 for 1, 3 and
 * 5 chained Executors and the least-squares slope through them).
 */
import { startEchoFlow } from '../flow/echo-flow.js';
import { measureCell, type Cell, type MeasureContext } from '../measure.js';

/** What the section measured. */
export interface FlowCosts {
  /** `flow.start()` to ready, ms, every sample, by number of Executors. */
  startMs: Record<string, number[]>;
  /** p50 latency through n chained Executors, ms, by n. */
  chainP50Ms: Record<string, number>;
  /** The slope of p50 against n, ms per Executor. */
  addedPerExecutorMs: number | undefined;
  /** The cells behind `chainP50Ms` (for the JSON). */
  chainCells: Cell[];
  failures: string[];
}

/** Options of {@link runFlowCosts}. */
export interface FlowCostsOptions {
  /** Chain lengths whose latency is measured here (1 may come from the main table instead). */
  chain: number[];
  /** Extra start/close cycles per Executor count, for the median. */
  startRepeats: Record<string, number>;
  /** Figures already measured by the main table. */
  known: { startMs1?: number; p50Ms1?: number };
}

/** Least-squares slope of y over x. */
export function slope(points: [number, number][]): number | undefined {
  if (points.length < 2) return undefined;
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? undefined : num / den;
}

/** The median of `xs`. */
export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

export async function runFlowCosts(
  ctx: MeasureContext,
  o: FlowCostsOptions,
  log: (line: string) => void,
): Promise<FlowCosts> {
  const costs: FlowCosts = {
    startMs: {},
    chainP50Ms: {},
    addedPerExecutorMs: undefined,
    chainCells: [],
    failures: [],
  };
  const addStart = (n: number, ms: number) => (costs.startMs[n] ??= []).push(ms);
  if (o.known.startMs1 !== undefined) addStart(1, o.known.startMs1);
  if (o.known.p50Ms1 !== undefined) costs.chainP50Ms[1] = o.known.p50Ms1;
  const start = async (n: number) => {
    const f = await startEchoFlow('grpc', n);
    if ('unavailable' in f) throw new Error(f.unavailable);
    addStart(n, f.startMs);
    log(`flow start: ${n} Executor(s) in ${f.startMs.toFixed(0)} ms`);
    return f;
  };
  try {
    for (const n of o.chain) {
      const f = await start(n);
      try {
        const cell = await measureCell(
          ctx,
          { group: 'flowgate', protocol: 'grpc', port: f.port, pid: f.gatewayPid },
          'external',
          'text1',
          1,
        );
        costs.chainCells.push(cell);
        if (cell.status === 'ok' && cell.p50Ms !== undefined) costs.chainP50Ms[n] = cell.p50Ms;
        else costs.failures.push(`chain of ${n}: ${cell.reason ?? cell.status}`);
        log(`chain of ${n}: p50 ${cell.p50Ms?.toFixed(3) ?? '?'} ms`);
      } finally {
        await f.flow.close();
      }
    }
    for (const [n, times] of Object.entries(o.startRepeats)) {
      for (let i = 0; i < times; i++) await (await start(Number(n))).flow.close();
    }
  } catch (err) {
    costs.failures.push(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  costs.addedPerExecutorMs = slope(Object.entries(costs.chainP50Ms).map(([n, p]) => [Number(n), p]));
  return costs;
}
