/**
 * flowgate's benchmark (issue 9): the raw limit of the libraries flowgate is built on next to
 * flowgate's Gateways, in one run on this machine, plus the costs of the Flow itself.
 *
 * Run `npm run bench` (full, under 5 minutes) or `npm run bench -- --quick` (under 60 s, for CI:
 * it reports and never fails on timing; it exits 1 only when something is broken, e.g. a request
 * errors or a Flow does not start). Options: `--loadgen=node` (never wrk/h2load), `--out=FILE`
 * (another copy of the JSON), `--cpu-prof=DIR [--cell=http:text1:64,...]` (only the named cells,
 * every server process under `--cpu-prof`, a top-30 self-time summary per process; bench/profile.ts).
 * Results: bench/results/latest.json. See docs/performance.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiSource, dropTsxForFlowChildren } from './api.js';
import { runBatching } from './batching.js';
import { runOnePort } from './one-port.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import type { MeasureContext } from './measure.js';
import { PAYLOADS } from './payloads.js';
import { runProfiles } from './profile.js';
import { addRatios, evaluateTargets, formatReport, type BenchReport } from './report.js';
import { median, runFlowCosts } from './sections/flow-costs.js';
import { runMetricsCost } from './sections/metrics.js';
import { runPeer } from './sections/peer.js';
import { runThroughput, type CellKey, type ThroughputPlan } from './sections/throughput.js';
import { runStreamingBench } from './streaming.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const forceNode = args.includes('--loadgen=node');
const extraOut = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const cpuProf = args.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const profCells = (
  args.find((a) => a.startsWith('--cell='))?.slice('--cell='.length) ?? 'http:text1:64'
).split(',');
const t0 = performance.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);

const every: CellKey[] = PAYLOADS.flatMap((p) => [[p, 1] as CellKey, [p, 64] as CellKey]);
// Quick keeps what the targets read (c64 for the ratios, text1 c1 for the chain), nothing more.
const plan: ThroughputPlan = quick
  ? {
      cells: [
        ['text1', 1],
        ['text1', 64],
        ['text100', 64],
        ['tensor1m', 64],
      ],
      rawEcho: [],
      client: [['text1', 64]],
      protobuf: [['tensor1m', 64]],
      protobufRaw: false,
      h2Hop: [],
      memoryMb: 16,
    }
  : {
      cells: every,
      rawEcho: every,
      client: every,
      protobuf: every,
      protobufRaw: true,
      h2Hop: [1, 64],
      memoryMb: 50,
    };

dropTsxForFlowChildren();
const wrk = !forceNode && hasTool('wrk');
const h2load = !forceNode && hasTool('h2load');
const loadavgStart = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
log(
  `${cpuProf ? `profiles of ${profCells.join(', ')}` : quick ? 'quick run' : 'full run'}; flowgate from ${apiSource}/; load generators: gRPC ${h2load ? 'h2load' : 'node'}, HTTP ${wrk ? 'wrk' : 'node'}, WebSocket node; load average ${loadavgStart}`,
);

// A hung part must not hold CI for its whole budget: give up well after the expected time.
const watchdogMin = quick ? 10 : 30;
setTimeout(() => {
  log(`FAILED: still running after ${watchdogMin} minutes; something hangs`);
  process.exit(1);
}, watchdogMin * 60_000).unref();

const load = await NodeLoad.start();
const ctx: MeasureContext = {
  load,
  window: (payload, concurrency) =>
    payload === 'tensor1m' && concurrency > 1
      ? { warmupMs: quick ? 400 : 1000, durationMs: quick ? 1200 : 2500 }
      : { warmupMs: quick ? 150 : 500, durationMs: quick ? 400 : 1500 },
  wrk,
  h2load,
};
if (cpuProf) {
  // Profiles only: the named cells under --cpu-prof, nothing else (see bench/profile.ts).
  const failed = await runProfiles(ctx, cpuProf, profCells, log).finally(() => load.stop());
  for (const f of failed) log(`FAILED: ${f}`);
  process.exit(failed.length ? 1 : 0);
}
const failures: string[] = [];
let report: BenchReport;
try {
  const tp = await runThroughput(ctx, plan, log);
  addRatios(tp.cells);
  const peer = await runPeer(ctx, quick ? 1 : 3, quick, log);
  if (peer.status === 'failed') failures.push(`peer: ${peer.reason ?? '?'}`);
  const p50Ms1 = tp.cells.find(
    (c) =>
      c.group === 'flowgate' &&
      c.protocol === 'grpc' &&
      c.loadgen === 'external' &&
      c.payload === 'text1' &&
      c.concurrency === 1,
  )?.p50Ms;
  const flow = await runFlowCosts(
    ctx,
    {
      chain: quick ? [5] : [3, 5],
      startRepeats: quick ? {} : { 1: 2, 5: 2 },
      known: { startMs1: tp.startMs.grpc, p50Ms1 },
    },
    log,
  );
  const metrics = await runMetricsCost(ctx, log, quick ? 1 : 3);
  await runStreamingBench(log, quick, failures);
  failures.push(...(await runBatching(ctx, quick, log)));
  failures.push(...(await runOnePort(ctx, quick, log)));
  for (const m of tp.memory) {
    if (m.status === 'failed')
      failures.push(`memory ${m.protocol}${m.body ? ` (${m.body})` : ''}: ${m.reason ?? ''}`);
  }
  for (const c of [
    ...tp.cells,
    ...flow.chainCells,
    ...(metrics.on ? [metrics.on] : []),
    ...(metrics.off ? [metrics.off] : []),
  ]) {
    if (c.status === 'failed')
      failures.push(
        `${c.group} ${c.protocol} ${c.loadgen} ${c.payload} c${c.concurrency}: ${c.reason ?? ''}`,
      );
  }
  failures.push(...flow.failures);
  if (metrics.status === 'failed') failures.push(`metrics: ${metrics.reason ?? 'a cell failed'}`);
  report = {
    version: 2,
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    provisional: cpus().length < 4 || loadavg()[0]! > cpus().length * 0.5,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? '?',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadavgStart,
      loadavgEnd: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    settings: {
      api: `${apiSource}/`,
      loadgens: `gRPC ${h2load ? 'h2load -c1 -m<c>' : 'node grpc-js unary (worker process)'}, HTTP ${wrk ? 'wrk -t1 -c<c>' : 'node http (worker process)'}, WebSocket node ws (worker process)`,
      windows: {
        default: ctx.window('text1', 1),
        tensorC64: ctx.window('tensor1m', 64),
      },
      plan,
    },
    cells: tp.cells,
    idleRssMb: tp.idleRssMb,
    unavailable: tp.unavailable,
    flow: {
      ...flow,
      startMedianMs: Object.fromEntries(Object.entries(flow.startMs).map(([n, t]) => [n, median(t)])),
    },
    metrics,
    memory: tp.memory,
    peer,
    targets: evaluateTargets(tp.cells, { tp, flow, peer, memoryMb: plan.memoryMb }),
    failures,
    durationS: (performance.now() - t0) / 1000,
  };
} finally {
  await load.stop();
}

const json = `${JSON.stringify(report, null, 2)}\n`;
const latest = fileURLToPath(new URL('./results/latest.json', import.meta.url));
mkdirSync(dirname(latest), { recursive: true });
writeFileSync(latest, json);
if (extraOut) writeFileSync(extraOut, json);
process.stdout.write(`${formatReport(report)}\n`);
log(`wrote ${latest}${extraOut ? ` and ${extraOut}` : ''}`);
process.exit(failures.length ? 1 : 0);
