/**
 * The main table: raw echo servers, raw forwarders and flowgate's Gateways, per protocol, payload
 * and concurrency. Each protocol's raw cells run right before its flowgate cells, so the two sides
 * of a ratio see the same machine conditions.
 */
import { benchFile, startChild, type BenchChild } from '../child.js';
import { startEchoFlow } from '../flow/echo-flow.js';
import {
  measureCell,
  PROTOCOLS,
  type BenchProtocol,
  type Cell,
  type Group,
  type HttpBody,
  type Loadgen,
  type MeasureContext,
  type Target,
} from '../measure.js';
import type { PayloadName } from '../payloads.js';
import { rssMb } from '../proc.js';
import type { RawKind } from '../raw/serve.js';
import { bigRequest, idleRssAfterOneRequest, type BigRequest } from './memory.js';

/** A payload at a concurrency. */
export type CellKey = [PayloadName, number];

/** Which cells a run measures (each list in table order). */
export interface ThroughputPlan {
  /** Raw forwarder and flowgate Gateway cells (external load generator). */
  cells: CellKey[];
  /** Raw echo (no hop) cells (none in quick mode: the gRPC echo still runs, as the forwarders' backend). */
  rawEcho: CellKey[];
  /** flowgate Client cells. */
  client: CellKey[];
  /** HTTP rows with `application/x-protobuf` bodies (Gateway; raw forwarder too when `protobufRaw`). */
  protobuf: CellKey[];
  protobufRaw: boolean;
  /** Raw gRPC forwarder whose hop is a plain `node:http2` client (1 MiB tensor), by concurrency. */
  h2Hop: number[];
  /** Size of the one big request sent to each Gateway after its cells, MB (0: none). */
  memoryMb: number;
}

/** What the section found besides the cells. */
export interface ThroughputResult {
  cells: Cell[];
  /** Resident memory of each Gateway (and raw forwarder) after start and one request, MB. */
  idleRssMb: Partial<Record<`${Group}:${BenchProtocol}`, number>>;
  /** `flow.start()` with one Executor, per protocol, ms. */
  startMs: Partial<Record<BenchProtocol, number>>;
  /** Protocols whose Gateway is not available, and why. */
  unavailable: Partial<Record<BenchProtocol, string>>;
  /** One big request per Gateway (and per HTTP body), with its RSS rise. */
  memory: BigRequest[];
}

const has = (keys: CellKey[], p: PayloadName) => keys.filter(([q]) => q === p);

const RAW: Record<BenchProtocol, { echo: RawKind; fwd: RawKind }> = {
  grpc: { echo: 'grpc-echo', fwd: 'grpc-fwd' },
  http: { echo: 'http-echo', fwd: 'http-fwd' },
  websocket: { echo: 'ws-echo', fwd: 'ws-fwd' },
};

type Log = (line: string) => void;

/** One line of progress per cell. */
export function describeCell(c: Cell): string {
  const head = `${c.group} ${c.protocol}${c.body === 'protobuf' ? ' (protobuf)' : ''} ${c.loadgen} ${c.payload} c${c.concurrency}`;
  if (c.status !== 'ok') return `${head}: ${c.status} (${c.reason ?? ''})`;
  return `${head}: ${c.reqPerS?.toFixed(0)} req/s, p50 ${c.p50Ms?.toFixed(2)} ms [${c.tool}]`;
}

async function cellsFor(
  ctx: MeasureContext,
  target: Target,
  loadgen: Loadgen,
  keys: CellKey[],
  log: Log,
): Promise<Cell[]> {
  const out: Cell[] = [];
  for (const [p, c] of keys) {
    const cell = await measureCell(ctx, target, loadgen, p, c);
    log(describeCell(cell));
    out.push(cell);
  }
  return out;
}

function naCells(
  group: Group,
  protocol: BenchProtocol,
  loadgen: Loadgen,
  keys: CellKey[],
  reason: string,
  body?: HttpBody,
): Cell[] {
  return keys.map(([payload, concurrency]): Cell => ({
    group,
    protocol,
    loadgen,
    payload,
    concurrency,
    ...(body ? { body } : {}),
    status: 'n/a',
    reason,
  }));
}

