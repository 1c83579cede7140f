/**
 * The raw baseline of the streaming benchmark, built with the libraries flowgate uses: a grpc-js
 * server-streaming source that writes N items of 20 bytes as fast as flow control lets it, and a
 * forwarder per protocol (grpc-js, node:http Server-Sent Events, ws) that relays the source's items
 * as they arrive, honouring back-pressure. Child entry:
 * `node --import tsx bench/raw/stream-serve.ts source|grpc-fwd|http-fwd|ws-fwd [source host:port]`.
 */
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';

const raw = (b: Buffer) => b;
/** The one method: a uint32 N in, N messages of 20 bytes out. */
export const RAW_STREAM: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/raw.Stream/Items',
  requestStream: false,
  responseStream: true,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
};
const ITEM = Buffer.alloc(20, 120);

/** A count as the request message. */
export function countMessage(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function waitDrain(w: { once(e: string, f: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => w.once('drain', resolve));
}

async function listenGrpc(
  service: grpc.UntypedServiceImplementation,
): Promise<{ port: number; close(): void }> {
  const server = new grpc.Server();
  server.addService({ Items: RAW_STREAM }, service);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, close: () => server.forceShutdown() };
}

/** Opens the source's stream of `n` items. */
export function openSource(client: grpc.Client, n: number): grpc.ClientReadableStream<Buffer> {
  return client.makeServerStreamRequest(RAW_STREAM.path, raw, raw, countMessage(n), new grpc.Metadata(), {});
}

export function rawClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure());
}

async function start(kind: string, source: string): Promise<{ port: number; close(): void }> {
  if (kind === 'source')
    return listenGrpc({
      Items: (call: grpc.ServerWritableStream<Buffer, Buffer>) =>
        void (async () => {
          const n = call.request.readUInt32BE(0);
          for (let i = 0; i < n && !call.cancelled; i++) if (!call.write(ITEM)) await waitDrain(call);
          call.end();
        })(),
    });
  const upstream = rawClient(source);
  if (kind === 'grpc-fwd')
    return listenGrpc({
      Items: (call: grpc.ServerWritableStream<Buffer, Buffer>) =>
        void (async () => {
          const up = openSource(upstream, call.request.readUInt32BE(0));
          call.on('cancelled', () => up.cancel());
          for await (const item of up as AsyncIterable<Buffer>) if (!call.write(item)) await waitDrain(call);
          call.end();
        })().catch(() => call.destroy()), // the client went away: the upstream stream was cancelled
    });
  if (kind === 'http-fwd') {
    const server = createServer((req, res) => {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '1');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const up = openSource(upstream, n);
      res.on('close', () => up.cancel());
      void (async () => {
        for await (const item of up as AsyncIterable<Buffer>)
          if (!res.write(`event: update\ndata: ${JSON.stringify({ text: item.toString() })}\n\n`))
            await waitDrain(res);
        res.end('event: end\ndata: {}\n\n');
      })().catch(() => res.destroy()); // the client went away: the upstream stream was cancelled
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as { port: number }).port, close: () => server.close() };
  }
  if (kind === 'ws-fwd') {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        const n = Number((data as Buffer).toString());
        void (async () => {
          const up = openSource(upstream, n);
          ws.on('close', () => up.cancel());
          for await (const item of up as AsyncIterable<Buffer>) {
            ws.send(JSON.stringify({ stream: 'r', event: 'update', document: { text: item.toString() } }));
            if (ws.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
          }
          ws.send(JSON.stringify({ stream: 'r', event: 'end' }));
        })().catch(() => ws.terminate()); // the client went away: the upstream stream was cancelled
      });
    });
    await new Promise((r) => wss.once('listening', r));
    return { port: (wss.address() as { port: number }).port, close: () => wss.close() };
  }
  throw new Error(`unknown raw stream server ${kind}`);
}

const isMain = process.argv[1]?.endsWith('stream-serve.ts') && process.send !== undefined;
if (isMain) {
  const server = await start(process.argv[2] ?? '', process.argv[3] ?? '');
  process.send!({ type: 'ready', port: server.port });
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
}
