/**
 * The Gateway -> Executor hop, grpc-js against node:http2 (issue 22), alternating rounds in one run:
 * each round sets `FLOWGATE_HOP_TRANSPORT` for the Gateways it starts, then measures the cells the
 * hop's targets read: 1 MiB tensor c64 (gRPC, WebSocket; CPU x raw, MB/s x raw), text1 c1, the
 * chain of 1/3/5 Executors at c1 (ms per extra Executor), and one 50 MB request per Gateway (RSS
 * rise). Needs `npm run build`.
 *
 * `node --import tsx bench/hop.ts [--rounds 2] [--no-memory]`
 */
import { parseArgs } from 'node:util';
import { dropTsxForFlowChildren } from './api.js';
import { NodeLoad } from './load/node-load.js';
import { hasTool } from './load/external.js';
import type { MeasureContext } from './measure.js';
import { addRatios } from './report.js';
import { runFlowCosts } from './sections/flow-costs.js';
import { runThroughput } from './sections/throughput.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, 'no-memory': { type: 'boolean', default: false } },
});
const log = (line: string) => process.stderr.write(`[hop] ${line}\n`);
dropTsxForFlowChildren();
const load = await NodeLoad.start();
const ctx: MeasureContext = {
  load,
  window: (payload, c) =>
    payload === 'tensor1m' && c > 1
      ? { warmupMs: 1000, durationMs: 2500 }
      : { warmupMs: 500, durationMs: 1500 },
  wrk: hasTool('wrk'),
  h2load: hasTool('h2load'),
};
const lines: string[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const transport of ['grpc-js', 'h2'] as const) {
    process.env.FLOWGATE_HOP_TRANSPORT = transport;
    const tp = await runThroughput(
      ctx,
      {
        cells: [
          ['text1', 1],
          ['tensor1m', 64],
        ],
        rawEcho: [],
        client: [],
        protobuf: [],
        protobufRaw: false,
        h2Hop: [64],
        memoryMb: values['no-memory'] ? 0 : 50,
      },
      () => undefined,
    );
    addRatios(tp.cells);
    const p50Ms1 = tp.cells.find(
      (c) => c.group === 'flowgate' && c.protocol === 'grpc' && c.payload === 'text1' && c.concurrency === 1,
    )?.p50Ms;
    const flow = await runFlowCosts(
      ctx,
      { chain: [3, 5], startRepeats: {}, known: { p50Ms1 } },
      () => undefined,
    );
    const tag = `round ${round} ${transport.padEnd(7)}`;
    for (const c of tp.cells.filter((x) => x.protocol !== 'http' && x.status === 'ok'))
      lines.push(
        `${tag} ${c.group.padEnd(16)} ${c.protocol.padEnd(9)} ${c.payload} c${c.concurrency}: ${c.reqPerS?.toFixed(0)} req/s, ${c.mbPerS?.toFixed(1) ?? '-'} MB/s, p50 ${c.p50Ms?.toFixed(3)} ms, CPU ${c.cpuUsPerReq?.toFixed(0)} us/req${c.cpuXRaw ? `, CPU x raw ${c.cpuXRaw.toFixed(2)}` : ''}${c.vsRaw?.reqPerS ? `, req/s x raw ${c.vsRaw.reqPerS.toFixed(2)}` : ''}`,
      );
    lines.push(
      `${tag} chain p50 ms ${JSON.stringify(flow.chainP50Ms)}: ${flow.addedPerExecutorMs?.toFixed(3)} ms per extra Executor`,
    );
    for (const m of tp.memory.filter((x) => x.protocol !== 'http'))
      lines.push(
        `${tag} 50 MB request ${m.protocol}: RSS rise ${m.riseMb?.toFixed(0)} MB (${m.status} ${m.reason ?? ''})`,
      );
    log(lines.slice(-1)[0]!);
  }
}
await load.stop();
console.log(lines.join('\n'));
