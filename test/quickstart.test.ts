import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocumentArray } from '../src/index.js';
import { Client, Document, Executor, Flow, requests } from '../src/index.js';

class FooExecutor extends Executor {
  @requests()
  foo({ docs }: { docs: DocumentArray }) {
    docs.push(new Document({ text: 'foo was called' }));
  }
}

void test('the seed example: a gRPC Flow with one Executor answers', async () => {
  const flow = new Flow().configGateway({ protocol: 'grpc' }).add({ uses: FooExecutor });
  await flow.start();
  try {
    const client = new Client({ port: flow.port });
    const docs = await client.post('/');
    assert.deepEqual(docs.texts, ['foo was called']);
    await client.close();
  } finally {
    await flow.close();
  }
});
