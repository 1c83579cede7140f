/**
 * The streaming section of `npm run bench` (issue 17): an Executor yields N documents of 20 bytes
 * as fast as it can, streamed through the Gateway to the Client over each protocol, next to a raw
 * stream forwarder built with the same libraries (grpc-js source; grpc-js, node:http SSE and ws
 * forwarders; see raw/stream-serve.ts). Per protocol: items/s over one stream of N items, the
 * median time to the first item of a fresh one-item stream, and flowgate / raw for both.
 * Writes bench/results/streaming.json; a failed stream is a failure of the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { api } from './api.js';
import { benchFile, startChild, type BenchChild } from './child.js';
import { StreamExecutor } from './flow/stream-executor.js';
import { openSource, rawClient } from './raw/stream-serve.js';
import { parseSse } from '../src/transport/http/sse.js';

type Protocol = 'grpc' | 'http' | 'websocket';
const PROTOCOLS: Protocol[] = ['grpc', 'http', 'websocket'];

/** One row: a protocol, flowgate and raw. */
export interface StreamingRow {
  protocol: Protocol;
  items: number;
  flowgate: { itemsPerS: number; firstItemMs: number };
  raw: { itemsPerS: number; firstItemMs: number };
  /** flowgate / raw items/s. */
  ratio: number;
}

/** A stream source: runs one stream of `n` items, calling `onItem` for each. */
type StreamRun = (n: number) => AsyncIterable<unknown>;

async function measure(
  run: StreamRun,
  n: number,
  firsts: number,
): Promise<{ itemsPerS: number; firstItemMs: number }> {
  for await (const _ of run(Math.min(n, 200))) void _; // warm up
  const t0 = performance.now();
  let got = 0;
  for await (const _ of run(n)) {
    void _;
    got++;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (got !== n) throw new Error(`a stream of ${n} items yielded ${got}`);
  const times: number[] = [];
  for (let i = 0; i < firsts; i++) {
    const s = performance.now();
    for await (const _ of run(1)) {
      void _;
      times.push(performance.now() - s);
      break;
    }
  }
  times.sort((a, b) => a - b);
  return { itemsPerS: n / seconds, firstItemMs: times[Math.floor(times.length / 2)] ?? NaN };
}

function rawRun(protocol: Protocol, port: number): StreamRun {
  if (protocol === 'grpc') {
    const client = rawClient(`127.0.0.1:${port}`);
    return (n) => openSource(client, n) as AsyncIterable<Buffer>;
  }
  if (protocol === 'http')
    return async function* (n) {
      const res = await fetch(`http://127.0.0.1:${port}/?n=${n}`);
      for await (const e of parseSse(res.body as AsyncIterable<Uint8Array>)) {
        if (e.event === 'end') return;
        yield e.data;
      }
    };
  return async function* (n) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const frames: string[] = [];
    let wake: (() => void) | undefined;
    ws.on('message', (d) => {
      frames.push((d as Buffer).toString());
      wake?.();
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(String(n));
    try {
      for (;;) {
        if (frames.length === 0) await new Promise<void>((r) => (wake = r));
        const f = frames.shift()!;
        if (f.includes('"end"')) return;
        yield f;
      }
    } finally {
      ws.close();
    }
  };
}

/** Runs the section; `failures` gets a line per broken stream. */
export async function runStreamingBench(
  log: (line: string) => void,
  quick: boolean,
  failures: string[],
): Promise<StreamingRow[]> {
  const n = quick ? 3000 : 30_000;
  const firsts = quick ? 5 : 25;
  const rows: StreamingRow[] = [];
  const flow = new api.Flow()
    .configGateway({ protocol: PROTOCOLS })
    .add({ name: 'stream', uses: StreamExecutor });
  const children: BenchChild[] = [];
  try {
    await flow.start();
    const source = await startChild(benchFile('raw/stream-serve.ts'), ['source']);
    children.push(source);
    for (const [i, protocol] of PROTOCOLS.entries()) {
      try {
        const fwd = await startChild(benchFile('raw/stream-serve.ts'), [
          `${protocol === 'websocket' ? 'ws' : protocol}-fwd`,
          `127.0.0.1:${source.port}`,
        ]);
        children.push(fwd);
        const client = new api.Client({ protocol, port: flow.ports[i] });
        const ours = await measure(
          (k) => client.streamDoc({ on: '/stream', inputs: {}, parameters: { n: k } }),
          n,
          firsts,
        );
        await client.close();
        const raw = await measure(rawRun(protocol, fwd.port), n, firsts);
        const row = { protocol, items: n, flowgate: ours, raw, ratio: ours.itemsPerS / raw.itemsPerS };
        rows.push(row);
        log(
          `streaming ${protocol}: ${ours.itemsPerS.toFixed(0)} items/s (raw ${raw.itemsPerS.toFixed(0)}, x${row.ratio.toFixed(2)}), first item ${ours.firstItemMs.toFixed(1)} ms (raw ${raw.firstItemMs.toFixed(1)} ms)`,
        );
      } catch (err) {
        failures.push(`streaming ${protocol}: ${(err as Error).message}`);
      }
    }
  } finally {
    await flow.close();
    for (const c of children) await c.stop();
  }
  const out = fileURLToPath(new URL('./results/streaming.json', import.meta.url));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), quick, rows }, null, 2)}\n`);
  process.stdout.write(`${formatStreaming(rows)}\n`);
  return rows;
}

/** The section as a Markdown table. */
export function formatStreaming(rows: StreamingRow[]): string {
  const lines = [
    '| streaming (20 B items) | flowgate items/s | raw items/s | ratio | first item flowgate | first item raw |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.protocol} | ${r.flowgate.itemsPerS.toFixed(0)} | ${r.raw.itemsPerS.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.flowgate.firstItemMs.toFixed(1)} ms | ${r.raw.firstItemMs.toFixed(1)} ms |`,
    );
  return lines.join('\n');
}

const isMain = process.argv[1]?.endsWith('streaming.ts');
if (isMain) {
  const failures: string[] = [];
  const t0 = performance.now();
  await runStreamingBench(
    (l) => process.stderr.write(`[streaming ${((performance.now() - t0) / 1000).toFixed(0)}s] ${l}\n`),
    process.argv.includes('--quick'),
    failures,
  );
  for (const f of failures) process.stderr.write(`FAILED: ${f}\n`);
  process.exit(failures.length ? 1 : 0);
}
