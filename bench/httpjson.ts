/**
 * The HTTP Gateway's data path against the raw HTTP forwarder, alternating rounds, for work on
 * issue 22's HTTP targets without a full run: `npm run build && node --import tsx
 * bench/httpjson.ts [--rounds=3] [--cells=text1:64,text100:64,text1:64:protobuf]`. Prints per
 * round and the medians: req/s, CPU us/req of the front process, and flowgate / raw ratios.
 */
import { dropTsxForFlowChildren } from './api.js';
import { benchFile, startChild } from './child.js';
import { startEchoFlow } from './flow/echo-flow.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { measureCell, type Cell, type MeasureContext, type Target } from './measure.js';
import type { PayloadName } from './payloads.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const rounds = Number(arg('rounds') ?? 3);
const cells = (arg('cells') ?? 'text1:64,text100:64,text1:64:protobuf,text100:64:protobuf').split(',');

dropTsxForFlowChildren();
const load = await NodeLoad.start();
const ctx: MeasureContext = {
  load,
  window: () => ({ warmupMs: 1000, durationMs: 4000 }),
  wrk: hasTool('wrk'),
  h2load: false,
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const log = (l: string) => process.stderr.write(`${l}\n`);
const serve = benchFile('./raw/serve.ts');
try {
  for (const spec of cells) {
    const [payload, c, body] = spec.split(':') as [PayloadName, string, string | undefined];
    const extra = body === 'protobuf' ? ({ body: 'protobuf' } as const) : {};
    const backend = await startChild(serve, ['grpc-echo']);
    const fwd = await startChild(serve, ['http-fwd', `127.0.0.1:${backend.port}`]);
    const flow = await startEchoFlow('http', 1);
    if ('unavailable' in flow) throw new Error(flow.unavailable);
    const raw: Target = { group: 'raw-forwarder', protocol: 'http', port: fwd.port, pid: fwd.pid, ...extra };
    const gw: Target = {
      group: 'flowgate',
      protocol: 'http',
      port: flow.port,
      pid: flow.gatewayPid,
      ...extra,
    };
    const r: Cell[] = [];
    const g: Cell[] = [];
    try {
      for (let i = 0; i < rounds; i++) {
        r.push(await measureCell(ctx, raw, 'external', payload, Number(c)));
        g.push(await measureCell(ctx, gw, 'external', payload, Number(c)));
        const [a, b] = [r.at(-1)!, g.at(-1)!];
        log(
          `${spec} round ${i + 1}: raw ${a.reqPerS?.toFixed(0)} req/s ${a.cpuUsPerReq?.toFixed(0)} us/req; ` +
            `flowgate ${b.reqPerS?.toFixed(0)} req/s ${b.cpuUsPerReq?.toFixed(0)} us/req ${b.status} ${b.reason ?? ''}`,
        );
      }
    } finally {
      await flow.flow.close();
      await fwd.stop();
      await backend.stop();
    }
    const m = (cs: Cell[], k: 'reqPerS' | 'cpuUsPerReq') => median(cs.map((x) => x[k] ?? NaN));
    const cpuX = median(g.map((x, i) => (x.cpuUsPerReq ?? NaN) / (r[i]?.cpuUsPerReq ?? NaN)));
    const rpsX = median(g.map((x, i) => (x.reqPerS ?? NaN) / (r[i]?.reqPerS ?? NaN)));
    process.stdout.write(
      `${spec} (${g[0]?.tool ?? '?'}): flowgate ${m(g, 'cpuUsPerReq').toFixed(0)} us/req ${m(g, 'reqPerS').toFixed(0)} req/s; ` +
        `raw ${m(r, 'cpuUsPerReq').toFixed(0)} us/req ${m(r, 'reqPerS').toFixed(0)} req/s; ` +
        `CPU x raw ${cpuX.toFixed(2)}, req/s x raw ${rpsX.toFixed(2)} (medians of ${rounds} paired rounds)\n`,
    );
  }
} finally {
  await load.stop();
}
process.exit(0);
