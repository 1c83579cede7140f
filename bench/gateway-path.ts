/**
 * The Gateway's own CPU per request, without sockets (issue 22): what a WebSocket or gRPC Gateway
 * does between a request's bytes and its answer's bytes, through a chain of one Executor whose
 * pool encodes and decodes each call as the wire would. `node --import tsx bench/gateway-path.ts
 * [--docs=1] [--n=100000]`; prints the CPU us/req (user + system) of three rounds after a warm-up.
 * The wire (ws, grpc-js, system calls) is not in it: compare against the raw forwarder with
 * bench/gateway-ab.ts for that.
 */
import { LightAbort } from '../src/core/abort-like.js';
import { Document, DocumentArray, encodeDocs } from '../src/document/index.js';
import type { ConnectionPool } from '../src/gateway/connection-pool.js';
import { GraphWalker } from '../src/gateway/graph-walker.js';
import { GatewayStreamer } from '../src/gateway/streamer.js';
import { buildTopology } from '../src/gateway/topology.js';
import { DataRequest } from '../src/proto/request.js';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const docsN = arg('docs', 1);
const n = arg('n', 100_000);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let seq = 0;
/** One replica as the wire sees it: the request re-identified and encoded, the answer decoded. */
const pool = {
  endpoints: () => Promise.resolve(new Set(['/default'])),
  send: (_name: string, req: DataRequest) => {
    const res = DataRequest.decode(req.withRequestId(`p${(seq++).toString(36)}`).encode());
    res.requestId = req.requestId;
    res.header.status = { code: 0 };
    return Promise.resolve(res);
  },
} as unknown as ConnectionPool;
const walker = new GraphWalker(buildTopology([{ name: 'echo0', needs: ['gateway'] }]), pool, quiet);
const streamer = new GatewayStreamer(walker, pool);
const text = (i: number) =>
  `document ${i}: the quick brown fox jumps over the lazy dog; `.repeat(2).slice(0, 100);
const docs = new DocumentArray(Array.from({ length: docsN }, (_, i) => new Document({ text: text(i) })));
const frame = DataRequest.create({ endpoint: '/', docsBytes: encodeDocs(docs) }).encode();
const options = { signal: new LightAbort() };

/** `count` requests, 64 at a time (as the benchmark's c64). */
async function run(count: number): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count; i += 64) {
    const batch: Promise<void>[] = [];
    for (let j = 0; j < 64; j++)
      batch.push(
        streamer.process(DataRequest.decode(frame), options).then((r) => {
          bytes += r.encode().length;
        }),
      );
    await Promise.all(batch);
  }
  return bytes;
}

await run(n / 2);
const rounds: string[] = [];
for (let k = 0; k < 3; k++) {
  const start = process.cpuUsage();
  await run(n);
  const used = process.cpuUsage(start);
  rounds.push(((used.user + used.system) / n).toFixed(2));
}
process.stdout.write(`gateway path, ${docsN} doc(s): ${rounds.join(' / ')} us CPU per request\n`);
