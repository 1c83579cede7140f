/**
 * Measures one cell of the table: one target (raw echo, raw forwarder or flowgate Gateway), one
 * load generator, one payload, one concurrency.
 */
import { runH2load, runWrk } from './load/external.js';
import type { NodeLoad, LoadOutcome } from './load/node-load.js';
import type { DriverKind } from './load/drivers.js';
import type { LoadResult } from './load/stats.js';
import { payload, type PayloadName } from './payloads.js';
import { ProcWatch, type ProcWindow } from './proc.js';

export type BenchProtocol = 'grpc' | 'http' | 'websocket';
export const PROTOCOLS: readonly BenchProtocol[] = ['grpc', 'http', 'websocket'];

/** What is measured: the raw limit without a hop, the raw forwarder, or flowgate. */
export type Group = 'raw-echo' | 'raw-forwarder' | 'raw-forwarder-h2' | 'flowgate';
/** How an HTTP request carries its documents: the `/post` JSON body or a `DataRequestProto`. */
export type HttpBody = 'json' | 'protobuf';
/** A load generator that is not flowgate, or flowgate's own Client. */
export type Loadgen = 'external' | 'client';

/** One row of the table. */
export interface Cell {
  group: Group;
  protocol: BenchProtocol;
  loadgen: Loadgen;
  payload: PayloadName;
  concurrency: number;
  /** HTTP only: the body the load generator posts (absent: JSON). */
  body?: HttpBody;
  status: 'ok' | 'n/a' | 'failed';
  /** Why n/a or failed. */
  reason?: string;
  tool?: string;
  requests?: number;
  errors?: number;
  reqPerS?: number;
  /** Document payload (encoded DocumentArrayProto bytes) moved per second, one way, MB = 1e6 B. */
  mbPerS?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Server CPU time (user + system) per request, µs: the Gateway or the raw front server. */
  cpuUsPerReq?: number;
  peakRssMb?: number;
  /** This figure divided by the raw forwarder's in the same run (flowgate rows). */
  vsRaw?: { reqPerS?: number; p50?: number };
  /** CPU us/req divided by the raw forwarder's (same protocol, body, payload, concurrency). */
  cpuXRaw?: number;
  /** flowgate Client rows: req/s divided by the external load generator's on the same Gateway. */
  vsLoadgen?: number;
}

/** A server to measure. */
export interface Target {
  group: Group;
  protocol: BenchProtocol;
  port: number;
  /** The process whose CPU and memory are reported. */
  pid: number;
  /** HTTP only: post `DataRequestProto` bytes (`application/x-protobuf`) instead of JSON. */
  body?: HttpBody;
}

/** How cells are run. */
export interface MeasureContext {
  load: NodeLoad;
  /** Warm-up and measured window of a cell: 1 MiB documents at c64 need a longer one to fill the pipe. */
  window(payload: PayloadName, concurrency: number): { warmupMs: number; durationMs: number };
  /** External tools to use when present (false: the Node worker instead). */
  wrk: boolean;
  h2load: boolean;
}

/** Requests in flight in the check before an external tool's run. */
const CHECK_CONCURRENCY = 4;

const NODE_KIND: Record<BenchProtocol, DriverKind> = { grpc: 'grpc', http: 'http', websocket: 'ws' };

function toCell(
  base: Omit<Cell, 'status'>,
  outcome: { result: LoadResult; server: ProcWindow },
  docsBytes: number,
): Cell {
  const { result, server } = outcome;
  const reqPerS = result.elapsedMs > 0 ? (result.requests * 1000) / result.elapsedMs : 0;
  const cell: Cell = {
    ...base,
    status: result.errors > 0 ? 'failed' : 'ok',
    tool: result.tool,
    requests: result.requests,
    errors: result.errors,
    reqPerS,
    mbPerS: (reqPerS * docsBytes) / 1e6,
    // wrk prints 0 latencies when nothing completed
    p50Ms: result.requests > 0 ? result.p50Ms : undefined,
    p99Ms: result.requests > 0 ? result.p99Ms : undefined,
    cpuUsPerReq:
      server.cpuMs !== undefined && result.requests > 0 ? (server.cpuMs * 1000) / result.requests : undefined,
    peakRssMb: server.peakRssMb,
  };
  if (result.errors > 0) cell.reason = `${result.errors} failed requests: ${result.firstError ?? '?'}`;
  else if (result.requests === 0) cell.reason = 'no request completed inside the measured window';
  return cell;
}

function fromOutcome(base: Omit<Cell, 'status'>, o: LoadOutcome, docsBytes: number): Cell {
  if (o.status === 'ok') return toCell(base, o, docsBytes);
  return { ...base, status: o.status, reason: o.status === 'n/a' ? o.reason : o.message };
}

/** Runs one cell. Never throws: a failure is a `failed` cell. */
export async function measureCell(
  ctx: MeasureContext,
  target: Target,
  loadgen: Loadgen,
  payloadName: PayloadName,
  concurrency: number,
): Promise<Cell> {
  const p = payload(payloadName);
  const protobuf = target.protocol === 'http' && target.body === 'protobuf';
  const base = {
    group: target.group,
    protocol: target.protocol,
    loadgen,
    payload: payloadName,
    concurrency,
    ...(target.protocol === 'http' ? { body: target.body ?? 'json' } : {}),
  };
  const { warmupMs, durationMs } = ctx.window(payloadName, concurrency);
  const job = {
    port: target.port,
    payload: payloadName,
    flowgate: target.group === 'flowgate',
    concurrency,
    warmupMs,
    durationMs,
    ...(protobuf ? { body: 'protobuf' as const } : {}),
  };
  const watch = new ProcWatch(target.pid);
  try {
    if (loadgen === 'client') {
      const o = await ctx.load.run({ ...job, kind: `client-${target.protocol}` }, watch);
      return fromOutcome(base, o, p.docsBytes.length);
    }
    const external =
      target.protocol === 'grpc' && ctx.h2load
        ? runH2load
        : target.protocol === 'http' && ctx.wrk
          ? runWrk
          : undefined;
    const kind = NODE_KIND[target.protocol];
    if (!external) return fromOutcome(base, await ctx.load.run({ ...job, kind }, watch), p.docsBytes.length);
    // wrk and h2load see only transport status, and flowgate answers an Executor error with HTTP
    // 200 / gRPC OK and an error header: a round of requests through the Node worker, every answer
    // checked, comes first.
    const check = await ctx.load.run({
      ...job,
      kind,
      concurrency: Math.min(concurrency, CHECK_CONCURRENCY),
      probeOnly: true,
    });
    if (check.status !== 'ok') return fromOutcome(base, check, p.docsBytes.length);
    if (check.result.errors > 0) {
      return {
        ...base,
        status: 'failed',
        reason: `check before ${target.protocol === 'http' ? 'wrk' : 'h2load'}: ${check.result.errors} failed requests: ${check.result.firstError ?? '?'}`,
      };
    }
    const out = await external({
      port: target.port,
      body: target.protocol === 'http' && !protobuf ? p.json : p.frame,
      ...(protobuf ? { contentType: 'application/x-protobuf' } : {}),
      name: `${target.group}-${target.protocol}${protobuf ? '-pb' : ''}-${payloadName}`,
      concurrency,
      warmupMs,
      durationMs,
      watch,
    });
    return toCell(base, out, p.docsBytes.length);
  } catch (err) {
    return { ...base, status: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
}
