/**
 * Soak test: mixed gRPC, HTTP and WebSocket load at concurrency 64 through a 3-Executor chain for a
 * while, then checks that no request failed, every answer was right, and the Gateway's memory at
 * the end is within 10% of its level after warm-up.
 *
 *   npm run soak                    # 5 minutes
 *   npm run soak -- --duration 30 --warmup 20 --max-growth 0.25   # what CI runs (a 30 s window is
 *                                   # too short for V8's heap to settle: a looser bound that still
 *                                   # catches a per-request leak of a few KB)
 *
 * Prints one JSON line with the figures; exits 1 when a check fails.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ClientProtocol } from '../src/client/client.js';
import { Client, Document, Flow } from '../src/index.js';
import { Trail } from '../test/fixtures/chain-executors.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '64' },
    'max-growth': { type: 'string', default: '0.10' },
    warmup: { type: 'string' },
  },
});
const durationMs = Number(values.duration) * 1000;
const concurrency = Number(values.concurrency);
const maxGrowth = Number(values['max-growth']);
const warmupMs =
  values.warmup !== undefined
    ? Number(values.warmup) * 1000
    : Math.min(60_000, Math.max(10_000, durationMs * 0.2));

const flow = new Flow()
  .configGateway({ protocol: ['grpc', 'http', 'websocket'] })
  .add({ name: 'a', uses: Trail })
  .add({ name: 'b', uses: Trail })
  .add({ name: 'c', uses: Trail });

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

await flow.start();
const gatewayPid = flow.pids.at(-1)!;
const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
const counts = { ok: 0, failed: 0, wrong: 0 };
const errors = new Map<string, number>();
const started = Date.now();
const end = started + warmupMs + durationMs;
const samples: { t: number; rss: number }[] = [];
const sampler = setInterval(() => samples.push({ t: Date.now() - started, rss: rssMb(gatewayPid) }), 1000);

async function worker(i: number): Promise<void> {
  const protocol = protocols[i % protocols.length]!;
  const client = new Client({ protocol, port: flow.ports[protocols.indexOf(protocol)]! });
  try {
    let n = 0;
    while (Date.now() < end) {
      const text = `w${i}-${n++}`;
      try {
        const docs = await client.post('/chain', [
          new Document({ text }),
          new Document({ text: `${text}b` }),
        ]);
        const trail = docs[0]?.tags.trail;
        if (docs.length === 2 && docs[0]!.text === text && JSON.stringify(trail) === '["a","b","c"]')
          counts.ok++;
        else counts.wrong++;
      } catch (err) {
        counts.failed++;
        const key = `${protocol}: ${(err as Error).message.slice(0, 120)}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  } finally {
    await client.close();
  }
}

try {
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
} finally {
  clearInterval(sampler);
  await flow.close();
}

// memory after warm-up vs at the end: medians of 10 s windows, so that one GC does not decide
const afterWarmup = samples.filter((s) => s.t >= warmupMs && s.t < warmupMs + 10_000).map((s) => s.rss);
const atEnd = samples.filter((s) => s.t >= warmupMs + durationMs - 10_000).map((s) => s.rss);
const rssWarm = median(afterWarmup);
const rssEnd = median(atEnd);
const growth = (rssEnd - rssWarm) / rssWarm;
const seconds = (Date.now() - started) / 1000;
const report = {
  durationS: durationMs / 1000,
  warmupS: warmupMs / 1000,
  concurrency,
  requests: counts.ok + counts.failed + counts.wrong,
  ok: counts.ok,
  failed: counts.failed,
  wrong: counts.wrong,
  reqPerS: Math.round((counts.ok + counts.failed + counts.wrong) / seconds),
  gatewayRssMb: {
    afterWarmup: Math.round(rssWarm),
    end: Math.round(rssEnd),
    peak: Math.round(Math.max(...samples.map((s) => s.rss))),
  },
  rssGrowth: Number(growth.toFixed(3)),
  errors: Object.fromEntries(errors),
};
console.log(JSON.stringify(report));
const problems: string[] = [];
if (counts.failed > 0) problems.push(`${counts.failed} requests failed`);
if (counts.wrong > 0) problems.push(`${counts.wrong} answers were wrong`);
if (!(growth <= maxGrowth))
  problems.push(`the Gateway grew ${(growth * 100).toFixed(1)}% after warm-up (limit ${maxGrowth * 100}%)`);
if (problems.length > 0) {
  console.error(`soak: FAILED: ${problems.join('; ')}`);
  process.exit(1);
}
console.error('soak: passed');
