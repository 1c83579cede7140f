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
  type Loadgen,
  type MeasureContext,
  type Target,
} from '../measure.js';
import type { PayloadName } from '../payloads.js';
import { rssMb } from '../proc.js';
import type { RawKind } from '../raw/serve.js';

/** Which cells a run measures. */
export interface ThroughputPlan {
  payloads: PayloadName[];
  concurrencies: number[];
  /** Raw echo (no hop) cells (none in quick mode: the gRPC echo still runs, as the forwarders' backend). */
  rawEcho: { payloads: PayloadName[]; concurrencies: number[] };
  /** flowgate Client cells. */
  client: { payloads: PayloadName[]; concurrencies: number[] };
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
}

const RAW: Record<BenchProtocol, { echo: RawKind; fwd: RawKind }> = {
  grpc: { echo: 'grpc-echo', fwd: 'grpc-fwd' },
  http: { echo: 'http-echo', fwd: 'http-fwd' },
  websocket: { echo: 'ws-echo', fwd: 'ws-fwd' },
};

type Log = (line: string) => void;

/** One line of progress per cell. */
export function describeCell(c: Cell): string {
  const head = `${c.group} ${c.protocol} ${c.loadgen} ${c.payload} c${c.concurrency}`;
  if (c.status !== 'ok') return `${head}: ${c.status} (${c.reason ?? ''})`;
  return `${head}: ${c.reqPerS?.toFixed(0)} req/s, p50 ${c.p50Ms?.toFixed(2)} ms [${c.tool}]`;
}

async function cellsFor(
  ctx: MeasureContext,
  target: Target,
  loadgen: Loadgen,
  payloads: PayloadName[],
  concurrencies: number[],
  log: Log,
): Promise<Cell[]> {
  const out: Cell[] = [];
  for (const p of payloads) {
    for (const c of concurrencies) {
      const cell = await measureCell(ctx, target, loadgen, p, c);
      log(describeCell(cell));
      out.push(cell);
    }
  }
  return out;
}

function naCells(
  group: Group,
  protocol: BenchProtocol,
  loadgen: Loadgen,
  payloads: PayloadName[],
  concurrencies: number[],
  reason: string,
): Cell[] {
  return payloads.flatMap((payload) =>
    concurrencies.map((concurrency): Cell => ({
      group,
      protocol,
      loadgen,
      payload,
      concurrency,
      status: 'n/a',
      reason,
    })),
  );
}

export async function runThroughput(
  ctx: MeasureContext,
  plan: ThroughputPlan,
  log: Log,
): Promise<ThroughputResult> {
  const result: ThroughputResult = { cells: [], idleRssMb: {}, startMs: {}, unavailable: {} };
  const serve = benchFile('./raw/serve.ts');
  const backend = await startChild(serve, ['grpc-echo']);
  const raw = new Map<RawKind, BenchChild>([['grpc-echo', backend]]);
  try {
    const withEcho = plan.rawEcho.payloads.length > 0;
    const others = await Promise.all(
      PROTOCOLS.flatMap((p) => [...(p === 'grpc' || !withEcho ? [] : [RAW[p].echo]), RAW[p].fwd]).map(
        async (k) => [k, await startChild(serve, [k, `127.0.0.1:${backend.port}`])] as const,
      ),
    );
    for (const [k, child] of others) raw.set(k, child);
    for (const protocol of PROTOCOLS) {
      const echo = raw.get(RAW[protocol].echo);
      const fwd = raw.get(RAW[protocol].fwd)!;
      const fwdTarget: Target = { group: 'raw-forwarder', protocol, port: fwd.port, pid: fwd.pid };
      if (echo && withEcho) {
        const echoTarget: Target = { group: 'raw-echo', protocol, port: echo.port, pid: echo.pid };
        const { payloads, concurrencies } = plan.rawEcho;
        result.cells.push(...(await cellsFor(ctx, echoTarget, 'external', payloads, concurrencies, log)));
      }
      result.idleRssMb[`raw-forwarder:${protocol}`] = rssMb(fwd.pid);
      result.cells.push(
        ...(await cellsFor(ctx, fwdTarget, 'external', plan.payloads, plan.concurrencies, log)),
      );
      result.cells.push(...(await flowgateCells(ctx, protocol, plan, result, log)));
    }
  } finally {
    await Promise.all([...raw.values()].map((c) => c.stop()));
  }
  return result;
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
    return [
      ...naCells('flowgate', protocol, 'external', plan.payloads, plan.concurrencies, reason),
      ...naCells('flowgate', protocol, 'client', plan.client.payloads, plan.client.concurrencies, reason),
    ].map((c) => ({ ...c, status: 'failed' as const }));
  }
  if ('unavailable' in started) {
    const reason = `not available: ${started.unavailable}`;
    result.unavailable[protocol] = started.unavailable;
    log(`flowgate ${protocol}: n/a (${started.unavailable})`);
    return [
      ...naCells('flowgate', protocol, 'external', plan.payloads, plan.concurrencies, reason),
      ...naCells('flowgate', protocol, 'client', plan.client.payloads, plan.client.concurrencies, reason),
    ];
  }
  const { flow, port, gatewayPid, startMs } = started;
  result.startMs[protocol] = startMs;
  log(`flowgate ${protocol}: Flow with 1 Executor started in ${startMs.toFixed(0)} ms`);
  try {
    const target: Target = { group: 'flowgate', protocol, port, pid: gatewayPid };
    // Idle: after start and one answered request (connections to the Executor open), before load.
    await ctx.load.run({
      kind: protocol === 'websocket' ? 'ws' : protocol,
      port,
      payload: 'text1',
      flowgate: true,
      concurrency: 1,
      warmupMs: 0,
      durationMs: 0,
      probeOnly: true,
    });
    await new Promise((r) => setTimeout(r, 200));
    result.idleRssMb[`flowgate:${protocol}`] = rssMb(gatewayPid);
    // Payload by payload (the 1 MiB one last), so that the peak RSS of the text payloads is not
    // what the tensors left behind.
    const cells: Cell[] = [];
    for (const p of plan.payloads) {
      cells.push(...(await cellsFor(ctx, target, 'external', [p], plan.concurrencies, log)));
      if (plan.client.payloads.includes(p))
        cells.push(...(await cellsFor(ctx, target, 'client', [p], plan.client.concurrencies, log)));
    }
    return cells;
  } finally {
    await flow.close();
  }
}
