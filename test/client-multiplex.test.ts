/**
 * One Client, many posts at once (issue 22): over WebSocket they share one socket, over gRPC one
 * channel and one `Call` stream; responses go back to their post by request id, an Executor error
 * fails only its own post, a Gateway going away fails the posts in flight (and the next post
 * reconnects), and `close()` rejects the posts in flight instead of leaving them hanging.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Client,
  Code,
  Document,
  ExecutorError,
  Flow,
  FlowgateError,
  GatewayRuntime,
  WorkerRuntime,
} from '../src/index.js';
import { freePort } from '../src/serve/gateway-runtime.js';
import { WsWorker } from './fixtures/ws-executors.js';
import { startByteProxy } from './fixtures/byte-proxy.js';

type Protocol = 'grpc' | 'websocket';
const PROTOCOLS: Protocol[] = ['websocket', 'grpc'];

function assertCode(code: Code) {
  return (err: unknown) => {
    assert.ok(err instanceof FlowgateError, `not a FlowgateError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

void describe('one Client shared by concurrent posts', () => {
  const flow = new Flow()
    .configGateway({ protocol: ['websocket', 'grpc'] })
    .add({ name: 'w', uses: WsWorker });
  const ports = {} as Record<Protocol, number>;

  before(async () => {
    await flow.start();
    ports.websocket = flow.ports[0]!;
    ports.grpc = flow.ports[1]!;
  });
  after(() => flow.close());

  for (const protocol of PROTOCOLS) {
    void test(`${protocol}: 200 posts at once use one connection and each gets its own answer`, async () => {
      const proxy = await startByteProxy(ports[protocol]);
      const client = new Client({ protocol, port: proxy.port });
      try {
        const answers = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            client.post('/tag', [new Document({ text: `doc ${i}` })], { parameters: { k: i } }),
          ),
        );
        answers.forEach((docs, i) => {
          assert.equal(docs.length, 1);
          assert.equal(docs[0]!.text, `doc ${i}`);
          assert.equal(docs[0]!.tags.k, i);
          assert.equal(docs[0]!.tags.by, 'w');
        });
        // a post of several requests, in order, on the same connection
        const many = await client.post(
          '/tag',
          Array.from({ length: 30 }, (_, i) => new Document({ text: `m${i}` })),
          { requestSize: 4, resultsInOrder: true },
        );
        assert.deepEqual(
          many.texts,
          Array.from({ length: 30 }, (_, i) => `m${i}`),
        );
        assert.equal(proxy.connections, 1);
      } finally {
        await client.close();
        await proxy.close();
      }
    });

    void test(`${protocol}: an Executor error fails its own post only`, async () => {
      const client = new Client({ protocol, port: ports[protocol] });
      try {
        const good = Array.from({ length: 40 }, (_, i) =>
          client.post('/tag', [new Document({ text: `${i}` })]),
        );
        const bad = client.post('/fail', [new Document()]);
        const slow = client.post('/slow', [new Document()], { parameters: { ms: 200 } });
        await assert.rejects(bad, (err: unknown) => {
          assert.ok(err instanceof ExecutorError, String(err));
          assert.match(err.message, /no way/);
          return true;
        });
        const docs = await Promise.all(good);
        docs.forEach((d, i) => assert.equal(d[0]!.text, `${i}`));
        assert.equal((await slow)[0]!.tags.slept, 200);
        // and the connection still serves
        assert.equal((await client.post('/tag', [new Document()]))[0]!.tags.by, 'w');
      } finally {
        await client.close();
      }
    });

    void test(`${protocol}: close() with posts in flight: ${protocol === 'grpc' ? 'they finish (as grpc-js close)' : 'they reject with Cancelled'}; the Client posts again after`, async () => {
      const client = new Client({ protocol, port: ports[protocol] });
      try {
        const ms = protocol === 'grpc' ? 300 : 5000;
        const held = Array.from({ length: 5 }, () =>
          client.post('/slow', [new Document()], { parameters: { ms } }),
        );
        const outcomes = Promise.allSettled(held);
        // sent after the held ones on the same connection: once it is answered, they are in flight
        await client.post('/tag', [new Document()]);
        const t0 = Date.now();
        await client.close();
        for (const o of await outcomes) {
          if (protocol === 'grpc') {
            assert.equal(o.status, 'fulfilled', String((o as PromiseRejectedResult).reason));
            assert.equal(o.value[0]!.tags.slept, ms);
          } else {
            assert.equal(o.status, 'rejected');
            assertCode(Code.Cancelled)(o.reason);
          }
        }
        if (protocol === 'websocket')
          assert.ok(Date.now() - t0 < 2500, `the posts took ${Date.now() - t0} ms to fail`);
        assert.equal((await client.post('/tag', [new Document()]))[0]!.tags.by, 'w');
      } finally {
        await client.close();
      }
    });
  }
});

void test('the Gateway restarting: posts in flight fail with Unavailable, the next post reconnects', async () => {
  const worker = new WorkerRuntime({ executor: new WsWorker({ metas: { name: 'w' } }) });
  const executorPort = await worker.start();
  const ports = await Promise.all(PROTOCOLS.map(() => freePort()));
  const gateway = () =>
    new GatewayRuntime({
      protocols: PROTOCOLS,
      ports,
      nodes: [{ name: 'w', needs: ['gateway'] }],
      addresses: { w: [`127.0.0.1:${executorPort}`] },
      gracePeriodMs: 100,
    });
  let rt = gateway();
  await rt.start();
  const clients = PROTOCOLS.map((protocol, i) => new Client({ protocol, port: ports[i]! }));
  try {
    const inFlight = clients.map((c) =>
      Promise.allSettled(
        Array.from({ length: 10 }, () => c.post('/slow', [new Document()], { parameters: { ms: 3000 } })),
      ),
    );
    // answered after the slow ones were sent on the same connection
    for (const c of clients) await c.post('/tag', [new Document()]);
    await rt.close();
    for (const [i, outcomes] of inFlight.entries()) {
      for (const o of await outcomes) {
        assert.equal(o.status, 'rejected', `${PROTOCOLS[i]}: a post in flight did not fail`);
        assertCode(Code.Unavailable)(o.reason);
      }
    }
    rt = gateway();
    await rt.start();
    for (const [i, c] of clients.entries()) {
      const docs = await c.post('/tag', [new Document({ text: 'again' })]);
      assert.equal(docs[0]!.tags.by, 'w', `${PROTOCOLS[i]} after the restart`);
    }
  } finally {
    for (const c of clients) await c.close();
    await rt.close();
    await worker.close();
  }
});
