/**
 * The one-port section (issue 21): the same Flow (one EchoExecutor) behind a Gateway serving gRPC,
 * HTTP and WebSocket, once on three ports (one server per protocol, as the original) and once on
 * ONE port (the front that hands each connection to its protocol), in the same run. Each protocol
 * is loaded at concurrency 64 with 100 B documents by the benchmark's load generators; the ratio
 * one-port / separate is reported per protocol and for their sum (target >= 0.95). Writes
 * bench/results/one-port.json.
 *
 * Part of `npm run bench` (and `--quick`); alone: `node --import tsx bench/one-port.ts [--quick]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { api, apiSource, dropTsxForFlowChildren } from './api.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { measureCell, type BenchProtocol, type MeasureContext } from './measure.js';

const EXECUTOR_FILE = apiSource === 'dist' ? './flow/echo-executor.mjs' : './flow/echo-executor.ts';
const EXECUTOR = `${fileURLToPath(new URL(EXECUTOR_FILE, import.meta.url))}:EchoExecutor`;
const PROTOCOLS: BenchProtocol[] = ['grpc', 'http', 'websocket'];
const CONCURRENCY = 64;

/** Requests per second of each protocol, on one layout. */
type Rates = Record<BenchProtocol, number>;

async function measureLayout(ctx: MeasureContext, onePort: boolean, failures: string[]): Promise<Rates> {
  const flow = new api.Flow({ timeoutReady: 60_000 })
    .configGateway({ protocol: PROTOCOLS, ...(onePort ? { port: 0 } : {}) })
    .add({ uses: EXECUTOR, name: 'echo0' });
  await flow.start();
  try {
    const rates = {} as Rates;
    for (const [i, protocol] of PROTOCOLS.entries()) {
      const target = { group: 'flowgate', protocol, port: flow.ports[i]!, pid: flow.pids.at(-1)! } as const;
      const cell = await measureCell(ctx, target, 'external', 'text1', CONCURRENCY);
      if (cell.status !== 'ok')
        failures.push(`one-port ${onePort ? 'one' : 'separate'} ${protocol}: ${cell.reason ?? cell.status}`);
      rates[protocol] = cell.reqPerS ?? 0;
    }
    return rates;
  } finally {
    await flow.close();
  }
}

/**
 * Runs the section, prints it, writes bench/results/one-port.json; resolves to the failures (a
 * request that errored). Never fails on timing: the ratio is reported against its target.
 */
export async function runOnePort(
  ctx: MeasureContext,
  quick: boolean,
  log: (line: string) => void,
): Promise<string[]> {
  const failures: string[] = [];
  try {
    // Alternate the layouts (separate, one, separate, one...) so drift in the machine's load
    // falls on both; the best of the rounds per layout is compared.
    const rounds = quick ? 1 : 2;
    const best = { separate: {} as Rates, one: {} as Rates };
    for (let r = 0; r < rounds; r++) {
      for (const onePort of [false, true]) {
        const rates = await measureLayout(ctx, onePort, failures);
        const into = onePort ? best.one : best.separate;
        for (const p of PROTOCOLS) into[p] = Math.max(into[p] ?? 0, rates[p]);
        log(
          `one-port: ${onePort ? 'one port ' : 'separate '} ${PROTOCOLS.map((p) => `${p} ${rates[p].toFixed(0)}`).join(', ')} req/s`,
        );
      }
    }
    const sum = (r: Rates) => PROTOCOLS.reduce((n, p) => n + r[p], 0);
    const ratio = sum(best.one) / sum(best.separate);
    const perProtocol = Object.fromEntries(PROTOCOLS.map((p) => [p, best.one[p] / best.separate[p]]));
    const report = {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      concurrency: CONCURRENCY,
      payload: 'text1',
      loadavg: loadavg().map((l) => Number(l.toFixed(2))),
      separate: best.separate,
      onePort: best.one,
      ratio,
      perProtocol,
      target: 0.95,
    };
    const out = fileURLToPath(new URL('./results/one-port.json', import.meta.url));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `\nOne port vs separate ports (gRPC + HTTP + WebSocket, c${CONCURRENCY}, 100 B docs)\n` +
        PROTOCOLS.map(
          (p) =>
            `  ${p.padEnd(10)} separate ${best.separate[p].toFixed(0).padStart(7)} req/s   one port ${best.one[p].toFixed(0).padStart(7)} req/s   x${perProtocol[p]!.toFixed(2)}`,
        ).join('\n') +
        `\n  all        ratio ${ratio.toFixed(3)} (target >= 0.95: ${ratio >= 0.95 ? 'met' : 'NOT met'})\n`,
    );
  } catch (err) {
    failures.push(`one-port: ${err instanceof Error ? err.message : String(err)}`);
  }
  return failures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  dropTsxForFlowChildren();
  const t0 = performance.now();
  const quick = process.argv.includes('--quick');
  const forceNode = process.argv.includes('--loadgen=node');
  const load = await NodeLoad.start();
  const ctx: MeasureContext = {
    load,
    window: () => (quick ? { warmupMs: 300, durationMs: 1000 } : { warmupMs: 500, durationMs: 2500 }),
    wrk: !forceNode && hasTool('wrk'),
    h2load: !forceNode && hasTool('h2load'),
  };
  const failures = await runOnePort(ctx, quick, (l) =>
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${l}\n`),
  ).finally(() => load.stop());
  process.exit(failures.length ? 1 : 0);
}
