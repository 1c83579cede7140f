/**
 * CPU profiles of one named cell (issue 22): `npm run bench -- --cpu-prof=DIR [--cell=CELL,...]`
 * runs only the named cells, each against the raw forwarder of its protocol and a fresh flowgate
 * Flow (HTTP cells also against the Moleculer peer when CELL is `peer`), with every server process
 * under `node --cpu-prof`, and writes the `.cpuprofile` files and a top-30 self-time summary per
 * process (`<role>.top30.txt`) under DIR/<cell>/. A cell is `protocol:payload:concurrency[:protobuf]`,
 * e.g. `http:text1:64` (the default), `grpc:tensor1m:64`, `http:tensor1m:64:protobuf`.
 * The profiles cover each process's whole life (start-up, the check, the warm-up and the window);
 * the window is long (5 s) so that the cell dominates.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchFile, startChild } from './child.js';
import { startEchoFlow } from './flow/echo-flow.js';
import { measureCell, PROTOCOLS, type BenchProtocol, type MeasureContext, type Target } from './measure.js';
import { PAYLOADS, type PayloadName } from './payloads.js';
import { describeCell } from './sections/throughput.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The top `n` functions by self time of a `.cpuprofile`, as text. */
export function topSelfTime(profile: CpuProfile, n = 30): string {
  const byNode = new Map<number, string>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '')}:${f.lineNumber + 1}`
      : '';
    byNode.set(node.id, `${f.functionName || '(anonymous)'} ${where}`.trim());
  }
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const k = byNode.get(id) ?? '?';
    self.set(k, (self.get(k) ?? 0) + dt);
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `total sampled ${(total / 1000).toFixed(0)} ms; self time, top ${n}:`,
    ...rows.map(
      ([k, us]) =>
        `${(us / 1000).toFixed(1).padStart(9)} ms ${((us * 100) / total).toFixed(1).padStart(5)}%  ${k}`,
    ),
  ].join('\n');
}

/** Summarises every `.cpuprofile` in `dir` whose name carries a pid of `roles`; renames them by role. */
function summarise(dir: string, roles: Map<number, string>): string[] {
  const written: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const [, p, tid] = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\./.exec(f) ?? [];
    const pid = Number(p);
    // Another thread of a process (thread id not 0: tsx's loader thread) gets its own name.
    const role = `${roles.get(pid) ?? `pid${pid}`}${tid === '0' ? '' : `-thread${tid}`}`;
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    renameSync(join(dir, f), join(dir, `${role}.cpuprofile`));
    const out = join(dir, `${role}.top30.txt`);
    writeFileSync(out, `${role} (pid ${pid})\n${topSelfTime(profile)}\n`);
    written.push(out);
  }
  return written;
}

function parseCell(spec: string): {
  protocol: BenchProtocol;
  payload: PayloadName;
  c: number;
  protobuf: boolean;
} {
  const [protocol, payload, c, body] = spec.split(':');
  if (
    !PROTOCOLS.includes(protocol as BenchProtocol) ||
    !PAYLOADS.includes(payload as PayloadName) ||
    !Number(c)
  )
    throw new Error(`--cell=${spec}: expected protocol:payload:concurrency[:protobuf], e.g. http:text1:64`);
  return {
    protocol: protocol as BenchProtocol,
    payload: payload as PayloadName,
    c: Number(c),
    protobuf: body === 'protobuf',
  };
}

const RAW_FWD = { grpc: 'grpc-fwd', http: 'http-fwd', websocket: 'ws-fwd' } as const;

/** Runs the profiled cells; returns the failures. */
export async function runProfiles(
  ctx: MeasureContext,
  dirArg: string,
  cells: string[],
  log: (line: string) => void,
): Promise<string[]> {
  const failures: string[] = [];
  const own: MeasureContext = { ...ctx, window: () => ({ warmupMs: 1000, durationMs: 5000 }) };
  for (const spec of cells) {
    const { protocol, payload, c, protobuf } = parseCell(spec);
    const dir = resolve(dirArg, spec.replaceAll(':', '-'));
    mkdirSync(dir, { recursive: true });
    const prof = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const roles = new Map<number, string>();
    const serve = benchFile('./raw/serve.ts');
    const backend = await startChild(serve, ['grpc-echo']);
    const fwd = await startChild(serve, [RAW_FWD[protocol], `127.0.0.1:${backend.port}`], 30_000, prof);
    roles.set(fwd.pid, `raw-forwarder-${protocol}`);
    const body = protobuf ? ({ body: 'protobuf' } as const) : {};
    try {
      const raw: Target = { group: 'raw-forwarder', protocol, port: fwd.port, pid: fwd.pid, ...body };
      const rc = await measureCell(own, raw, 'external', payload, c);
      log(`profile ${spec}: ${describeCell(rc)}, CPU ${rc.cpuUsPerReq?.toFixed(0) ?? '?'} us/req`);
    } finally {
      await fwd.stop();
      await backend.stop();
    }
    process.execArgv.push(...prof);
    let started;
    try {
      started = await startEchoFlow(protocol, 1);
    } finally {
      process.execArgv.splice(process.execArgv.length - prof.length, prof.length);
    }
    if ('unavailable' in started) {
      failures.push(`profile ${spec}: ${started.unavailable}`);
      continue;
    }
    roles.set(started.gatewayPid, `gateway-${protocol}`);
    roles.set(started.flow.pids[0]!, 'executor');
    try {
      const target: Target = {
        group: 'flowgate',
        protocol,
        port: started.port,
        pid: started.gatewayPid,
        ...body,
      };
      const cell = await measureCell(own, target, 'external', payload, c);
      log(`profile ${spec}: ${describeCell(cell)}, CPU ${cell.cpuUsPerReq?.toFixed(0) ?? '?'} us/req`);
      if (cell.status === 'failed') failures.push(`profile ${spec}: ${cell.reason ?? ''}`);
    } finally {
      await started.flow.close();
    }
    for (const f of summarise(dir, roles)) log(`wrote ${f}`);
  }
  return failures;
}
