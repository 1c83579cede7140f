/**
 * Turns the measurements into ratios to the raw limit, the target list with PASS/MISS, the
 * printed table and the JSON written to bench/results/.
 */
import type { Cell, BenchProtocol } from './measure.js';
import { PAYLOAD_LABELS } from './payloads.js';
import type { FlowCosts } from './sections/flow-costs.js';
import { median } from './sections/flow-costs.js';
import type { MetricsCost } from './sections/metrics.js';
import type { PeerResult } from './sections/peer.js';
import type { ThroughputResult } from './sections/throughput.js';

/** One target (issues 9 and 22) and how this run did. */
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
  /** 2 since issue 22 (memory, peer, cpuXRaw, vsLoadgen, body; the issue 22 targets). */
  version: 2;
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
  /** One big request per Gateway and its RSS rise (issue 22). */
  memory: ThroughputResult['memory'];
  /** flowgate against Moleculer (issue 22). */
  peer: PeerResult;
  targets: TargetResult[];
  /** Requests that failed or parts that broke: non-empty means exit code 1. */
  failures: string[];
  durationS: number;
}

/**
 * Fills the ratios of every flowgate cell: `vsRaw` and `cpuXRaw` from the raw forwarder cell with
 * the same protocol, body, payload and concurrency; `vsLoadgen` of Client cells from the external
 * load generator on the same Gateway (for HTTP, its protobuf row when it ran, else its JSON row).
 */
export function addRatios(cells: Cell[]): void {
  for (const c of cells) {
    if (c.group !== 'flowgate' || c.status !== 'ok') continue;
    if (c.loadgen === 'client') {
      const ext = ['protobuf', 'json']
        .map((b) => find(cells, 'flowgate', c.protocol, 'external', c.payload, c.concurrency, b))
        .find((x) => x?.status === 'ok');
      if (ext?.reqPerS) c.vsLoadgen = c.reqPerS! / ext.reqPerS;
    }
    const raw = find(cells, 'raw-forwarder', c.protocol, 'external', c.payload, c.concurrency, c.body);
    if (!raw || raw.status !== 'ok') continue;
    c.vsRaw = {
      ...(raw.reqPerS ? { reqPerS: c.reqPerS! / raw.reqPerS } : {}),
      ...(raw.p50Ms && c.p50Ms !== undefined ? { p50: c.p50Ms / raw.p50Ms } : {}),
    };
    if (c.loadgen === 'external' && raw.cpuUsPerReq && c.cpuUsPerReq !== undefined)
      c.cpuXRaw = c.cpuUsPerReq / raw.cpuUsPerReq;
  }
}

