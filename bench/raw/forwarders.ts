/**
 * The raw forwarders: the smallest front server that does what a Gateway does, written with the
 * same libraries. Each receives a message (gRPC unary call, HTTP POST, WebSocket message), writes
 * its bytes unchanged to one long-lived `JinaRPC/Call` stream to the grpc-js echo backend in
 * another process, and answers with what comes back. The echo answers in order, so a FIFO of
 * waiters matches answers to requests: no ids, no decoding.
 */
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import { BytesService, bytesClient, grpcOptions } from './grpc-defs.js';
import { listen, readBody, type RawServer } from './echo-servers.js';

type Send = (body: Buffer) => Promise<Buffer>;

/** One bidirectional stream to the echo backend at `address`, shared by every request. */
export function backendStream(address: string): { send: Send; close: () => void } {
  const client = bytesClient(address);
  const m = BytesService.Call;
  const stream = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
  const waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  stream.on('data', (b: Buffer) => waiting.shift()?.resolve(b));
  let broken: Error | undefined;
  stream.on('error', (err: Error) => {
    broken = err;
    for (const w of waiting.splice(0)) w.reject(err);
  });
  return {
    send: (body) =>
      new Promise<Buffer>((resolve, reject) => {
        if (broken) return reject(broken);
        waiting.push({ resolve, reject });
        stream.write(body);
      }),
    close: () => {
      stream.end();
      client.close();
    },
  };
}

function withBackend(server: RawServer, backend: { close: () => void }): RawServer {
  return {
    port: server.port,
    close: async () => {
      await server.close();
      backend.close();
    },
  };
}

/** gRPC front: unary `process_single_data` (what h2load and the load generator call). */
export async function startGrpcForwarder(backendAddress: string): Promise<RawServer> {
  const backend = backendStream(backendAddress);
  const server = new grpc.Server(grpcOptions);
  server.addService(BytesService, {
    Call: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => void backend.send(b).then((r) => call.write(r)));
      call.on('error', () => undefined);
    },
    process_single_data: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      void backend.send(call.request).then(
        (r) => cb(null, r),
        (err: Error) => cb(err),
      ),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return withBackend({ port, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) }, backend);
}

/** HTTP front: any POST body is forwarded and the answer returned as the response body. */
export async function startHttpForwarder(backendAddress: string): Promise<RawServer> {
  const backend = backendStream(backendAddress);
  const server = createServer((req, res) => {
    void readBody(req)
      .then(backend.send)
      .then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          res.end(body);
        },
        () => res.destroy(), // the client went away, or the backend stream broke
      );
  });
  return withBackend(await listen(server), backend);
}

/** WebSocket front: every message is forwarded and the answer sent back on the same socket. */
export async function startWsForwarder(backendAddress: string): Promise<RawServer> {
  const backend = backendStream(backendAddress);
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1 << 30 });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer, isBinary) => {
      void backend.send(data).then(
        (r) => ws.send(r, { binary: isBinary }),
        () => ws.close(1011),
      );
    });
  });
  return withBackend(await listen(http), backend);
}