export async function runThroughput(
  ctx: MeasureContext,
  plan: ThroughputPlan,
  log: Log,
): Promise<ThroughputResult> {
  const result: ThroughputResult = { cells: [], idleRssMb: {}, startMs: {}, unavailable: {}, memory: [] };
  const serve = benchFile('./raw/serve.ts');
  const backend = await startChild(serve, ['grpc-echo']);
  const raw = new Map<RawKind, BenchChild>([['grpc-echo', backend]]);
  try {
    const withEcho = plan.rawEcho.length > 0;
    const kinds: RawKind[] = PROTOCOLS.flatMap((p) => [
      ...(p === 'grpc' || !withEcho ? [] : [RAW[p].echo]),
      RAW[p].fwd,
    ]);
    if (plan.h2Hop.length) kinds.push('grpc-fwd-h2');
    const others = await Promise.all(
      kinds.map(async (k) => [k, await startChild(serve, [k, `127.0.0.1:${backend.port}`])] as const),
    );
    for (const [k, child] of others) raw.set(k, child);
    for (const protocol of PROTOCOLS) {
      const echo = raw.get(RAW[protocol].echo);
      const fwd = raw.get(RAW[protocol].fwd)!;
      const fwdTarget: Target = { group: 'raw-forwarder', protocol, port: fwd.port, pid: fwd.pid };
      if (echo && withEcho) {
        const echoTarget: Target = { group: 'raw-echo', protocol, port: echo.port, pid: echo.pid };
        result.cells.push(...(await cellsFor(ctx, echoTarget, 'external', plan.rawEcho, log)));
      }
      result.idleRssMb[`raw-forwarder:${protocol}`] = rssMb(fwd.pid);
      result.cells.push(...(await cellsFor(ctx, fwdTarget, 'external', plan.cells, log)));
      if (protocol === 'http' && plan.protobufRaw) {
        const pb: Target = { ...fwdTarget, body: 'protobuf' };
        result.cells.push(...(await cellsFor(ctx, pb, 'external', plan.protobuf, log)));
      }
      const h2 = raw.get('grpc-fwd-h2');
      if (protocol === 'grpc' && h2) {
        const h2Target: Target = { group: 'raw-forwarder-h2', protocol, port: h2.port, pid: h2.pid };
        const keys = plan.h2Hop.map((c): CellKey => ['tensor1m', c]);
        result.cells.push(...(await cellsFor(ctx, h2Target, 'external', keys, log)));
      }
      result.cells.push(...(await flowgateCells(ctx, protocol, plan, result, log)));
    }
  } finally {
    await Promise.all([...raw.values()].map((c) => c.stop()));
  }
  return result;
}

async function bigRequests(
  protocol: BenchProtocol,
  port: number,
  pid: number,
  mb: number,
  result: ThroughputResult,
  log: Log,
): Promise<void> {
  if (mb <= 0) return;
  const bodies: HttpBody[] = protocol === 'http' ? ['json', 'protobuf'] : ['json'];
  for (const body of bodies) {
    const big = await bigRequest(protocol, port, pid, mb, body);
    log(
      `memory ${protocol}${protocol === 'http' ? ` (${body})` : ''}: one ${big.requestMb.toFixed(0)} MB request: ${big.status === 'ok' ? `RSS ${big.beforeMb?.toFixed(0)} -> ${big.peakMb?.toFixed(0)} MB in ${big.ms?.toFixed(0)} ms` : `${big.status} (${big.reason ?? ''})`}`,
    );
    result.memory.push(big);
  }
}

function allNa(protocol: BenchProtocol, plan: ThroughputPlan, reason: string): Cell[] {
  return [
    ...naCells('flowgate', protocol, 'external', plan.cells, reason),
    ...(protocol === 'http'
      ? naCells('flowgate', protocol, 'external', plan.protobuf, reason, 'protobuf')
      : []),
    ...naCells('flowgate', protocol, 'client', plan.client, reason),
  ];
}

async function flowgateCells(
  ctx: MeasureContext,
  protocol: BenchProtocol,
  plan: ThroughputPlan,
  result: ThroughputResult,
  log: Log,
): Promise<Cell[]> {
  let started;
  try {
    started = await startEchoFlow(protocol, 1);
  } catch (err) {
    const reason = `the Flow did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    log(`flowgate ${protocol}: failed (${reason})`);
    return allNa(protocol, plan, reason).map((c) => ({ ...c, status: 'failed' as const }));
  }
  if ('unavailable' in started) {
    const reason = `not available: ${started.unavailable}`;
    result.unavailable[protocol] = started.unavailable;
    log(`flowgate ${protocol}: n/a (${started.unavailable})`);
    return allNa(protocol, plan, reason);
  }
  const { flow, port, gatewayPid, startMs } = started;
  result.startMs[protocol] = startMs;
  log(`flowgate ${protocol}: Flow with 1 Executor started in ${startMs.toFixed(0)} ms`);
  try {
    const target: Target = { group: 'flowgate', protocol, port, pid: gatewayPid };
    // Idle: after start and one answered request (connections to the Executor open), before load.
    result.idleRssMb[`flowgate:${protocol}`] = await idleRssAfterOneRequest(
      ctx.load,
      protocol,
      port,
      gatewayPid,
    );
    // Payload by payload (the 1 MiB one last), so that the peak RSS of the text payloads is not
    // what the tensors left behind.
    const cells: Cell[] = [];
    const payloads = [...new Set([...plan.cells, ...plan.client].map(([p]) => p))];
    for (const p of payloads) {
      cells.push(...(await cellsFor(ctx, target, 'external', has(plan.cells, p), log)));
      if (protocol === 'http') {
        const pb: Target = { ...target, body: 'protobuf' };
        cells.push(...(await cellsFor(ctx, pb, 'external', has(plan.protobuf, p), log)));
      }
      cells.push(...(await cellsFor(ctx, target, 'client', has(plan.client, p), log)));
      // The big request comes after the 1-doc cells (whose peak RSS is a target) and before the
      // bigger payloads, whose leftovers would make its 'before' figure meaningless.
      if (p === 'text1') await bigRequests(protocol, port, gatewayPid, plan.memoryMb, result, log);
    }
    return cells;
  } finally {
    await flow.close();
  }
}
