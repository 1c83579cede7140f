/**
 * The HTTP Gateway's JSON request path, old against new, in one process: CPU microseconds per
 * call of `toDataRequests(parseJsonRequest(body), 0)[0].encode()` (Document objects, then the
 * protobuf encoder) and of `jsonRequestToWire(body)` (the parsed body written straight as
 * `DataRequestProto` bytes), on the benchmark's payloads (the `/post` body, already parsed).
 * Rounds alternate old/new; the median of the rounds is reported. CPU time, not wall-clock: it
 * holds on a loaded machine.
 *
 * Run: `node --import tsx bench/httpjson-codec.ts [--rounds=7]`
 */
import { jsonRequestToWire } from '../src/transport/shared/request-json-wire.js';
import { parseJsonRequest, toDataRequests } from '../src/transport/shared/request-json.js';
import { PAYLOADS, payload } from './payloads.js';
import { usPerCall } from './proc.js';

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 7);

/** CPU microseconds per call of `f` over about `budgetMs` of CPU. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `JSON request -> DataRequestProto bytes, CPU us per call, median of ${rounds} alternating rounds`,
);
console.log('| payload | request bytes | old us | new us | speed-up |');
console.log('|---|---|---|---|---|');
for (const name of PAYLOADS) {
  const body = JSON.parse(payload(name).json.toString('utf8')) as unknown;
  const oldPath = () => toDataRequests(parseJsonRequest(body), 0)[0]!.encode();
  const newPath = () => jsonRequestToWire(body).bytes;
  const budget = name === 'tensor1m' ? 1500 : 300;
  const t: [number[], number[]] = [[], []];
  for (let i = 0; i < rounds; i++) [oldPath, newPath].forEach((f, j) => t[j]!.push(usPerCall(f, budget)));
  const [o, n] = [median(t[0]), median(t[1])];
  console.log(
    `| ${name} | ${newPath().length} | ${o.toFixed(1)} | ${n.toFixed(1)} | ${(o / n).toFixed(2)}x |`,
  );
}
