/**
 * The cost of metrics, A/B: a gRPC Flow with one echo Executor, monitoring off then on, alternating
 * 3 rounds of 64 concurrent flowgate Client posts (1 doc of 100 B) for 4 s after a 1.5 s warm-up,
 * each round in fresh processes. Prints req/s and the Gateway's CPU per request (from /proc), which
 * the machine's noise disturbs far less than throughput.
 *
 *   npm run bench:metrics
 */
import { readFileSync } from 'node:fs';
import { api, apiSource, dropTsxForFlowChildren } from './api.js';

const { Client, Document, Flow } = api;
dropTsxForFlowChildren();

const EXEC = `${new URL(apiSource === 'dist' ? './flow/echo-executor.mjs' : './flow/echo-executor.ts', import.meta.url).pathname}:EchoExecutor`;
const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
async function run(monitoring: boolean) {
  const flow = new Flow().configGateway({ protocol: 'grpc', monitoring }).add({ uses: EXEC, name: 'echo0' });
  await flow.start();
  const pid = flow.pids.at(-1)!;
  const clients = Array.from({ length: 8 }, () => new Client({ port: flow.port }));
  const docs = [new Document({ text: 'x'.repeat(100) })];
  let stop = false;
  let n = 0;
  const loop = async (c: InstanceType<typeof Client>) => {
    while (!stop) {
      await c.post('/', docs);
      n++;
    }
  };
  const warm = Array.from({ length: 64 }, (_, i) => loop(clients[i % 8]!));
  await new Promise((r) => setTimeout(r, 1500));
  const n0 = n;
  const t0 = ticks(pid);
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  const dn = n - n0;
  const dt = ticks(pid) - t0;
  const secs = (Date.now() - w0) / 1000;
  stop = true;
  await Promise.all(warm);
  for (const c of clients) await c.close();
  await flow.close();
  return { monitoring, reqPerS: Math.round(dn / secs), gatewayUsPerReq: Math.round((dt * 10000) / dn) };
}
for (let i = 0; i < 3; i++) for (const m of [false, true]) console.log(JSON.stringify(await run(m)));
