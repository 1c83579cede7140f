/**
 * The batching section (issue 18): a simulated accelerator (2 ms per call + 20 us per document,
 * busy-waiting; bench/flow/accelerator-executor.mjs) behind a gRPC Gateway, driven by 64 concurrent
 * Clients that each post one document at a time, without and with
 * `@dynamicBatching({ preferredBatchSize: 32, timeout: 5 })`. The 64 clients are the benchmark's
 * gRPC load generator (h2load, else the Node worker) at concurrency 64, one 100 B document per
 * request. Reports req/s, p50, p99 and the mean batch size (documents per call of the method, from
 * the Executor's metrics). Writes bench/results/batching.json.
 *
 * Part of `npm run bench` (and `--quick`); alone: `node --import tsx bench/batching.ts [--quick]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { api, dropTsxForFlowChildren } from './api.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { measureCell, type MeasureContext } from './measure.js';

const EXECUTOR = fileURLToPath(new URL('./flow/accelerator-executor.mjs', import.meta.url));
const CLIENTS = 64;

/** One side of the comparison. */
export interface BatchingCell {
  batched: boolean;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Documents per call of the Executor's method, over the measured window. */
  meanBatchSize: number;
  requests: number;
  errors: number;
  /** The load generator (h2load, or the Node gRPC worker). */
  tool: string;
  failed?: string;
}

/** Documents processed and method calls so far, from the Executor's metrics. */
async function counts(port: number): Promise<{ docs: number; calls: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  return { docs: sum('jina_document_processed_total'), calls: sum('jina_process_request_seconds_count') };
}

async function measure(ctx: MeasureContext, batched: boolean): Promise<BatchingCell> {
  const cls = batched ? 'BatchedAccelerator' : 'Accelerator';
  const flow = new api.Flow({ timeoutReady: 60_000 })
    .configGateway({ protocol: 'grpc' })
    .add({ uses: `${EXECUTOR}:${cls}`, name: 'accelerator', monitoring: true });
  await flow.start();
  try {
    const metricsPort = flow.monitoringPorts.accelerator!;
    const before = await counts(metricsPort);
    const target = { group: 'flowgate', protocol: 'grpc', port: flow.port, pid: flow.pids.at(-1)! } as const;
    const cell = await measureCell(ctx, target, 'external', 'text1', CLIENTS);
    const after = await counts(metricsPort);
    return {
      batched,
      reqPerS: cell.reqPerS ?? NaN,
      p50Ms: cell.p50Ms ?? NaN,
      p99Ms: cell.p99Ms ?? NaN,
      meanBatchSize: (after.docs - before.docs) / (after.calls - before.calls),
      requests: cell.requests ?? 0,
      errors: cell.errors ?? 0,
      tool: cell.tool ?? '?',
      ...(cell.status === 'ok' ? {} : { failed: cell.reason ?? cell.status }),
    };
  } finally {
    await flow.close();
  }
}

function line(c: BatchingCell): string {
  return `${(c.batched ? '@dynamicBatching(32, 5 ms)' : 'no batching').padEnd(27)} ${c.reqPerS.toFixed(0).padStart(7)} req/s   p50 ${c.p50Ms.toFixed(1).padStart(6)} ms   p99 ${c.p99Ms.toFixed(1).padStart(6)} ms   mean batch ${c.meanBatchSize.toFixed(1).padStart(5)}`;
}

/**
 * Runs the section, prints it, writes bench/results/batching.json; resolves to the failures (a
 * request that errored, or nothing measured), empty when all went well. Never fails on timing.
 */
export async function runBatching(
  ctx: MeasureContext,
  quick: boolean,
  log: (line: string) => void,
): Promise<string[]> {
  const failures: string[] = [];
  // Its own window: without batching, 64 requests in flight take ~0.13 s each to drain at the
  // Executor's 495 req/s (far longer on a loaded machine), more than the quick window of other cells.
  const window = quick ? { warmupMs: 500, durationMs: 2000 } : { warmupMs: 1000, durationMs: 5000 };
  const own: MeasureContext = { ...ctx, window: () => window };
  try {
    const plain = await measure(own, false);
    log(`batching: ${line(plain)}`);
    const batched = await measure(own, true);
    log(`batching: ${line(batched)}`);
    const speedup = batched.reqPerS / plain.reqPerS;
    const report = {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      clients: CLIENTS,
      loadavg: loadavg().map((l) => Number(l.toFixed(2))),
      plain,
      batched,
      speedup,
    };
    const out = fileURLToPath(new URL('./results/batching.json', import.meta.url));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `\nDynamic batching: ${CLIENTS} one-document clients, an Executor costing 2 ms/call + 20 us/doc (gRPC)\n  ${line(plain)}\n  ${line(batched)}\n  throughput x${speedup.toFixed(1)} (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs)\n`,
    );
    for (const c of [plain, batched]) {
      if (c.failed) failures.push(`batching: ${c.failed} (batched: ${c.batched})`);
      if (c.requests === 0)
        log(
          `batching: no request answered within the window (batched: ${c.batched}): is the machine loaded?`,
        );
    }
  } catch (err) {
    failures.push(`batching: ${err instanceof Error ? err.message : String(err)}`);
  }
  return failures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  dropTsxForFlowChildren();
  const t0 = performance.now();
  const quick = process.argv.includes('--quick');
  const load = await NodeLoad.start();
  const ctx: MeasureContext = {
    load,
    window: () => ({ warmupMs: 0, durationMs: 0 }), // runBatching uses its own
    wrk: false,
    h2load: !process.argv.includes('--loadgen=node') && hasTool('h2load'),
  };
  const failures = await runBatching(ctx, quick, (l) =>
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${l}\n`),
  ).finally(() => load.stop());
  for (const f of failures) process.stderr.write(`FAILED: ${f}\n`);
  process.exit(failures.length ? 1 : 0);
}
