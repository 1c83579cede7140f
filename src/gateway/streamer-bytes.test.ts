import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, FlowgateError } from '../core/errors.js';
import { DataRequest } from '../proto/request.js';
import { jina } from '../proto/wire.js';
import type { ConnectionPool } from './connection-pool.js';
import { GraphWalker } from './graph-walker.js';
import { GatewayStreamer } from './streamer.js';
import { buildTopology } from './topology.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

void test('processBytes: encoded request in, encoded answer out, with the routes spliced in', async () => {
  const pool = {
    endpoints: () => Promise.resolve(new Set(['/default'])),
    send: (_name: string, req: DataRequest) => Promise.resolve(DataRequest.decode(req.encode())),
  } as unknown as ConnectionPool;
  const walker = new GraphWalker(buildTopology([{ name: 'a', needs: ['gateway'] }]), pool, quiet);
  const streamer = new GatewayStreamer(walker, pool);
  const docsBytes = Uint8Array.of(0x0a, 0x02, 0x0a, 0x00); // one empty document
  const request = DataRequest.create({ requestId: 'r1', endpoint: '/x', parameters: { k: 1 }, docsBytes });
  const answer = jina.DataRequestProto.decode(await streamer.processBytes(request.encode()));
  assert.equal(answer.header?.requestId, 'r1');
  assert.deepEqual(
    answer.routes.map((r) => r.executor),
    ['gateway', 'a'],
  );
  assert.equal(answer.parameters?.fields?.k?.numberValue, 1);
  assert.equal(answer.data?.docs?.docs?.length, 1);
  await assert.rejects(
    streamer.processBytes(Uint8Array.of(0x0a, 0x05, 0x0a)),
    (err: unknown) => err instanceof FlowgateError && err.code === Code.InvalidArgument,
  );
});
