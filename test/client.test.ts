import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Code, Document, DocumentArray, Flow, FlowgateError, type Response } from '../src/index.js';
import { encodeDocs } from '../src/document/index.js';
import { DataRequest } from '../src/proto/request.js';
import { flowgate } from '../src/proto/wire.js';
import { createJinaClient, unary } from '../src/transport/grpc/link.js';
import { JinaSingleDataRequestRPCService } from '../src/transport/grpc/codec.js';
import * as grpc from '@grpc/grpc-js';
import { Hello } from './fixtures/client-executors.js';

function numbered(n: number): DocumentArray {
  return new DocumentArray(
    Array.from({ length: n }, (_, i) => new Document({ id: `d${i}`, tags: { n: i } })),
  );
}

void describe('the Client against a gRPC Flow', () => {
  const flow = new Flow().add({ name: 'hello', uses: Hello });
  let client: Client;

  before(async () => {
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow.close();
  });

  void test('onDone / onAlways see every response; post resolves after all are handled', async () => {
    const done: Response[] = [];
    const always: Response[] = [];
    const docs = await client.post('/anything', numbered(5), {
      requestSize: 2,
      onDone: async (r) => {
        await new Promise((res) => setTimeout(res, 5));
        done.push(r);
      },
      onAlways: (r) => void always.push(r),
    });
    assert.equal(done.length, 3);
    assert.equal(always.length, 3);
    assert.deepEqual(new Set(done.map((r) => r.requestId)).size, 3);
    // each request of 2 (last of 1) docs comes back with 'hello' appended
    assert.deepEqual(done.map((r) => r.docs.length).sort(), [2, 3, 3]);
    assert.equal(docs.length, 8);
  });

  void test('onError receives Executor errors instead of a rejection; onDone gets the rest', async () => {
    const errors: Response[] = [];
    const done: Response[] = [];
    let always = 0;
    await client.post('/fail-odd', numbered(4), {
      requestSize: 1,
      onError: (r) => void errors.push(r),
      onDone: (r) => void done.push(r),
      onAlways: () => void always++,
    });
    assert.equal(errors.length, 2);
    assert.equal(done.length, 2);
    assert.equal(always, 4);
    for (const e of errors) {
      assert.equal(e.isError, true);
      assert.equal(e.status?.exception?.name, 'RangeError');
      assert.equal(e.status?.exception?.executor, 'hello');
    }
    assert.deepEqual(
      done.map((r) => Number(r.docs[0]!.tags.n) % 2),
      [0, 0],
    );
  });

  void test('with only onDone, an Executor error neither rejects nor reaches onDone', async () => {
    const done: Response[] = [];
    await client.post('/fail-odd', numbered(2), { requestSize: 1, onDone: (r) => void done.push(r) });
    assert.equal(done.length, 1);
  });

  void test('returnResponses gives one Response per request, with routes', async () => {
    const responses = await client.post('/x', numbered(3), { requestSize: 1, returnResponses: true });
    assert.equal(responses.length, 3);
    for (const r of responses)
      assert.deepEqual(
        r.routes.map((x) => x.executor),
        ['gateway', 'hello'],
      );
  });

  void test('timeout rejects with DeadlineExceeded, and the next post works', async () => {
    const started = Date.now();
    await assert.rejects(
      client.post('/slow', numbered(1), { parameters: { ms: 3000 }, timeout: 300 }),
      (err: unknown) => {
        assert.ok(err instanceof FlowgateError, String(err));
        assert.equal(err.code, Code.DeadlineExceeded);
        assert.match(err.message, /timed out/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 2000, `the timeout took ${Date.now() - started} ms`);
    const docs = await client.post('/slow', numbered(1), { parameters: { ms: 10 }, timeout: 5000 });
    assert.equal(docs[0]!.tags.slept, true);
  });

  void test('timeout also ends a post whose writer is blocked by back-pressure', async () => {
    const big = 'x'.repeat(64 * 1024);
    async function* many() {
      for (let i = 0; i < 2000; i++) yield new Document({ text: big });
    }
    const started = Date.now();
    await assert.rejects(
      client.post('/slow', many(), { parameters: { ms: 5000 }, requestSize: 1, prefetch: 1, timeout: 500 }),
      (err: unknown) => err instanceof FlowgateError && err.code === Code.DeadlineExceeded,
    );
    assert.ok(Date.now() - started < 4000, `the post took ${Date.now() - started} ms to give up`);
  });

  void test('a request without a header (as the Go client sends) goes to endpoint /', async () => {
    const raw = flowgate.passthrough.RawDataRequestProto.encode({
      data: { docs: encodeDocs(new DocumentArray([new Document({ text: 'go' })])) },
    }).finish();
    const request = DataRequest.decode(raw);
    assert.equal(request.header.execEndpoint, undefined);
    const grpcClient = createJinaClient(`127.0.0.1:${flow.port}`, {
      credentials: grpc.credentials.createInsecure(),
    });
    try {
      const { response } = await unary(
        grpcClient,
        JinaSingleDataRequestRPCService.process_single_data,
        request,
        {
          deadlineMs: 5000,
        },
      );
      assert.equal(response.isError, false, JSON.stringify(response.status));
      assert.deepEqual(
        response.routes.map((r) => r.executor),
        ['gateway', 'hello'],
      );
      const { decodeDocs } = await import('../src/document/index.js');
      assert.deepEqual(decodeDocs(response.docsBytes).texts, ['go', 'hello']);
    } finally {
      grpcClient.close();
    }
  });
});
