/**
 * Turns the measurements into ratios to the raw limit, the target list with PASS/MISS, the
 * printed table and the JSON written to bench/results/.
 */
import type { Cell, BenchProtocol } from './measure.js';
import { PAYLOAD_LABELS } from './payloads.js';
import type { FlowCosts } from './sections/flow-costs.js';
import { median } from './sections/flow-costs.js';
import type { MetricsCost } from './sections/metrics.js';
import type { ThroughputResult } from './sections/throughput.js';

/** One target of issue 9 and how this run did. */
export interface TargetResult {
  name: string;
  /** The figure, in `unit`. */
  measured: number | undefined;
  limit: number;
  op: '>=' | '<=' | '<';
  unit: string;
  status: 'PASS' | 'MISS' | 'n/a';
  note?: string;
}

/** Everything a run produces (bench/results/latest.json). */
export interface BenchReport {
  version: 1;
  date: string;
  mode: 'quick' | 'full';
  provisional: boolean;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  cells: Cell[];
  idleRssMb: ThroughputResult['idleRssMb'];
  unavailable: ThroughputResult['unavailable'];
  flow: FlowCosts & { startMedianMs: Record<string, number | undefined> };
  metrics: MetricsCost;
  targets: TargetResult[];
  /** Requests that failed or parts that broke: non-empty means exit code 1. */
  failures: string[];
  durationS: number;
}

/** Fills `vsRaw` of every flowgate cell from the raw forwarder cell with the same protocol, payload and concurrency. */
export function addRatios(cells: Cell[]): void {
  for (const c of cells) {
    if (c.group !== 'flowgate' || c.status !== 'ok') continue;
    const raw = find(cells, 'raw-forwarder', c.protocol, 'external', c.payload, c.concurrency);
    if (!raw || raw.status !== 'ok') continue;
    c.vsRaw = {
      ...(raw.reqPerS ? { reqPerS: c.reqPerS! / raw.reqPerS } : {}),
      ...(raw.p50Ms && c.p50Ms !== undefined ? { p50: c.p50Ms / raw.p50Ms } : {}),
    };
  }
}

function find(
  cells: Cell[],
  group: Cell['group'],
  protocol: BenchProtocol,
  loadgen: Cell['loadgen'],
  payload: Cell['payload'],
  concurrency: number,
): Cell | undefined {
  return cells.find(
    (c) =>
      c.group === group &&
      c.protocol === protocol &&
      c.loadgen === loadgen &&
      c.payload === payload &&
      c.concurrency === concurrency,
  );
}

function target(
  name: string,
  measured: number | undefined,
  op: TargetResult['op'],
  limit: number,
  unit: string,
  note?: string,
): TargetResult {
  const ok =
    measured === undefined
      ? undefined
      : op === '>='
        ? measured >= limit
        : op === '<='
          ? measured <= limit
          : measured < limit;
  return {
    name,
    measured,
    limit,
    op,
    unit,
    status: ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS',
    ...(note ? { note } : {}),
  };
}

