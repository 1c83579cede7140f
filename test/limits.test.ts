import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Code, Document, Flow, FlowgateError, NdArray } from '../src/index.js';
import { MetaEcho } from './fixtures/security-executors.js';

/**
 * `maxMessageBytes` on every protocol, in both directions: too large is refused cleanly (413 /
 * RESOURCE_EXHAUSTED / close 1009) with the limit in the message, and the Gateway keeps serving;
 * under the default limit (64 MiB) a 50 MB tensor goes through over gRPC, HTTP and WebSocket.
 */

const LIMIT = 1_000_000;

function tooLarge(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof FlowgateError, String(err));
    assert.equal(err.code, Code.ResourceExhausted, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

void describe(`a Gateway with maxMessageBytes: ${LIMIT} on gRPC, HTTP and WebSocket`, () => {
  let flow: Flow;
  let hosts: string[];

  before(async () => {
    flow = new Flow()
      .configGateway({ protocol: ['grpc', 'http', 'websocket'], maxMessageBytes: LIMIT })
      .add({ uses: MetaEcho, name: 'echo' });
    await flow.start();
    const [g, h, w] = flow.ports;
    hosts = [`grpc://127.0.0.1:${g}`, `http://127.0.0.1:${h}`, `ws://127.0.0.1:${w}`];
  });
  after(async () => {
    await flow?.close();
  });

  void test('a request over the limit is refused naming the limit; the next one is served', async () => {
    const big = [new Document({ text: 'x'.repeat(LIMIT + 500_000) })];
    const expected = [
      new RegExp(
        `message larger than the limit \\(maxMessageBytes\\).*Received message larger than max \\(\\d+ vs\\.? ${LIMIT}\\)`,
      ),
      new RegExp(`the request body is larger than the limit of ${LIMIT} bytes \\(maxMessageBytes\\)`),
      new RegExp(`closed the stream with 1009: a frame is larger than the limit of ${LIMIT} bytes`),
    ];
    for (const [i, host] of hosts.entries()) {
      const client = new Client({ host });
      try {
        await assert.rejects(client.post('/', big), tooLarge(expected[i]!), host);
        const ok = await client.post('/', [new Document({ text: 'small' })]);
        assert.equal(ok[0]!.tags.seen, true, host);
      } finally {
        await client.close();
      }
    }
    const raw = await fetch(`${hosts[1]}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ text: 'x'.repeat(LIMIT) }] }),
    });
    assert.equal(raw.status, 413);
  });

  void test('a response over the limit is refused naming the limit; the next one is served', async () => {
    const expected = [
      new RegExp(
        `message larger than the limit \\(maxMessageBytes\\).*larger than max \\(\\d+ vs\\.? ${LIMIT}\\)`,
      ),
      new RegExp(`the response body \\(\\d+ bytes\\) is larger than the limit of ${LIMIT} bytes`),
      new RegExp(`closed the stream with 1009: a response is larger than the limit of ${LIMIT} bytes`),
    ];
    for (const [i, host] of hosts.entries()) {
      const client = new Client({ host });
      try {
        await assert.rejects(
          client.post('/inflate', [new Document()], { parameters: { bytes: LIMIT + 1000 } }),
          tooLarge(expected[i]!),
          host,
        );
        const ok = await client.post('/inflate', [new Document()], { parameters: { bytes: 1000 } });
        assert.equal(ok[0]!.text!.length, 1000, host);
      } finally {
        await client.close();
      }
    }
  });
});

void describe('a 50 MB float32 tensor under the default limit (64 MiB)', () => {
  let flow: Flow;
  const n = 12_500_000; // 50,000,000 bytes of float32
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = i % 251;
  const timings: string[] = [];

  before(async () => {
    flow = new Flow()
      .configGateway({ protocol: ['grpc', 'http', 'websocket'] })
      .add({ uses: MetaEcho, name: 'echo' });
    await flow.start();
  });
  after(async () => {
    await flow?.close();
    console.log(`50 MB tensor round trips: ${timings.join(', ')}`);
  });

  for (const [i, protocol] of (['grpc', 'http', 'websocket'] as const).entries()) {
    void test(`round-trips over ${protocol}`, async () => {
      const client = new Client({ host: '127.0.0.1', port: flow.ports[i], protocol });
      try {
        const doc = new Document({ id: 'big', tensor: new NdArray(values, [n], 'float32') });
        const t0 = performance.now();
        const out = await client.post('/', [doc]);
        timings.push(`${protocol} ${Math.round(performance.now() - t0)} ms`);
        const back = out[0]!;
        assert.equal(back.id, 'big');
        assert.equal(back.tags.seen, true);
        assert.deepEqual(back.tensor!.shape, [n]);
        const data = back.tensor!.data;
        assert.equal(data.length, n);
        for (let j = 0; j < n; j += 9973) assert.equal(data[j], values[j], `element ${j}`);
        assert.equal(data[n - 1], values[n - 1]);
      } finally {
        await client.close();
      }
    });
  }
});
