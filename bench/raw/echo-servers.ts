/**
 * The raw echo servers (no hop): the fastest a server written with the same libraries answers.
 * gRPC: grpc-js echoing `process_single_data` and every message of `JinaRPC/Call`; HTTP: Node's
 * `http` echoing the body of any POST; WebSocket: `ws` echoing every message.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import { BytesService, grpcOptions } from './grpc-defs.js';

/** A started server: its port and how to stop it. */
export interface RawServer {
  port: number;
  close(): Promise<void>;
}

/** grpc-js echo: the backend of every raw forwarder, and the gRPC raw echo target. */
export async function startGrpcEcho(): Promise<RawServer> {
  const server = new grpc.Server(grpcOptions);
  server.addService(BytesService, {
    Call: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(b));
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    process_single_data: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

/** Reads a whole request body. */
export function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Listens an http server (or one a WebSocketServer is attached to) on a free loopback port. */
export async function listen(server: ReturnType<typeof createServer>): Promise<RawServer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.keepAliveTimeout = 60_000;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Node `http` echo: answers every request with its body. */
export function startHttpEcho(): Promise<RawServer> {
  return listen(
    createServer((req, res) => {
      readBody(req).then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          res.end(body);
        },
        () => res.destroy(), // the client went away mid-request (a load generator stopping)
      );
    }),
  );
}

/** `ws` echo: answers every message with itself. */
export function startWsEcho(): Promise<RawServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1 << 30 });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return listen(http);
}
