/**
 * Load generators that are not Node: wrk (HTTP/1.1) and h2load (HTTP/2, here gRPC unary with a
 * prepared length-prefixed frame). Used when installed (`apt-get install wrk nghttp2-client`);
 * otherwise the Node worker takes their place. They only see transport status (HTTP 2xx), so a
 * probe through the Node worker checks one full answer before each run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcWatch, ProcWindow } from '../proc.js';
import { percentile, type LoadResult } from './stats.js';

/** Whether `tool` runs here. */
export function hasTool(tool: 'wrk' | 'h2load'): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined;
}

const scratch = mkdtempSync(join(tmpdir(), 'flowgate-bench-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** Options of one external run. */
export interface ExternalRun {
  port: number;
  /** The HTTP body (wrk) or the gRPC message (h2load; the 5-byte prefix is added here). */
  body: Buffer;
  /** wrk: the request's Content-Type (default `application/json`); also sent as Accept. */
  contentType?: string;
  name: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  watch?: ProcWatch;
}

/** Runs a tool to completion; kills it when it runs `limitMs` past its own duration. */
function exec(cmd: string, args: string[], limitMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.once('exit', () => clearTimeout(timer));
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.once('error', reject);
    p.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out.slice(-500)}`)),
    );
  });
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v;
}

/** wrk: `-t1 -c<c>` keep-alive connections POSTing the body to `/post`. */
export async function runWrk(o: ExternalRun): Promise<{ result: LoadResult; server: ProcWindow }> {
  const bodyFile = join(scratch, `${o.name}.json`);
  const script = join(scratch, `${o.name}.lua`);
  writeFileSync(bodyFile, o.body);
  writeFileSync(
    script,
    [
      `local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))`,
      'wrk.body = f:read("*a")',
      'f:close()',
      'wrk.method = "POST"',
      `wrk.headers["Content-Type"] = "${o.contentType ?? 'application/json'}"`,
      ...(o.contentType ? [`wrk.headers["Accept"] = "${o.contentType}"`] : []),
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${o.port}/post`;
  const base = ['-t1', `-c${o.concurrency}`, '--timeout', '30s', '-s', script];
  const secs = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;
  // wrk counts whole seconds: a warm-up shorter than half a second is left to the probe.
  if (o.warmupMs >= 500) await exec('wrk', [...base, '-d', secs(o.warmupMs), url], o.warmupMs + 60_000);
  o.watch?.start();
  const out = await exec('wrk', [...base, '--latency', '-d', secs(o.durationMs), url], o.durationMs + 60_000);
  const server = o.watch?.stop() ?? { cpuMs: undefined, peakRssMb: undefined };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out);
    return m ? toMs(m[1]!, m[2]!) : undefined;
  };
  const mean = /Latency\s+([\d.]+)(us|ms|s|m)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  if (!total) throw new Error(`cannot read wrk's output: ${out.slice(0, 500)}`);
  const errors = non2xx + sockErrors;
  return {
    result: {
      requests: Number(total[1]),
      errors,
      ...(errors
        ? { firstError: `wrk: ${non2xx} non-2xx responses, socket errors: ${sock?.[0] ?? 'none'}` }
        : {}),
      elapsedMs: toMs(total[2]!, total[3]!),
      p50Ms: pct('50'),
      p99Ms: pct('99'),
      meanMs: mean ? toMs(mean[1]!, mean[2]!) : undefined,
      tool: 'wrk',
    },
    server,
  };
}

/** h2load: one HTTP/2 connection with `-m<c>` concurrent gRPC unary calls to `process_single_data`. */
export async function runH2load(o: ExternalRun): Promise<{ result: LoadResult; server: ProcWindow }> {
  const bodyFile = join(scratch, `${o.name}.grpc`);
  const logFile = join(scratch, `${o.name}.log`);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(o.body.length, 1);
  writeFileSync(bodyFile, Buffer.concat([prefix, o.body]));
  rmSync(logFile, { force: true });
  const url = `http://127.0.0.1:${o.port}/jina.JinaSingleDataRequestRPC/process_single_data`;
  const warmupMs = Math.max(1, Math.round(o.warmupMs));
  const args = [
    '-t1',
    '-c1',
    `-m${o.concurrency}`,
    `--warm-up-time=${warmupMs}ms`,
    '-D',
    `${Math.max(1, Math.round(o.durationMs))}ms`,
    '-d',
    bodyFile,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    `--log-file=${logFile}`,
    url,
  ];
  // The warm-up runs on the same connection, so the pipe is full when the window opens (64 MiB in
  // flight takes a while); h2load logs only the window's requests, and the watch starts with it.
  const timer = setTimeout(() => o.watch?.start(), warmupMs);
  let out: string;
  try {
    out = await exec('h2load', args, o.warmupMs + o.durationMs + 60_000);
  } finally {
    clearTimeout(timer);
  }
  const server = o.watch?.stop() ?? { cpuMs: undefined, peakRssMb: undefined };
  const counts =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  if (!counts) throw new Error(`cannot read h2load's output: ${out.slice(0, 500)}`);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const non2xx = codes ? Number(codes[2]) + Number(codes[3]) + Number(codes[4]) : 0;
  const errors = Number(counts[5]) + Number(counts[6]) + Number(counts[7]) + non2xx;
  // Lines of requests cut off at the end of the window have no status 200: not latencies.
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  const latencies = Float64Array.from(
    lines.filter((l) => l.split('\t')[1] === '200').map((l) => Number(l.split('\t')[2]) / 1000),
  ).sort();
  let sum = 0;
  for (const v of latencies) sum += v;
  return {
    result: {
      requests: Number(counts[4]),
      errors,
      ...(errors ? { firstError: `h2load: ${counts[0]}; ${codes?.[0] ?? ''}` } : {}),
      elapsedMs: o.durationMs,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      meanMs: latencies.length ? sum / latencies.length : undefined,
      tool: 'h2load',
    },
    server,
  };
}
