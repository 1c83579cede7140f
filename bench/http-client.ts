/**
 * The HTTP Client's own cost: a Flow of one echo Executor behind the HTTP Gateway, and one
 * `Client({ protocol: 'http' })` in this process running `c` closed loops of `post('/', [1 doc])`.
 * Prints req/s and CPU us/req of this process (the Client) and of the Gateway, per round.
 *
 * `npm run build && node --import tsx bench/http-client.ts [--c=64] [--rounds=3] [--ms=3000]
 * [--format=protobuf|json]`; add `--cpu-prof` to node's own flags to profile the Client.
 */
import { api, dropTsxForFlowChildren } from './api.js';
import { startEchoFlow } from './flow/echo-flow.js';
import { payload } from './payloads.js';
import { cpuMs } from './proc.js';

const arg = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const c = Number(arg('c', '64'));
const rounds = Number(arg('rounds', '3'));
const ms = Number(arg('ms', '3000'));
const format = arg('format', 'protobuf') as 'protobuf' | 'json';

dropTsxForFlowChildren();
const started = await startEchoFlow('http', 1);
if ('unavailable' in started) throw new Error(started.unavailable);
const { flow, port, gatewayPid } = started;
const client = new api.Client({ host: '127.0.0.1', port, protocol: 'http', format });
const docs = payload('text1').docs;
try {
  for (let r = 1; r <= rounds; r++) {
    let n = 0;
    let counting = false;
    let stopAt = performance.now() + ms + 300;
    const loop = async () => {
      while (performance.now() < stopAt) {
        const out = await client.post('/', docs);
        if (out.length !== 1) throw new Error('bad answer');
        if (counting) n++;
      }
    };
    const loops = Promise.all(Array.from({ length: c }, loop));
    await new Promise((res) => setTimeout(res, 300));
    const cpu0 = process.cpuUsage();
    const gw0 = cpuMs(gatewayPid)!;
    const t0 = performance.now();
    counting = true;
    await new Promise((res) => setTimeout(res, ms));
    counting = false;
    const cpu = process.cpuUsage(cpu0);
    const gw = cpuMs(gatewayPid)! - gw0;
    const elapsed = performance.now() - t0;
    const counted = n;
    stopAt = 0;
    await loops;
    console.log(
      `round ${r} http client (${format}) text1 c${c}: ${((counted * 1000) / elapsed).toFixed(0)} req/s, ` +
        `Client CPU ${((cpu.user + cpu.system) / counted).toFixed(1)} us/req, ` +
        `Gateway CPU ${((gw * 1000) / counted).toFixed(1)} us/req`,
    );
  }
} finally {
  await client.close();
  await flow.close();
}
