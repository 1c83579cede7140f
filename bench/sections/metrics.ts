/**
 * Throughput with metrics on versus off: {@link METRICS_ON} are the `configGateway` options that
 * turn the Gateway's Prometheus metrics on (`monitoring: true`, a free `portMonitoring`; see
 * docs/observability.md), {@link METRICS_OFF} those that leave them off (the default).
 */
import { startEchoFlow } from '../flow/echo-flow.js';
import { measureCell, type Cell, type MeasureContext } from '../measure.js';

/** `configGateway` options with metrics on; `undefined` would report the section as n/a. */
export const METRICS_ON: Record<string, unknown> | undefined = { monitoring: true };
/** `configGateway` options with metrics off. */
export const METRICS_OFF: Record<string, unknown> = {};

/** What the section measured. */
export interface MetricsCost {
  status: 'ok' | 'n/a' | 'failed';
  reason?: string;
  off?: Cell;
  on?: Cell;
  /** req/s with metrics on divided by req/s with them off (gRPC, c64, one 100 B document). */
  ratio?: number;
}

/** Measures `rounds` alternating off/on rounds (each starts its own Flows) and keeps the best of each. */
export async function runMetricsCost(
  ctx: MeasureContext,
  log: (line: string) => void,
  rounds = 3,
): Promise<MetricsCost> {
  if (METRICS_ON === undefined) {
    return {
      status: 'n/a',
      reason: 'flowgate has no metrics yet: set METRICS_ON in bench/sections/metrics.ts',
    };
  }
  const measure = async (options: Record<string, unknown>): Promise<Cell> => {
    const f = await startEchoFlow('grpc', 1, options);
    if ('unavailable' in f) throw new Error(f.unavailable);
    try {
      return await measureCell(
        ctx,
        { group: 'flowgate', protocol: 'grpc', port: f.port, pid: f.gatewayPid },
        'external',
        'text1',
        64,
      );
    } finally {
      await f.flow.close();
    }
  };
  try {
    // Alternating rounds, best of each: one short window per side is at the mercy of the machine.
    const offs: Cell[] = [];
    const ons: Cell[] = [];
    for (let round = 0; round < rounds; round++) {
      offs.push(await measure(METRICS_OFF));
      ons.push(await measure(METRICS_ON));
    }
    const best = (cells: Cell[]) => cells.reduce((a, b) => ((b.reqPerS ?? 0) > (a.reqPerS ?? 0) ? b : a));
    const off = best(offs);
    const on = best(ons);
    const ratio = off.reqPerS && on.reqPerS !== undefined ? on.reqPerS / off.reqPerS : undefined;
    log(`metrics: off ${off.reqPerS?.toFixed(0)} req/s, on ${on.reqPerS?.toFixed(0)} req/s`);
    const failed = [...offs, ...ons].some((c) => c.status !== 'ok');
    return { status: failed ? 'failed' : 'ok', off, on, ...(ratio !== undefined ? { ratio } : {}) };
  } catch (err) {
    return { status: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
}
