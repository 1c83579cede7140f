/**
 * The Executor's side of a hop alone: one echo Executor process (the benchmark's `EchoExecutor`
 * behind `WorkerRuntime`, compiled flowgate) driven the way a Gateway drives it, `c` requests in
 * flight on one long-lived `JinaRPC/Call` stream, and its CPU time per request read from /proc.
 *
 * `npm run build && node --import tsx bench/worker-hop.ts [--payload=text1,text100] [--c=64]
 * [--rounds=3] [--ms=3000] [--cpu-prof=DIR]`. Prints one line per round and payload.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { JinaRPCService } from '../src/transport/grpc/codec.js';
import { createJinaClient, duplex } from '../src/transport/grpc/link.js';
import { DataRequest } from '../src/proto/request.js';
import { payload, type PayloadName } from './payloads.js';
import { cpuMs } from './proc.js';

const arg = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const payloads = arg('payload', 'text1,text100').split(',') as PayloadName[];
const concurrency = Number(arg('c', '64'));
const rounds = Number(arg('rounds', '3'));
const windowMs = Number(arg('ms', '3000'));
const prof = arg('cpu-prof', '');

const CHILD = `
const { WorkerRuntime } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
const { EchoExecutor } = await import(${JSON.stringify(new URL('./flow/echo-executor.mjs', import.meta.url).href)});
const w = new WorkerRuntime({ executor: new EchoExecutor({ metas: { name: 'echo0' } }) });
process.stdout.write(String(await w.start()) + '\\n');
process.on('SIGTERM', () => void w.close().then(() => process.exit(0)));
`;

async function startWorker(): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', CHILD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FLOWGATE_BENCH_API: 'dist' },
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { pid: child.pid!, port, stop };
}

/** Closed loop of `c` requests on one stream for `ms`; resolves to the answers counted. */
async function drive(port: number, name: PayloadName, c: number, ms: number, pid: number) {
  const client = createJinaClient(`127.0.0.1:${port}`);
  const stream = duplex<DataRequest, DataRequest>(client, JinaRPCService.Call, new grpc.Metadata());
  const frame = payload(name).frame;
  const docsLen = payload(name).docsBytes.length;
  let n = 0;
  let counting = false;
  let stopAt = 0;
  let id = 0;
  const send = () => {
    const req = DataRequest.decode(frame);
    req.requestId = `r${id++}`;
    stream.write(req);
  };
  const done = new Promise<void>((resolve, reject) => {
    let inflight = 0;
    stream.on('data', (res: DataRequest) => {
      inflight--;
      if (res.isError || res.docsBytes.length !== docsLen) reject(new Error('bad answer'));
      if (counting) n++;
      if (performance.now() < stopAt) {
        inflight++;
        send();
      } else if (inflight === 0) resolve();
    });
    stream.on('error', reject);
    stopAt = performance.now() + ms + 500;
    for (let i = 0; i < c; i++, inflight++) send();
  });
  await new Promise((r) => setTimeout(r, 500)); // warm-up
  const cpu0 = cpuMs(pid)!;
  const t0 = performance.now();
  counting = true;
  await new Promise((r) => setTimeout(r, ms));
  counting = false;
  const cpu1 = cpuMs(pid)!;
  const elapsed = performance.now() - t0;
  const counted = n;
  await done;
  stream.end();
  client.close();
  return { rps: (counted * 1000) / elapsed, cpuUsPerReq: ((cpu1 - cpu0) * 1000) / counted };
}

const worker = await startWorker();
try {
  for (let r = 1; r <= rounds; r++) {
    for (const name of payloads) {
      const { rps, cpuUsPerReq } = await drive(worker.port, name, concurrency, windowMs, worker.pid);
      console.log(
        `round ${r} ${name} c${concurrency}: ${rps.toFixed(0)} req/s, Executor CPU ${cpuUsPerReq.toFixed(1)} us/req`,
      );
    }
  }
} finally {
  await worker.stop();
}
if (prof) console.log(`profile in ${prof}`);