function find(
  cells: Cell[],
  group: Cell['group'],
  protocol: BenchProtocol,
  loadgen: Cell['loadgen'],
  payload: Cell['payload'],
  concurrency: number,
  body?: string,
): Cell | undefined {
  return cells.find(
    (c) =>
      c.group === group &&
      c.protocol === protocol &&
      c.loadgen === loadgen &&
      c.payload === payload &&
      c.concurrency === concurrency &&
      (c.body ?? 'json') === (body ?? 'json'),
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

/** What {@link evaluateTargets} reads besides the cells. */
export interface TargetInputs {
  tp: ThroughputResult;
  flow: FlowCosts;
  peer: PeerResult;
  /** The size of the big request of the memory targets, MB. */
  memoryMb: number;
}

const P_LABEL: Record<BenchProtocol, string> = { grpc: 'gRPC', http: 'HTTP', websocket: 'WebSocket' };

/** The targets of issue 22 (and issue 9's Flow start), evaluated on this run's figures. */
export function evaluateTargets(cells: Cell[], o: TargetInputs): TargetResult[] {
  const fg = (p: BenchProtocol, payload: Cell['payload'], c: number, loadgen: Cell['loadgen'] = 'external') =>
    find(cells, 'flowgate', p, loadgen, payload, c);
  const ok = (c: Cell | undefined) => (c?.status === 'ok' ? c : undefined);
  const t: TargetResult[] = [];
  const { peer } = o;
  const f = peer.flowgate;
  const m = peer.moleculer;
  const peerNote = peer.status === 'ok' ? undefined : `peer section failed: ${peer.reason ?? '?'}`;
  t.push(
    target(
      'peer: flowgate HTTP Gateway + Executor req/s x Moleculer',
      f?.reqPerS && m?.reqPerS ? f.reqPerS / m.reqPerS : undefined,
      '>=',
      1.3,
      'x',
      peerNote ?? `${fmt(f?.reqPerS)} vs ${fmt(m?.reqPerS)} req/s`,
    ),
    target(
      'peer: flowgate Gateway CPU us/req x Moleculer gateway',
      f?.frontCpuUsPerReq && m?.frontCpuUsPerReq ? f.frontCpuUsPerReq / m.frontCpuUsPerReq : undefined,
      '<',
      1,
      'x',
      peerNote ?? `${fmt(f?.frontCpuUsPerReq)} vs ${fmt(m?.frontCpuUsPerReq)} us/req`,
    ),
  );
  for (const p of ['grpc', 'http', 'websocket'] as const) {
    for (const payload of ['text1', 'text100'] as const) {
      const c = fg(p, payload, 64);
      const what = `${P_LABEL[p]} ${payload === 'text1' ? '1 doc' : '100 docs'} c64`;
      t.push(target(`${what}: Gateway CPU x raw forwarder`, ok(c)?.cpuXRaw, '<=', 1.25, 'x'));
      t.push(target(`${what}: req/s x raw forwarder`, ok(c)?.vsRaw?.reqPerS, '>=', 0.8, 'x'));
    }
  }
  for (const p of ['grpc', 'http', 'websocket'] as const) {
    t.push(
      target(
        `${P_LABEL[p]} Client c64 req/s x load generator`,
        ok(fg(p, 'text1', 64, 'client'))?.vsLoadgen,
        '>=',
        0.8,
        'x',
      ),
    );
  }
  const pb = find(cells, 'flowgate', 'http', 'external', 'tensor1m', 64, 'protobuf');
  const g = ok(fg('grpc', 'tensor1m', 64));
  t.push(
    target(
      'HTTP (protobuf) 1 MiB tensor c64 MB/s x gRPC Gateway',
      ok(pb)?.mbPerS !== undefined && g?.mbPerS ? pb!.mbPerS! / g.mbPerS : undefined,
      '>=',
      0.8,
      'x',
      pb?.status === 'n/a' ? 'application/x-protobuf not available' : undefined,
    ),
  );
  for (const p of ['grpc', 'websocket'] as const) {
    const c = ok(fg(p, 'tensor1m', 64));
    const raw = ok(find(cells, 'raw-forwarder', p, 'external', 'tensor1m', 64));
    t.push(target(`${P_LABEL[p]} 1 MiB tensor c64 MB/s x raw forwarder`, c?.vsRaw?.reqPerS, '>=', 0.8, 'x'));
    const rawBelow = raw?.mbPerS !== undefined && raw.mbPerS < 250;
    const r = target(`${P_LABEL[p]} 1 MiB tensor c64 MB/s`, c?.mbPerS, '>=', 250, 'MB/s');
    t.push(
      rawBelow ? { ...r, status: 'n/a', note: `raw below 250 (raw forwarder ${fmt(raw.mbPerS)} MB/s)` } : r,
    );
  }
  const n = o.memoryMb;
  for (const big of o.tp.memory) {
    const label = `${P_LABEL[big.protocol]}${big.body ? ` (${big.body})` : ''}`;
    t.push(
      target(
        `${label} RSS rise for one ${fmt(big.requestMb)} MB request`,
        big.riseMb,
        '<=',
        Math.round(3 * big.requestMb),
        'MB',
        big.status === 'ok' ? undefined : `${big.status}: ${big.reason ?? ''}`,
      ),
    );
  }
  if (o.tp.memory.length === 0 && n > 0)
    t.push(target(`RSS rise for one ${n} MB request`, undefined, '<=', 3 * n, 'MB'));
  for (const p of ['grpc', 'http', 'websocket'] as const) {
    const peaks = cells
      .filter(
        (c) => c.group === 'flowgate' && c.protocol === p && c.concurrency === 64 && c.payload === 'text1',
      )
      .filter((c) => c.loadgen === 'external' && c.status === 'ok' && c.peakRssMb !== undefined)
      .map((c) => c.peakRssMb!);
    t.push(
      target(
        `${P_LABEL[p]} Gateway peak RSS, c64, 1-doc requests`,
        peaks.length ? Math.max(...peaks) : undefined,
        '<',
        150,
        'MB',
      ),
    );
    t.push(target(`${P_LABEL[p]} Gateway idle RSS`, o.tp.idleRssMb[`flowgate:${p}`], '<', 80, 'MB'));
  }
  t.push(target('added p50 per extra Executor in a chain (c1)', o.flow.addedPerExecutorMs, '<', 0.25, 'ms'));
  t.push(target('Flow start, 5 Executors (median)', median(o.flow.startMs[5] ?? []), '<', 2000, 'ms'));
  return t;
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
const GROUP_LABEL: Record<Cell['group'], string> = {
  'raw-echo': 'raw echo (no hop)',
  'raw-forwarder': 'raw forwarder',
  'raw-forwarder-h2': 'raw fwd, node:http2 hop',
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

/** The peer section's lines. */
function formatPeer(p: PeerResult): string[] {
  const head = `== Peer: front door + one hop, 1 doc x 100 B JSON, c${p.concurrency}, ${p.roundsPerSide} alternating round(s) per side${p.tool ? `, ${p.tool}` : ''} ==`;
  if (p.status !== 'ok') return [head, `FAILED: ${p.reason ?? '?'}`];
  const rows = [
    [
      'side',
      'req/s',
      'front-door CPU us/req',
      'both processes us/req',
      'p50 ms',
      'p99 ms',
      'req/s per round',
    ],
  ];
  for (const s of [p.flowgate, p.moleculer]) {
    if (!s) continue;
    rows.push([
      s.name === 'flowgate'
        ? 'flowgate HTTP Gateway + Executor'
        : 'Moleculer 0.15 (moleculer-web + service, TCP)',
      fmt(s.reqPerS),
      fmt(s.frontCpuUsPerReq),
      fmt(s.bothCpuUsPerReq),
      fmt(s.p50Ms, 3),
      fmt(s.p99Ms, 3),
      s.rounds.map((x) => fmt(x.reqPerS)).join(' '),
    ]);
  }
  return [head, pad(rows, 1)];
}

/** The memory section's lines. */
function formatMemory(m: ThroughputResult['memory']): string[] {
  const rows = [['Gateway', 'request MB', 'RSS before MB', 'peak MB', 'rise MB', 'answer ms']];
  for (const b of m) {
    const name = `${b.protocol}${b.body ? ` (${b.body})` : ''}`;
    if (b.status !== 'ok') {
      rows.push([
        name,
        fmt(b.requestMb),
        b.status === 'n/a' ? `n/a (${b.reason ?? ''})` : `FAILED: ${b.reason ?? ''}`,
      ]);
      continue;
    }
    rows.push([name, fmt(b.requestMb), fmt(b.beforeMb), fmt(b.peakMb), fmt(b.riseMb), fmt(b.ms)]);
  }
  return ['== Memory: one big request per Gateway (RSS from /proc; rise in MB of 1e6 B) ==', pad(rows, 1)];
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
        'CPU x raw',
        'x loadgen',
      ],
    ];
    for (const c of r.cells.filter((c) => c.protocol === p)) {
      const load = c.loadgen === 'client' ? 'flowgate Client' : (c.tool ?? 'external');
      const body = c.protocol === 'http' ? (c.body === 'protobuf' ? ', protobuf' : ', JSON') : '';
      const head = [GROUP_LABEL[c.group], load, `${PAYLOAD_LABELS[c.payload]}${body}`, String(c.concurrency)];
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
        fmt(c.cpuXRaw, 2),
        fmt(c.vsLoadgen, 2),
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
  out.push('', ...formatPeer(r.peer), '', ...formatMemory(r.memory));
  const trows: string[][] = [['target', 'measured', 'limit', 'result', 'note']];
  for (const t of r.targets) {
    trows.push([
      t.name,
      `${fmt(t.measured, t.unit === 'x' ? 2 : t.unit === 'ms' ? 3 : 0)} ${t.unit}`,
      `${t.op} ${t.limit} ${t.unit}`,
      t.status,
      t.note ?? '',
    ]);
  }
  out.push('', '== Targets (issue 22; ratios to figures measured in this run) ==', pad(trows, 1));
  if (r.failures.length) out.push('', 'FAILURES:', ...r.failures.map((f) => `  ${f}`));
  out.push('', `took ${r.durationS.toFixed(0)} s`);
  return out.join('\n');
}
