/**
 * The Gateway memory figures alone (issue 22), for work on them without a full run:
 * `npm run build && node --import tsx bench/memory-only.ts [--protocols=grpc,http,websocket]
 * [--mb=50] [--c64] [--body=json,protobuf]`. Per protocol, a fresh Flow with one echo Executor:
 * idle RSS (after start and one answered request, as the full run reads it), optionally a c64
 * 1-doc cell (CPU us/req, peak RSS), then one big request (RSS rise). Prints one JSON line each.
 */
import { dropTsxForFlowChildren } from './api.js';
import { startEchoFlow } from './flow/echo-flow.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { measureCell, PROTOCOLS, type BenchProtocol, type HttpBody } from './measure.js';
import { rssMb } from './proc.js';
import { bigRequest, idleRssAfterOneRequest } from './sections/memory.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const protocols = (arg('protocols')?.split(',') ?? PROTOCOLS) as BenchProtocol[];
const mb = Number(arg('mb') ?? 50);
const bodies = (arg('body')?.split(',') ?? ['json']) as HttpBody[];
const c64 = process.argv.includes('--c64');
dropTsxForFlowChildren();
const load = await NodeLoad.start();
const ctx = {
  load,
  window: () => ({ warmupMs: 500, durationMs: 3000 }),
  wrk: hasTool('wrk'),
  h2load: hasTool('h2load'),
};
try {
  for (const protocol of protocols)
    for (const body of protocol === 'http' ? bodies : (['json'] as HttpBody[])) {
      const started = await startEchoFlow(protocol, 1);
      if ('unavailable' in started) throw new Error(started.unavailable);
      const { flow, port, gatewayPid: pid } = started;
      try {
        const idleRssMb = await idleRssAfterOneRequest(load, protocol, port, pid);
        const out: Record<string, unknown> = { protocol, body, idleRssMb };
        if (c64) {
          const cell = await measureCell(
            ctx,
            { group: 'flowgate', protocol, port, pid, body },
            'external',
            'text1',
            64,
          );
          Object.assign(out, {
            c64: {
              reqPerS: cell.reqPerS,
              cpuUsPerReq: cell.cpuUsPerReq,
              peakRssMb: cell.peakRssMb,
              tool: cell.tool,
              status: cell.status,
            },
          });
        }
        if (mb > 0) {
          const big = await bigRequest(protocol, port, pid, mb, body);
          await new Promise((r) => setTimeout(r, 2000));
          Object.assign(out, { big, afterMb: rssMb(pid) });
        }
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } finally {
        await flow.close();
      }
    }
} finally {
  await load.stop();
}
process.exit(0);