/** The targets of issue 9, evaluated on this run's figures. */
export function evaluateTargets(cells: Cell[], tp: ThroughputResult, flow: FlowCosts): TargetResult[] {
  const fg = (p: BenchProtocol, payload: Cell['payload'], c: number) =>
    find(cells, 'flowgate', p, 'external', payload, c);
  const t: TargetResult[] = [
    target(
      'gRPC Gateway c64 req/s vs raw gRPC forwarder',
      fg('grpc', 'text1', 64)?.vsRaw?.reqPerS,
      '>=',
      0.75,
      'x',
    ),
    target('gRPC Gateway c1 p50 vs raw gRPC forwarder', fg('grpc', 'text1', 1)?.vsRaw?.p50, '<=', 1.3, 'x'),
    target(
      'HTTP Gateway c64 req/s vs raw HTTP forwarder',
      fg('http', 'text1', 64)?.vsRaw?.reqPerS,
      '>=',
      0.7,
      'x',
    ),
    target(
      'WebSocket Gateway c64 req/s vs raw WS forwarder',
      fg('websocket', 'text1', 64)?.vsRaw?.reqPerS,
      '>=',
      0.7,
      'x',
    ),
  ];
  for (const p of ['grpc', 'http', 'websocket'] as const) {
    const c = fg(p, 'tensor1m', 64);
    t.push(target(`${p} 1 MiB tensor c64 MB/s vs raw forwarder`, c?.vsRaw?.reqPerS, '>=', 0.8, 'x'));
    t.push(
      target(`${p} 1 MiB tensor c64 MB/s`, c?.status === 'ok' ? c.mbPerS : undefined, '>=', 250, 'MB/s'),
    );
  }
  t.push(target('Flow start, 5 Executors (median)', median(flow.startMs[5] ?? []), '<', 2000, 'ms'));
  t.push(target('added p50 per extra Executor in a chain', flow.addedPerExecutorMs, '<', 0.3, 'ms'));
  for (const p of ['grpc', 'http', 'websocket'] as const) {
    t.push(target(`${p} Gateway idle RSS`, tp.idleRssMb[`flowgate:${p}`], '<', 80, 'MB'));
    const peaks = cells
      .filter((c) => c.group === 'flowgate' && c.protocol === p && c.concurrency === 64)
      .filter((c) => c.payload !== 'tensor1m' && c.status === 'ok' && c.peakRssMb !== undefined)
      .map((c) => c.peakRssMb!);
    t.push(
      target(
        `${p} Gateway peak RSS under c64 (text payloads)`,
        peaks.length ? Math.max(...peaks) : undefined,
        '<',
        150,
        'MB',
      ),
    );
  }
  return t;
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
const GROUP_LABEL: Record<Cell['group'], string> = {
  'raw-echo': 'raw echo (no hop)',
  'raw-forwarder': 'raw forwarder',
  flowgate: 'flowgate Gateway',
};

/** Aligns columns: the first `left` to the left, the others to the right. */
function pad(rows: string[][], left: number): string {
  const full = rows[0]!.length;
  // A short row (an n/a or failure message) does not widen the column its message starts in.
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => (r.length === full || i < r.length - 1 ? (r[i] ?? '').length : 0))),
  );
  return rows
    .map((r) =>
      r
        .map((v, i) =>
          i === r.length - 1 && i < full - 1 ? v : i < left ? v.padEnd(widths[i]!) : v.padStart(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The printed report. */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  out.push(
    `flowgate benchmark (${r.mode}${r.provisional ? ', provisional' : ''}) ${r.date}: ${String(r.machine.cpus)} x ${String(r.machine.cpuModel)}, Node ${String(r.machine.node)}, load average ${String(r.machine.loadavgStart)} -> ${String(r.machine.loadavgEnd)}`,
  );
  out.push(`load generators: ${String(r.settings.loadgens)}; flowgate from ${String(r.settings.api)}`);
  out.push('MB/s = encoded documents moved one way; CPU and RSS are the Gateway or raw front process only.');
  for (const p of ['grpc', 'http', 'websocket'] as const) {
    const rows: string[][] = [
      [
        'server',
        'load',
        'payload',
        'c',
        'req/s',
        'MB/s',
        'p50 ms',
        'p99 ms',
        'CPU us/req',
        'peak RSS MB',
        'x raw req/s',
        'x raw p50',
      ],
    ];
    for (const c of r.cells.filter((c) => c.protocol === p)) {
      const load = c.loadgen === 'client' ? 'flowgate Client' : (c.tool ?? 'external');
      const head = [GROUP_LABEL[c.group], load, PAYLOAD_LABELS[c.payload], String(c.concurrency)];
      if (c.status !== 'ok') {
        rows.push([
          ...head,
          c.status === 'n/a' ? 'n/a (not available)' : `FAILED: ${(c.reason ?? '').slice(0, 80)}`,
        ]);
        continue;
      }
      rows.push([
        ...head,
        fmt(c.reqPerS),
        fmt(c.mbPerS, 1),
        fmt(c.p50Ms, 3),
        fmt(c.p99Ms, 3),
        fmt(c.cpuUsPerReq, 0),
        fmt(c.peakRssMb, 0),
        fmt(c.vsRaw?.reqPerS, 2),
        fmt(c.vsRaw?.p50, 2),
      ]);
    }
    out.push('', `== ${p} ==`, pad(rows, 4));
  }
  const f = r.flow;
  out.push('', '== Flow ==');
  for (const [n, times] of Object.entries(f.startMs)) {
    out.push(
      `flow.start() to ready, ${n} Executor(s): median ${fmt(median(times))} ms (${times.map((t) => fmt(t)).join(', ')})`,
    );
  }
  out.push(
    `chain p50 (gRPC, c1, 1 doc): ${Object.entries(f.chainP50Ms)
      .map(([n, p]) => `${n} Executor(s) ${fmt(p, 3)} ms`)
      .join(', ')}; added per Executor ${fmt(f.addedPerExecutorMs, 3)} ms`,
  );
  out.push(
    `idle RSS: ${Object.entries(r.idleRssMb)
      .map(([k, v]) => `${k} ${fmt(v, 0)} MB`)
      .join(', ')}`,
  );
  out.push(
    r.metrics.status === 'ok'
      ? `metrics on/off req/s: ${fmt(r.metrics.ratio, 2)} (${fmt(r.metrics.on?.reqPerS)} vs ${fmt(r.metrics.off?.reqPerS)})`
      : `metrics on/off: ${r.metrics.status} (${r.metrics.reason ?? ''})`,
  );
  const trows: string[][] = [['target', 'measured', 'limit', 'result']];
  for (const t of r.targets) {
    trows.push([
      t.name,
      `${fmt(t.measured, t.unit === 'x' ? 2 : t.unit === 'ms' ? 3 : 0)} ${t.unit}`,
      `${t.op} ${t.limit} ${t.unit}`,
      t.status,
    ]);
  }
  out.push('', '== Targets (ratios to the raw limit measured in this run) ==', pad(trows, 1));
  if (r.failures.length) out.push('', 'FAILURES:', ...r.failures.map((f) => `  ${f}`));
  out.push('', `took ${r.durationS.toFixed(0)} s`);
  return out.join('\n');
}
