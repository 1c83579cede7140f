import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Client, Code, Document, DocumentArray, Flow, FlowgateError, encodeDocs } from '../src/index.js';
import { DataRequest } from '../src/proto/request.js';
import { createJinaClient, duplex } from '../src/transport/grpc/link.js';
import { JinaRPCService } from '../src/transport/grpc/codec.js';
import { Counter, Gate, Slow } from './fixtures/topology-replicas.js';

void describe('timeoutSend', () => {
  let flow: Flow;
  let client: Client;

  before(async () => {
    flow = new Flow()
      .configGateway({ timeoutSend: 300 })
      .add({ name: 'slow', uses: Slow, usesWith: { delayMs: 2000 } });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
  });

  void test('a slow Executor fails the request as DEADLINE_EXCEEDED, naming it and its address', async () => {
    const started = Date.now();
    await assert.rejects(client.post('/slow', [new Document()]), (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, Code.DeadlineExceeded);
      assert.match(err.message, /Executor slow at 127\.0\.0\.1:\d+ did not answer within timeoutSend=300 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 1500, 'the Gateway did not wait for the Executor');
    // the Gateway and the Executor keep serving
    const docs = await client.post('/fast', [new Document()]);
    assert.equal(docs[0]!.tags.fast, true);
  });
});

void describe('a client that goes away cancels the work pending downstream', () => {
  let flow: Flow;
  let client: Client;

  before(async () => {
    flow = new Flow().add({ name: 'gate', uses: Gate }).add({ name: 'counter', uses: Counter });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
  });

  const held = async (): Promise<string[]> => {
    const [res] = await client.post('/held', [], { targetExecutor: 'gate', returnResponses: true });
    const results = res!.parameters.__results__ as { gate: { held: string[] } };
    return results.gate.held;
  };
  const waitHeld = async (key: string) => {
    while (!(await held()).includes(key)) await new Promise((r) => setTimeout(r, 20));
  };
  const release = (key: string) =>
    client.post('/release', [], { targetExecutor: 'gate', parameters: { key } });
  /** The counter's count after one more /work request: how many /work requests reached it in all. */
  const countNow = async () => (await client.post('/work', [new Document()]))[0]!.tags.count;

  void test('a client deadline: the Executor after the one working is never called', async () => {
    assert.equal(await countNow(), 1);
    const post = client.post('/work', [new Document({ tags: { hold: 'k1' } })], { timeout: 1500 });
    await waitHeld('k1');
    await assert.rejects(post, (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, Code.DeadlineExceeded);
      return true;
    });
    // Let the held request finish in the gate: its answer reaches the Gateway before the next
    // request's (same stream), so a Gateway that had not cancelled it would call the counter first.
    await release('k1');
    assert.equal(await countNow(), 2, 'the cancelled request never reached the counter');
  });

  void test('a dropped client (its call cancelled): same', async () => {
    const raw = createJinaClient(`127.0.0.1:${flow.port}`);
    const call = duplex(raw, JinaRPCService.Call);
    call.on('error', () => undefined);
    call.write(
      DataRequest.create({
        endpoint: '/work',
        docsBytes: encodeDocs(new DocumentArray([new Document({ tags: { hold: 'k2' } })])),
      }),
    );
    await waitHeld('k2');
    const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
    call.cancel();
    assert.equal((await status).code, grpc.status.CANCELLED);
    // The client sees CANCELLED at once; the Gateway learns it from the RST_STREAM a moment later,
    // and nothing signals that moment. Under load the release could otherwise win the race.
    await new Promise((r) => setTimeout(r, 500));
    await release('k2');
    assert.equal(await countNow(), 3, 'the dropped request never reached the counter');
    raw.close();
  });
});
