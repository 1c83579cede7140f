/**
 * Many clients at once: 1,000 WebSocket connections and 1,000 gRPC streams held open together, each
 * answered while all the others are open, then a normal request still succeeds. Reports the
 * Gateway's memory with them open.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Client, Document, DocumentArray, encodeDocs } from '../src/index.js';
import { Flow } from '../src/index.js';
import { DataRequest } from '../src/proto/request.js';
import { WsWorker } from './fixtures/ws-executors.js';

const N = 1000;
const flow = new Flow().configGateway({ protocol: ['grpc', 'websocket'] }).add({ name: 'w', uses: WsWorker });

before(async () => {
  await flow.start();
});
after(async () => {
  await flow.close();
});

/** Resident memory of the Gateway process (the last pid the Flow started), MB. */
function gatewayRssMb(): number {
  const pid = flow.pids.at(-1)!;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function goodRequest(protocol: 'grpc' | 'websocket', port: number): Promise<void> {
  const client = new Client({ protocol, port });
  try {
    const docs = await client.post('/tag', [new Document({ text: 'still here' })]);
    assert.equal(docs[0]!.tags.by, 'w');
  } finally {
    await client.close();
  }
}

void test(`${N} WebSocket connections open at once, each answered`, { timeout: 120_000 }, async (t) => {
  const port = flow.ports[1]!;
  const before = gatewayRssMb();
  const sockets: WebSocket[] = [];
  try {
    // open them in waves, as real clients arrive, so the accept backlog is not the test
    for (let i = 0; i < N; i += 100) {
      const wave = Array.from({ length: Math.min(100, N - i) }, () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'json');
        sockets.push(ws);
        return new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
      });
      await Promise.all(wave);
    }
    assert.equal(sockets.filter((s) => s.readyState === WebSocket.OPEN).length, N);
    const answers = await Promise.all(
      sockets.map(
        (ws, i) =>
          new Promise<{ id: string; by: unknown }>((resolve, reject) => {
            ws.once('message', (data: Buffer) => {
              const body = JSON.parse(data.toString('utf8')) as {
                header: { request_id: string };
                data: { tags: { by: unknown } }[];
              };
              resolve({ id: body.header.request_id, by: body.data[0]?.tags.by });
            });
            ws.once('close', (code) => reject(new Error(`socket ${i} closed with ${code}`)));
            ws.send(
              JSON.stringify({
                data: [{ text: `c${i}` }],
                exec_endpoint: '/tag',
                header: { request_id: `r${i}` },
              }),
            );
          }),
      ),
    );
    answers.forEach((a, i) => assert.deepEqual(a, { id: `r${i}`, by: 'w' }));
    // every socket is still open after its answer: they were all held at once
    assert.equal(sockets.filter((s) => s.readyState === WebSocket.OPEN).length, N);
    const open = gatewayRssMb();
    t.diagnostic(`Gateway RSS: ${before.toFixed(0)} MB idle, ${open.toFixed(0)} MB with ${N} sockets`);
  } finally {
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close();
          }),
      ),
    );
  }
  await goodRequest('websocket', port);
});

void test(`${N} gRPC streams open at once, each answered`, { timeout: 120_000 }, async (t) => {
  const port = flow.ports[0]!;
  const raw = (b: Buffer) => b;
  // 10 channels of 100 streams, as 10 client processes would open
  const channels = Array.from(
    { length: 10 },
    () => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()),
  );
  const calls: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
  try {
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const call = channels[i % 10]!.makeBidiStreamRequest('/jina.JinaRPC/Call', raw, raw);
        calls.push(call);
        return new Promise<string>((resolve, reject) => {
          call.once('data', (b: Buffer) => resolve(DataRequest.decode(b).requestId));
          call.once('error', reject);
          const req = DataRequest.create({
            endpoint: '/tag',
            requestId: `g${i}`,
            docsBytes: encodeDocs(new DocumentArray([new Document({ text: `g${i}` })])),
          });
          call.write(Buffer.from(req.encode()));
        });
      }),
    );
    answers.forEach((id, i) => assert.equal(id, `g${i}`));
    const open = gatewayRssMb();
    t.diagnostic(`Gateway RSS: ${open.toFixed(0)} MB with ${N} gRPC streams open`);
    // all streams are still open (none was ended by either side): end them now, each cleanly
    const statuses = await Promise.all(
      calls.map(
        (call) =>
          new Promise<number>((resolve) => {
            call.on('status', (s: grpc.StatusObject) => resolve(s.code));
            call.on('error', () => undefined);
            call.end();
          }),
      ),
    );
    assert.deepEqual(new Set(statuses), new Set([grpc.status.OK]));
  } finally {
    for (const c of channels) c.close();
  }
  await goodRequest('grpc', port);
});
