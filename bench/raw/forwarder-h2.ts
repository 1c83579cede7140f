/**
 * The raw gRPC forwarder with another transport for the Gateway -> Executor hop (issue 22): the
 * front is the same grpc-js server, but each request goes to the grpc-js echo backend as a unary
 * `process_single_data` call over a plain `node:http2` session with large flow-control windows and
 * frames (what the hop would give without grpc-js's client), so the 1 MiB tensor rows show what
 * HTTP/2 windows and grpc-js copies cost.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { BytesService, grpcOptions } from './grpc-defs.js';
import type { RawServer } from './echo-servers.js';

/** Flow-control window of the session and of each stream (the HTTP/2 maximum is 2^31 - 1). */
const WINDOW = 2 ** 30;
const PATH = BytesService.process_single_data.path;

/** One `node:http2` session to the gRPC backend at `address`; `call` is one unary call on raw bytes. */
export function h2Backend(address: string): { call: (body: Buffer) => Promise<Buffer>; close: () => void } {
  const session = http2.connect(`http://${address}`, {
    settings: { initialWindowSize: WINDOW, maxFrameSize: 2 ** 24 - 1 },
  });
  session.on('connect', () => session.setLocalWindowSize(WINDOW));
  session.on('error', () => undefined);
  const call = (body: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('trailers', (t) => (status = String(t['grpc-status'] ?? '')));
      req.on('error', reject);
      req.on('end', () => {
        if (status !== undefined && status !== '0') return reject(new Error(`grpc-status ${status}`));
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        resolve(all.subarray(5));
      });
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(body.length, 1);
      req.write(prefix);
      req.end(body);
    });
  return { call, close: () => session.close() };
}

/** gRPC front (grpc-js, unary `process_single_data`) forwarding over {@link h2Backend}. */
export async function startGrpcH2Forwarder(backendAddress: string): Promise<RawServer> {
  const backend = h2Backend(backendAddress);
  const server = new grpc.Server(grpcOptions);
  server.addService(BytesService, {
    Call: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => void backend.call(b).then((r) => call.write(r)));
      call.on('error', () => undefined);
    },
    process_single_data: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      void backend.call(call.request).then(
        (r) => cb(null, r),
        (err: Error) => cb(err),
      ),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    port,
    close: async () => {
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      backend.close();
    },
  };
}
