/**
 * The Gateway's own cost against the raw forwarder, alone (issue 22, for work on the Gateway's hot
 * path without a full run): `npm run build && node --import tsx bench/gateway-ab.ts
 * [--protocols=websocket,grpc] [--payloads=text1,text100] [--c=64] [--rounds=3] [--ms=2000]
 * [--raw-to-executor]`.
 * One raw forwarder and one Flow (one echo Executor) per protocol stay up; each round measures the
 * raw forwarder and then the Gateway for every payload, so both see the same machine load. Prints
 * one line per measurement (round 0 warms up and is left out of the summary) and, per cell, the rounds' CPU us/req, CPU x raw and req/s x raw.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dropTsxForFlowChildren } from './api.js';
import { benchFile, startChild } from './child.js';
import { startEchoFlow } from './flow/echo-flow.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { measureCell, type BenchProtocol, type Cell, type MeasureContext } from './measure.js';
import type { PayloadName } from './payloads.js';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const protocols = arg('protocols', 'websocket,grpc').split(',') as BenchProtocol[];
const payloads = arg('payloads', 'text1,text100').split(',') as PayloadName[];
const c = Number(arg('c', '64'));
const rounds = Number(arg('rounds', '3'));
const ms = Number(arg('ms', '2000'));
/** `--raw-to-executor`: the raw forwarder talks to the Flow's Executor instead of the raw echo. */
const rawToExecutor = process.argv.includes('--raw-to-executor');
const RAW_FWD = { grpc: 'grpc-fwd', http: 'http-fwd', websocket: 'ws-fwd' } as const;

dropTsxForFlowChildren();
const load = await NodeLoad.start();
const ctx: MeasureContext = {
  load,
  window: () => ({ warmupMs: 500, durationMs: ms }),
  wrk: hasTool('wrk'),
  h2load: hasTool('h2load'),
};
const log = (l: string) => process.stderr.write(`${l}\n`);
/** The TCP port `pid` listens on (from its socket inodes and /proc/net/tcp*). */
function listeningPort(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  for (const table of ['tcp', 'tcp6'])
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) return parseInt(f[1]!.split(':')[1]!, 16);
    }
  throw new Error(`process ${pid} listens on no TCP port`);
}

/** Read and write system calls of `pid` so far (`/proc/<pid>/io`). */
function syscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
}
/** One cell, with the read + write system calls per request (warm-up included, so approximate). */
async function measure(target: Parameters<typeof measureCell>[1], payload: PayloadName) {
  const before = syscalls(target.pid);
  const cell = await measureCell(ctx, target, 'external', payload, c);
  const reqs = (cell.reqPerS ?? 0) * ((ms + 500) / 1000);
  return { cell, sys: reqs > 0 ? (syscalls(target.pid) - before) / reqs : NaN };
}
const fmt = ({ cell: x, sys }: { cell: Cell; sys: number }) =>
  `${x.reqPerS?.toFixed(0) ?? '?'} req/s, CPU ${x.cpuUsPerReq?.toFixed(0) ?? '?'} us/req, ~${sys.toFixed(2)} syscalls/req`;
const serve = benchFile('./raw/serve.ts');
const backend = await startChild(serve, ['grpc-echo']);
try {
  for (const protocol of protocols) {
    const started = await startEchoFlow(protocol, 1);
    if ('unavailable' in started) throw new Error(started.unavailable);
    const backendPort = rawToExecutor ? listeningPort(started.flow.pids[0]!) : backend.port;
    const fwd = await startChild(serve, [RAW_FWD[protocol], `127.0.0.1:${backendPort}`]);
    const rows = new Map<string, string[]>();
    try {
      // Round 0 warms both servers up (JIT, connections) and is not reported.
      for (let r = 0; r <= rounds; r++) {
        for (const payload of payloads) {
          const rawM = await measure(
            { group: rawToExecutor ? 'flowgate' : 'raw-forwarder', protocol, port: fwd.port, pid: fwd.pid },
            payload,
          );
          const gwM = await measure(
            { group: 'flowgate', protocol, port: started.port, pid: started.gatewayPid },
            payload,
          );
          const [raw, gw] = [rawM.cell, gwM.cell];
          if (gw.status !== 'ok' || raw.status !== 'ok')
            throw new Error(`${protocol} ${payload}: ${gw.reason ?? raw.reason ?? 'failed'}`);
          log(`${protocol} ${payload} c${c} round ${r}: raw ${fmt(rawM)}; flowgate ${fmt(gwM)}`);
          if (r === 0) continue;
          const cpu = (gw.cpuUsPerReq ?? NaN) / (raw.cpuUsPerReq ?? NaN);
          const rps = (gw.reqPerS ?? NaN) / (raw.reqPerS ?? NaN);
          const key = `${protocol} ${payload} c${c}`;
          rows.set(key, [
            ...(rows.get(key) ?? []),
            `${gw.cpuUsPerReq?.toFixed(0)}/${raw.cpuUsPerReq?.toFixed(0)} = ${cpu.toFixed(2)}x, req/s ${rps.toFixed(2)}`,
          ]);
        }
      }
    } finally {
      await started.flow.close();
      await fwd.stop();
    }
    for (const [k, v] of rows) process.stdout.write(`${k}: ${v.join(' | ')}\n`);
  }
} finally {
  await backend.stop();
  await load.stop();
}
process.exit(0);
