/**
 * The Gateway -> Executor hop alone (issue 22): one client process against a grpc-js echo server
 * (a child), the same calls made by grpc-js and by flowgate's `node:http2` client (`H2Client`).
 * Reports, per transport and call kind, the client's CPU per call (user+sys of this process), the
 * p50 latency at c1 and MB/s at c1/c16 for 1 MiB messages.
 *
 * `node --import tsx bench/hop-h2.ts [--calls 3000] [--rounds 2]`
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { H2Client } from '../src/transport/grpc/h2-client.js';
import { benchFile, startChild } from './child.js';
import { BytesService, grpcOptions } from './raw/grpc-defs.js';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '2' } },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const id = (b: Buffer): Buffer => b;

type Bidi = { write(b: Buffer): void; on(e: string, f: (b: Buffer) => void): void; end(): void };
interface Transport {
  name: string;
  unary(body: Buffer): Promise<Buffer>;
  bidi(): Bidi;
  close(): void;
}

function grpcJs(address: string): Transport {
  const c = new grpc.Client(address, grpc.credentials.createInsecure(), grpcOptions);
  const m = BytesService;
  return {
    name: 'grpc-js',
    unary: (body) =>
      new Promise((resolve, reject) =>
        c.makeUnaryRequest(m.process_single_data.path, id, id, body, new grpc.Metadata(), {}, (e, r) =>
          e ? reject(e) : resolve(r!),
        ),
      ),
    bidi: () => c.makeBidiStreamRequest(m.Call.path, id, id, new grpc.Metadata(), {}),
    close: () => c.close(),
  };
}

function h2(address: string): Transport {
  const c = new H2Client(address);
  const m = BytesService;
  return {
    name: 'node:http2',
    unary: (body) =>
      new Promise((resolve, reject) =>
        c.makeUnaryRequest(m.process_single_data.path, id, id, body, new grpc.Metadata(), {}, (e, r) =>
          e ? reject(e) : resolve(r!),
        ),
      ),
    bidi: () => c.makeBidiStreamRequest(m.Call.path, id, id, new grpc.Metadata(), {}),
    close: () => c.close(),
  };
}

/** Runs `n` calls with `c` in flight at once; returns CPU us/call, p50 ms, MB/s (request bytes). */
async function run(call: () => Promise<unknown>, n: number, c: number, bytes: number) {
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next++ < n) {
        const s = performance.now();
        await call();
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  return {
    cpuUs: (cpu.user + cpu.system) / n,
    p50: lat[Math.floor(lat.length / 2)]!,
    mbps: (n * bytes) / 1e6 / secs,
  };
}

/** Calls over one bidi stream, answers matched in order (the echo keeps it). */
function bidiCaller(t: Transport): { call: (b: Buffer) => Promise<Buffer>; end: () => void } {
  const s = t.bidi();
  const waiting: ((b: Buffer) => void)[] = [];
  s.on('data', (b: Buffer) => waiting.shift()!(b));
  s.on('error', () => undefined);
  return {
    call: (b) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        s.write(b);
      }),
    end: () => s.end(),
  };
}

const echo = await startChild(benchFile('raw/serve.ts'), ['grpc-echo']);
const address = `127.0.0.1:${echo.port}`;
const small = Buffer.alloc(200, 7);
const big = Buffer.alloc(1 << 20, 7);
const rows: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const make of [grpcJs, h2]) {
    const t = make(address);
    await t.unary(small); // connect
    const b = bidiCaller(t);
    await b.call(small);
    const cells = [
      ['unary 200B c1', await run(() => t.unary(small), CALLS, 1, small.length)],
      ['bidi 200B c1', await run(() => b.call(small), CALLS, 1, small.length)],
      ['bidi 200B c64', await run(() => b.call(small), CALLS * 3, 64, small.length)],
      ['unary 1MiB c1', await run(() => t.unary(big), 200, 1, big.length)],
      ['bidi 1MiB c16', await run(() => b.call(big), 400, 16, big.length)],
    ] as const;
    for (const [label, r] of cells)
      rows.push(
        `round ${round} ${t.name.padEnd(10)} ${label.padEnd(14)} cpu ${r.cpuUs.toFixed(1).padStart(7)} us/call  p50 ${r.p50.toFixed(3)} ms  ${r.mbps.toFixed(1)} MB/s`,
      );
    b.end();
    t.close();
  }
}
console.log(rows.join('\n'));
await echo.stop();
