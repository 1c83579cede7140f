/**
 * The peer section (issue 22): flowgate's HTTP Gateway + one trivial Executor against Moleculer
 * 0.15 doing the same job (a `moleculer-web` ApiGateway node and one service node, two processes,
 * built-in TCP transporter on loopback; the action returns the documents it was sent). The same
 * 100 B one-document JSON body is POSTed to each front door by the same load generator (wrk when
 * installed), c64, in alternating rounds (flowgate, Moleculer, flowgate, ...). Each answer is
 * checked before measuring. Per side: req/s, front-door CPU us/req, both processes' CPU us/req,
 * p50/p99.
 */
import { benchFile, startChild, type BenchChild } from '../child.js';
import { startEchoFlow, type RunningFlow } from '../flow/echo-flow.js';
import { runWrk } from '../load/external.js';
import type { LoadResult } from '../load/stats.js';
import type { MeasureContext } from '../measure.js';
import { payload } from '../payloads.js';
import { ProcWatch, type ProcWindow } from '../proc.js';
import { median } from './flow-costs.js';

/** One side's figures over all its rounds. */
export interface PeerSide {
  name: 'flowgate' | 'moleculer';
  rounds: { reqPerS: number; frontCpuUsPerReq?: number; bothCpuUsPerReq?: number; p50Ms?: number }[];
  /** Requests of every round over their windows. */
  reqPerS?: number;
  frontCpuUsPerReq?: number;
  bothCpuUsPerReq?: number;
  /** Medians over the rounds. */
  p50Ms?: number;
  p99Ms?: number;
}

/** What the section measured. */
export interface PeerResult {
  status: 'ok' | 'failed';
  reason?: string;
  tool?: string;
  concurrency: number;
  roundsPerSide: number;
  flowgate?: PeerSide;
  moleculer?: PeerSide;
}

const CONCURRENCY = 64;

/** Watches the front door (whose peak RSS it reports) and its service process at once. */
class PairWatch extends ProcWatch {
  private readonly second: ProcWatch;
  secondWindow: ProcWindow | undefined;

  constructor(front: number, service: number) {
    super(front);
    this.second = new ProcWatch(service);
  }

  override start(): void {
    super.start();
    this.second.start();
  }

  override stop(): ProcWindow {
    const w = super.stop();
    this.secondWindow = this.second.stop();
    return w;
  }
}

interface Door {
  name: PeerSide['name'];
  port: number;
  frontPid: number;
  servicePid: number;
}

