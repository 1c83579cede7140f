/**
 * The HTTP Gateway's JSON answer, old path against new, in one process: CPU microseconds per call
 * of `JSON.stringify(dataRequestToJson(DataRequest.decode(bytes)))` (Document objects, then
 * JSON.stringify) and of `answerJsonFromWire(bytes)` (JSON text straight from the wire), on the
 * benchmark's three payloads as an Executor answers them (header, two routes with times).
 * Rounds alternate old/new; the median of the rounds is reported.
 *
 * Run: `node --import tsx bench/answer-json.ts [--rounds=7] [--base64]`
 */
import { DataRequest } from '../src/proto/request.js';
import { answerJsonFromWire } from '../src/transport/shared/answer-json.js';
import { dataRequestToJson } from '../src/transport/shared/request-json.js';
import { PAYLOADS, payload, type PayloadName } from './payloads.js';
import { usPerCall } from './proc.js';

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(arg('rounds') ?? 7);
const tensors = process.argv.includes('--base64') ? 'base64' : 'list';

/** An answer as an Executor sends it back: the request's documents, a gateway and an executor route. */
function answerBytes(name: PayloadName): Uint8Array {
  const req = DataRequest.create({ requestId: 'bench-0', endpoint: '/', docsBytes: payload(name).docsBytes });
  const now = { seconds: 1764900000, nanos: 123456789 };
  req.routes = [
    { executor: 'gateway', startTime: now },
    { executor: 'executor0', startTime: now, endTime: now },
  ];
  return req.encode();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const rows: string[] = [];
for (const name of PAYLOADS) {
  const bytes = answerBytes(name);
  const options = { tensors } as const;
  const oldPath = () => JSON.stringify(dataRequestToJson(DataRequest.decode(bytes), options));
  const newPath = () => answerJsonFromWire(bytes, options);
  if (oldPath() !== newPath()) throw new Error(`${name}: the two paths disagree`);
  const budget = name === 'tensor1m' ? 1500 : 300;
  usPerCall(oldPath, budget / 2);
  usPerCall(newPath, budget / 2);
  // what the HTTP reply finally writes: the UTF-8 bytes (this also flattens the new path's rope)
  const oldBytes = () => Buffer.from(oldPath());
  const newBytes = () => Buffer.from(newPath());
  const t: number[][] = [[], [], [], []];
  for (let i = 0; i < rounds; i++) {
    [oldPath, newPath, oldBytes, newBytes].forEach((f, j) => t[j]!.push(usPerCall(f, budget)));
  }
  const [o, n, ob, nb] = t.map(median) as [number, number, number, number];
  rows.push(
    `| ${name} | ${bytes.length} | ${newPath().length} | ${o.toFixed(1)} | ${n.toFixed(1)} | ${(o / n).toFixed(2)}x | ${ob.toFixed(1)} | ${nb.toFixed(1)} | ${(ob / nb).toFixed(2)}x |`,
  );
}
console.log(`answer JSON (tensors: ${tensors}), CPU us per call, median of ${rounds} alternating rounds`);
console.log(
  '| payload | answer bytes | JSON chars | old us | new us | speed-up | old us to bytes | new us to bytes | speed-up |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
