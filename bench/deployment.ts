/**
 * Issue 19's measurement: a single-replica gRPC Deployment served with a Gateway process in front
 * (Client -> Gateway -> worker, as `Deployment` runs today) vs the Executor served directly (Client
 * -> worker: the worker answering the data calls itself). Both layouts share ONE worker process
 * (`flowgate executor`), so the only difference is the Gateway hop. For each layout and
 * concurrency (1 and 64): requests/s, p50 and p99 latency, and the CPU time of the server
 * processes (worker, plus the Gateway when there is one) per request, read from /proc/<pid>/stat.
 * The load is the flowgate Client's `post` (one 100 B document per request) in this process; the
 * layouts alternate over the rounds so drift in the machine's load falls on both.
 *
 * Alone only (not part of `npm run bench`): `node --import tsx bench/deployment.ts [--rounds N] [--seconds S]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { api, apiSource, dropTsxForFlowChildren } from './api.js';
import { cpuMs } from './proc.js';

const EXECUTOR_FILE = apiSource === 'dist' ? './flow/echo-executor.mjs' : './flow/echo-executor.ts';
const EXECUTOR = `${fileURLToPath(new URL(EXECUTOR_FILE, import.meta.url))}:EchoExecutor`;
const CLI = fileURLToPath(
  new URL(apiSource === 'dist' ? '../dist/cli/main.js' : '../src/cli/main.ts', import.meta.url),
);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 5);
const CONCURRENCIES = [1, 64];

interface Cell {
  layout: 'gateway' | 'direct';
  concurrency: number;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerReq: number;
  errors: number;
}

/** Starts `flowgate executor` on a free port; resolves once it answers. */
async function startWorker(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...process.execArgv, CLI, 'executor', '--uses', EXECUTOR, '--port', String(port)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, FLOWGATE_LOG_LEVEL: 'warn' },
    },
  );
  const client = new api.Client({ port });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.post('/', [new api.Document({ text: 'ready?' })], { timeout: 2000 });
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await client.close();
  return { child, port };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** `concurrency` loops posting one document each for `SECONDS`; latencies and server CPU. */
async function measure(
  layout: Cell['layout'],
  port: number,
  pids: number[],
  concurrency: number,
): Promise<Cell> {
  const client = new api.Client({ port });
  const doc = () => [new api.Document({ text: 'x'.repeat(100) })];
  for (let i = 0; i < 50; i++) await client.post('/', doc()); // warm-up
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = pids.map((p) => cpuMs(p) ?? 0);
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await client.post('/', doc());
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = pids.reduce((sum, p, i) => sum + ((cpuMs(p) ?? 0) - cpu0[i]!), 0);
  await client.close();
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    layout,
    concurrency,
    reqPerS: latencies.length / elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    cpuUsPerReq: (cpu * 1000) / Math.max(1, latencies.length),
    errors,
  };
}

async function main(): Promise<void> {
  dropTsxForFlowChildren();
  const worker = await startWorker();
  // The Gateway layout: the same worker, behind a Gateway process (what `Deployment` starts).
  const flow = new api.Flow({ timeoutReady: 60_000 })
    .configGateway({ protocol: 'grpc' })
    .add({ name: 'echo', external: true, host: '127.0.0.1', port: worker.port });
  await flow.start();
  const gatewayPid = flow.pids.at(-1)!;
  const cells: Cell[] = [];
  try {
    console.log(
      `deployment bench: ${ROUNDS} rounds x ${SECONDS} s per cell, api from ${apiSource}, load ${loadavg()[0]!.toFixed(1)}`,
    );
    for (let round = 0; round < ROUNDS; round++)
      for (const concurrency of CONCURRENCIES)
        for (const layout of round % 2 === 0
          ? (['gateway', 'direct'] as const)
          : (['direct', 'gateway'] as const)) {
          const cell =
            layout === 'gateway'
              ? await measure(layout, flow.port, [gatewayPid, worker.child.pid!], concurrency)
              : await measure(layout, worker.port, [worker.child.pid!], concurrency);
          cells.push(cell);
          console.log(
            `round ${round + 1} c${concurrency} ${layout.padEnd(7)} ${cell.reqPerS.toFixed(0).padStart(6)} req/s  p50 ${cell.p50Ms.toFixed(2)} ms  p99 ${cell.p99Ms.toFixed(2)} ms  CPU ${cell.cpuUsPerReq.toFixed(0)} us/req${cell.errors ? `  errors ${cell.errors}` : ''}`,
          );
        }
  } finally {
    await flow.close();
    worker.child.kill('SIGTERM');
    await once(worker.child, 'exit');
  }
  console.log('\nmedian over rounds:');
  for (const concurrency of CONCURRENCIES) {
    const row = (layout: Cell['layout']) => {
      const cs = cells.filter((c) => c.layout === layout && c.concurrency === concurrency);
      const med = (f: (c: Cell) => number) => {
        const v = cs.map(f).sort((a, b) => a - b);
        return v[Math.floor(v.length / 2)]!;
      };
      return { reqPerS: med((c) => c.reqPerS), p50: med((c) => c.p50Ms), cpu: med((c) => c.cpuUsPerReq) };
    };
    const g = row('gateway');
    const d = row('direct');
    console.log(
      `c${concurrency}: gateway ${g.reqPerS.toFixed(0)} req/s p50 ${g.p50.toFixed(2)} ms ${g.cpu.toFixed(0)} us/req | direct ${d.reqPerS.toFixed(0)} req/s p50 ${d.p50.toFixed(2)} ms ${d.cpu.toFixed(0)} us/req | direct/gateway req/s x${(d.reqPerS / g.reqPerS).toFixed(2)}, CPU x${(d.cpu / g.cpu).toFixed(2)}`,
    );
  }
}

await main();