/** POSTs the body once and checks the documents came back. */
async function check(door: Door): Promise<void> {
  const p = payload('text1');
  const res = await fetch(`http://127.0.0.1:${door.port}/post`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: p.json,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${door.name}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { data?: { id?: string; text?: string }[]; header?: { status?: unknown } };
  const sent = (JSON.parse(p.json.toString('utf8')) as { data: { id: string; text: string }[] }).data[0]!;
  const got = body.data?.[0];
  if (body.data?.length !== 1 || got?.id !== sent.id || got.text !== sent.text)
    throw new Error(`${door.name}: the answer does not carry the document sent: ${text.slice(0, 200)}`);
}

async function round(
  ctx: MeasureContext,
  door: Door,
  quick: boolean,
): Promise<{ r: LoadResult; w: PairWatch; fw: ProcWindow }> {
  const watch = new PairWatch(door.frontPid, door.servicePid);
  const warmupMs = quick ? 500 : 1000;
  const durationMs = quick ? 1000 : 3000;
  if (ctx.wrk) {
    const out = await runWrk({
      port: door.port,
      body: payload('text1').json,
      name: `peer-${door.name}`,
      concurrency: CONCURRENCY,
      warmupMs,
      durationMs,
      watch,
    });
    return { r: out.result, w: watch, fw: out.server };
  }
  const o = await ctx.load.run(
    {
      kind: 'http',
      port: door.port,
      payload: 'text1',
      flowgate: true,
      concurrency: CONCURRENCY,
      warmupMs,
      durationMs,
    },
    watch,
  );
  if (o.status !== 'ok') throw new Error(`${door.name}: ${o.status === 'n/a' ? o.reason : o.message}`);
  return { r: o.result, w: watch, fw: o.server };
}

function summarise(
  name: PeerSide['name'],
  runs: { r: LoadResult; w: PairWatch; fw: ProcWindow }[],
): PeerSide {
  let requests = 0;
  let ms = 0;
  let front = 0;
  let both = 0;
  const side: PeerSide = { name, rounds: [] };
  for (const { r, w, fw } of runs) {
    requests += r.requests;
    ms += r.elapsedMs;
    const f = fw.cpuMs ?? NaN;
    const s = f + (w.secondWindow?.cpuMs ?? NaN);
    front += f;
    both += s;
    side.rounds.push({
      reqPerS: (r.requests * 1000) / r.elapsedMs,
      frontCpuUsPerReq: (f * 1000) / r.requests,
      bothCpuUsPerReq: (s * 1000) / r.requests,
      ...(r.p50Ms !== undefined ? { p50Ms: r.p50Ms } : {}),
    });
  }
  const fin = (v: number) => (Number.isFinite(v) ? v : undefined);
  side.reqPerS = ms > 0 ? (requests * 1000) / ms : undefined;
  side.frontCpuUsPerReq = fin((front * 1000) / requests);
  side.bothCpuUsPerReq = fin((both * 1000) / requests);
  side.p50Ms = median(runs.map((x) => x.r.p50Ms).filter((v): v is number => v !== undefined));
  side.p99Ms = median(runs.map((x) => x.r.p99Ms).filter((v): v is number => v !== undefined));
  return side;
}

/** Runs the peer section: `rounds` alternating rounds per side. Never throws. */
export async function runPeer(
  ctx: MeasureContext,
  rounds: number,
  quick: boolean,
  log: (line: string) => void,
): Promise<PeerResult> {
  const result: PeerResult = { status: 'ok', concurrency: CONCURRENCY, roundsPerSide: rounds };
  const node = benchFile('./peer/moleculer-node.ts');
  let service: BenchChild | undefined;
  let gateway: BenchChild | undefined;
  let flow: RunningFlow | undefined;
  try {
    // Both sides start at once; the Moleculer gateway needs its service's port first.
    const moleculer = (async () => {
      service = await startChild(node, ['service']);
      gateway = await startChild(node, ['gateway', String(service.port)]);
      return gateway;
    })();
    const [started] = await Promise.allSettled([startEchoFlow('http', 1), moleculer]).then((all) => {
      if (all[0].status === 'fulfilled' && !('unavailable' in all[0].value)) flow = all[0].value;
      for (const a of all) if (a.status === 'rejected') throw a.reason;
      return [all[0].status === 'fulfilled' ? all[0].value : undefined];
    });
    if (started && 'unavailable' in started) throw new Error(`flowgate HTTP: ${started.unavailable}`);
    if (!flow || !gateway || !service) throw new Error('the peer section did not start');
    const doors: Door[] = [
      { name: 'flowgate', port: flow.port, frontPid: flow.gatewayPid, servicePid: flow.flow.pids[0]! },
      { name: 'moleculer', port: gateway.port, frontPid: gateway.pid, servicePid: service.pid },
    ];
    for (const d of doors) await check(d);
    const runs = new Map<PeerSide['name'], Awaited<ReturnType<typeof round>>[]>();
    for (let i = 0; i < rounds; i++) {
      for (const d of doors) {
        const run = await round(ctx, d, quick);
        if (run.r.errors > 0)
          throw new Error(`${d.name}: ${run.r.errors} failed requests: ${run.r.firstError ?? '?'}`);
        result.tool = run.r.tool;
        (runs.get(d.name) ?? runs.set(d.name, []).get(d.name)!).push(run);
        log(`peer round ${i + 1} ${d.name}: ${((run.r.requests * 1000) / run.r.elapsedMs).toFixed(0)} req/s`);
      }
    }
    result.flowgate = summarise('flowgate', runs.get('flowgate')!);
    result.moleculer = summarise('moleculer', runs.get('moleculer')!);
  } catch (err) {
    result.status = 'failed';
    result.reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    log(`peer: failed (${result.reason})`);
  } finally {
    await flow?.flow.close();
    await gateway?.stop();
    await service?.stop();
  }
  return result;
}
