/**
 * Slow clients do not tie up the Gateway: an HTTP body trickled byte by byte and a WebSocket that
 * never reads its responses are cut off after `slowClientTimeout`, and others are served meanwhile.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Client, Document, Flow } from '../src/index.js';
import { WsWorker } from './fixtures/ws-executors.js';

const LIMIT_MS = 1500;
const flow = new Flow()
  .configGateway({ protocol: ['http', 'websocket'], slowClientTimeout: LIMIT_MS })
  .add({ name: 'w', uses: WsWorker });
before(async () => {
  await flow.start();
});
after(async () => {
  await flow.close();
});

async function served(protocol: 'http' | 'websocket', port: number): Promise<void> {
  const client = new Client({ protocol, port });
  try {
    const docs = await client.post('/tag', [new Document({ text: 'meanwhile' })]);
    assert.equal(docs[0]!.tags.by, 'w');
  } finally {
    await client.close();
  }
}

void test('HTTP: a body trickled one byte at a time is cut off after slowClientTimeout', async () => {
  const port = flow.ports[0]!;
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(
    'POST /post HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
  );
  const started = Date.now();
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  const trickle = setInterval(() => socket.writable && socket.write(' '), 100);
  try {
    await served('http', port); // others are served while it trickles
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  } finally {
    clearInterval(trickle);
  }
  const took = Date.now() - started;
  assert.ok(took >= LIMIT_MS - 200 && took < LIMIT_MS + 4000, `cut off after ${took} ms`);
  assert.match(answer, /^HTTP\/1\.1 408/, `answered: ${answer.slice(0, 80)}`);
  await served('http', port);
});

void test('WebSocket: a client that never reads its responses is cut off after slowClientTimeout', async () => {
  const port = flow.ports[1]!;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'bytes');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  // stop reading: the responses pile up in the Gateway's send buffer
  const raw = (ws as unknown as { _socket: Socket })._socket;
  raw.pause();
  const big = 'x'.repeat(512 * 1024);
  const client = new Client({ protocol: 'websocket', port });
  try {
    // a JSON frame per request: 40 requests of 512 KB, each answered with the same documents
    for (let i = 0; i < 40; i++)
      ws.send(
        JSON.stringify({ data: [{ text: big }], exec_endpoint: '/tag', header: { request_id: `r${i}` } }),
      );
    const started = Date.now();
    // the Gateway gives up on it; the socket is destroyed from its side
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, LIMIT_MS + 2500));
    raw.resume();
    const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    assert.notEqual(code, -1, `the socket was not cut off (${Date.now() - started} ms)`);
    await served('websocket', port);
  } finally {
    ws.terminate();
    await client.close();
  }
});
