/**
 * A chain of 1 and 5 Executors at c1 (gRPC, one 100 B document), the Gateway's hop by grpc-js
 * and by node:http2 (`FLOWGATE_HOP_TRANSPORT`) in alternating rounds: p50 and the Gateway's CPU
 * per request, and per extra Executor. Needs `npm run build`.
 *
 * `node --import tsx bench/hop-chain.ts [--rounds 3] [--prof=DIR]` (`--prof`: the chains of 5 run
 * under `--cpu-prof`, each process's profile and top-30 self time written to DIR/<transport>/).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { topSelfTime } from './profile.js';
import { dropTsxForFlowChildren } from './api.js';
import { startEchoFlow } from './flow/echo-flow.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { measureCell, type MeasureContext } from './measure.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, prof: { type: 'string' } },
});
dropTsxForFlowChildren();
const load = await NodeLoad.start();
const ctx: MeasureContext = {
  load,
  window: () => ({ warmupMs: 500, durationMs: 2000 }),
  wrk: hasTool('wrk'),
  h2load: hasTool('h2load'),
};
const lines: string[] = [];

function profFlags(transport: string): string[] {
  const dir = join(values.prof!, transport);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Writes `<role>.top30.txt` beside each profile in `dir` (the Gateway by pid, the rest by pid). */
function summarise(dir: string, gatewayPid: number): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile') && x.startsWith('CPU.'))) {
    const [, p, tid] = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\./.exec(f) ?? [];
    const pid = Number(p);
    const role = `${pid === gatewayPid ? 'gateway' : `pid${pid}`}${tid === '0' ? '' : `-thread${tid}`}`;
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Parameters<typeof topSelfTime>[0];
    writeFileSync(join(dir, `${role}.top30.txt`), `${role}\n${topSelfTime(profile)}\n`);
  }
}
for (let round = 0; round < Number(values.rounds); round++) {
  for (const transport of ['grpc-js', 'h2'] as const) {
    process.env.FLOWGATE_HOP_TRANSPORT = transport;
    const got: Record<number, { p50: number; cpu: number }> = {};
    for (const n of [1, 5]) {
      const prof = values.prof && n === 5 && round === 0 ? profFlags(transport) : [];
      process.execArgv.push(...prof);
      const f = await startEchoFlow('grpc', n).finally(() =>
        process.execArgv.splice(process.execArgv.length - prof.length, prof.length),
      );
      if ('unavailable' in f) throw new Error(f.unavailable);
      try {
        const pid = f.gatewayPid;
        const cell = await measureCell(
          ctx,
          { group: 'flowgate', protocol: 'grpc', port: f.port, pid },
          'external',
          'text1',
          1,
        );
        got[n] = { p50: cell.p50Ms ?? NaN, cpu: cell.cpuUsPerReq ?? NaN };
      } finally {
        await f.flow.close();
      }
      if (prof.length) summarise(join(values.prof!, transport), f.gatewayPid);
    }
    const per = (k: 'p50' | 'cpu') => (got[5]![k] - got[1]![k]) / 4;
    lines.push(
      `round ${round} ${transport.padEnd(7)} p50 ms 1: ${got[1]!.p50.toFixed(3)} 5: ${got[5]!.p50.toFixed(3)} -> ${per('p50').toFixed(3)} ms/Executor; Gateway CPU us/req 1: ${got[1]!.cpu.toFixed(0)} 5: ${got[5]!.cpu.toFixed(0)} -> ${per('cpu').toFixed(0)} us/Executor`,
    );
    process.stderr.write(`${lines.at(-1)!}\n`);
  }
}
await load.stop();
console.log(lines.join('\n'));
