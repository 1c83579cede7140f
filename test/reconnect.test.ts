/**
 * The Gateway restarted while clients are connected: the same Client objects (gRPC, HTTP,
 * WebSocket) post again once it is back, without being re-created.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, Document, GatewayRuntime, WorkerRuntime } from '../src/index.js';
import type { ClientProtocol } from '../src/client/client.js';
import { freePort } from '../src/serve/gateway-runtime.js';
import { WsWorker } from './fixtures/ws-executors.js';

void test('clients reconnect to a restarted Gateway and later posts succeed', async () => {
  const worker = new WorkerRuntime({ executor: new WsWorker({ metas: { name: 'w' } }) });
  const executorPort = await worker.start();
  const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
  const ports = await Promise.all(protocols.map(() => freePort()));
  const gateway = () =>
    new GatewayRuntime({
      protocols,
      ports,
      nodes: [{ name: 'w', needs: ['gateway'] }],
      addresses: { w: [`127.0.0.1:${executorPort}`] },
    });
  let rt = gateway();
  await rt.start();
  const clients = protocols.map((protocol, i) => new Client({ protocol, port: ports[i]! }));
  try {
    for (const c of clients) assert.equal((await c.post('/tag', [new Document()]))[0]!.tags.by, 'w');
    await rt.close();
    // while it is down, posts fail (they do not hang)
    for (const c of clients) await assert.rejects(c.post('/tag', [new Document()], { timeout: 5000 }));
    rt = gateway();
    await rt.start();
    for (const [i, c] of clients.entries()) {
      const docs = await c.post('/tag', [new Document({ text: 'again' })]);
      assert.equal(docs[0]!.tags.by, 'w', `${protocols[i]} after the restart`);
    }
  } finally {
    for (const c of clients) await c.close();
    await rt.close();
    await worker.close();
  }
});
