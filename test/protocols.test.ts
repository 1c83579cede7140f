/**
 * One suite, run against every protocol the Client speaks: the same Flow serves gRPC, HTTP and
 * WebSocket at once, and each case runs over each protocol.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Document, DocumentArray, ExecutorError, Flow, FlowgateError } from '../src/index.js';
import type { ClientProtocol } from '../src/client/client.js';
import { FooExecutor, Tools } from './fixtures/protocol-executors.js';

const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
const flow = new Flow()
  .configGateway({ protocol: protocols })
  .add({ name: 'foo', uses: FooExecutor })
  .add({ name: 'tools', uses: Tools });

before(async () => {
  await flow.start();
});
after(async () => {
  await flow.close();
});

void test('one Gateway serves every protocol on its own free port', () => {
  assert.deepEqual(flow.protocols, protocols);
  assert.equal(flow.ports.length, 3);
  assert.equal(new Set(flow.ports).size, 3);
  assert.equal(flow.port, flow.ports[0]);
});

for (const [i, protocol] of protocols.entries()) {
  void describe(`over ${protocol}`, () => {
    let client: Client;
    before(() => {
      client = new Client({ protocol, port: flow.ports[i] });
    });
    after(async () => {
      await client.close();
    });

    void test("the seed's example: post('/') returns ['foo was called']", async () => {
      const docs = await client.post('/');
      assert.deepEqual(docs.texts, ['foo was called']);
    });

    void test('parameters reach the Executor', async () => {
      const docs = await client.post('/params', [new Document({ text: 'p' })], {
        parameters: { k: 1, nested: { s: 'x' } },
        targetExecutor: 'tools',
      });
      assert.deepEqual(docs[0]!.tags.params, { k: 1, nested: { s: 'x' } });
    });

    void test('targetExecutor limits which Executors are called', async () => {
      const targeted = await client.post('/tag', [new Document({ text: 't' })], { targetExecutor: 'tools' });
      assert.deepEqual(targeted.texts, ['t']);
      assert.equal(targeted[0]!.tags.by, 'tools');
      const all = await client.post('/tag', [new Document({ text: 't' })]);
      assert.deepEqual(all.texts, ['t', 'foo was called']);
    });

    void test('an Executor error rejects with an ExecutorError naming it; the next post works', async () => {
      await assert.rejects(
        client.post('/fail', [new Document()], { targetExecutor: 'tools' }),
        (err: unknown) => {
          assert.ok(err instanceof ExecutorError, String(err));
          assert.equal(err.executor, 'tools');
          assert.equal(err.exceptionName, 'SyntaxError');
          assert.match(err.message, /tools cannot do that/);
          return true;
        },
      );
      assert.deepEqual((await client.post('/')).texts, ['foo was called']);
    });

    void test('1,000 docs in requests of 100 come back complete and in order', async () => {
      const inputs = new DocumentArray(
        Array.from({ length: 1000 }, (_, n) => new Document({ id: `d${n}`, text: `${n}` })),
      );
      const docs = await client.post('/tag', inputs, {
        requestSize: 100,
        resultsInOrder: true,
        targetExecutor: 'tools',
      });
      assert.deepEqual(docs.ids, inputs.ids);
      assert.ok(docs.every((d) => d.tags.by === 'tools'));
    });

    void test('an endpoint no Executor binds returns the documents unchanged, without error', async () => {
      const responses = await client.post('/nope', [new Document({ id: 'n', text: 'same' })], {
        targetExecutor: 'tools',
        returnResponses: true,
      });
      assert.equal(responses.length, 1);
      assert.deepEqual(responses[0]!.docs.texts, ['same']);
      assert.deepEqual(
        responses[0]!.routes.map((r) => r.executor),
        ['gateway'],
      );
    });

    void test('the Flow is ready and reports its environment', async () => {
      assert.equal(await client.isFlowReady(), true);
      const status = await client.status();
      assert.equal(status.jina.node, process.versions.node);
    });
  });
}

void test('a protocol list and a port list of different lengths is a clear error', async () => {
  const bad = new Flow()
    .configGateway({ protocol: ['grpc', 'http', 'websocket'], port: [12345, 12346] })
    .add({ uses: FooExecutor });
  await assert.rejects(bad.start(), (err: unknown) => {
    assert.ok(err instanceof FlowgateError);
    // one port for all is allowed (test/one-port.test.ts); two ports for three protocols is not
    assert.match(err.message, /3 protocols but 2 ports: give one port per protocol, or one port for all/);
    return true;
  });
  assert.deepEqual(bad.pids, []);
});
