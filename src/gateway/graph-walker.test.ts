import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataRequest } from '../proto/request.js';
import type { ConnectionPool } from './connection-pool.js';
import { GraphWalker, isChain } from './graph-walker.js';
import { buildTopology } from './topology.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

void test('isChain: a line of Executors is a chain; a fork, a filter or a floating node is not', () => {
  const line = [
    { name: 'a', needs: ['gateway'] },
    { name: 'b', needs: ['a'] },
  ];
  assert.equal(isChain(buildTopology([])), true);
  assert.equal(isChain(buildTopology(line)), true);
  assert.equal(isChain(buildTopology([...line, { name: 'c', needs: ['a'] }], 'b')), false);
  assert.equal(isChain(buildTopology([line[0]!, { ...line[1]!, when: { tags__x: { $eq: 1 } } }])), false);
  assert.equal(isChain(buildTopology([...line, { name: 'f', needs: ['b'], floating: true }])), false);
});

void test('a chain passes each response on, records the routes, and keeps the parameters encoded', async () => {
  const seen: string[] = [];
  const pool = {
    endpoints: () => Promise.resolve(new Set(['/default'])),
    send: (name: string, req: DataRequest) => {
      seen.push(`${name}:${req.endpoint}:${req.targetExecutor ?? ''}`);
      const res = DataRequest.decode(req.encode());
      if (name === 'b') res.parameters = { __results__: { b: { n: 1 } } };
      return Promise.resolve(res);
    },
  } as unknown as ConnectionPool;
  const nodes = [
    { name: 'a', needs: ['gateway'] },
    { name: 'b', needs: ['a'] },
  ];
  const walker = new GraphWalker(buildTopology(nodes), pool, quiet);
  const request = DataRequest.decode(
    DataRequest.create({ endpoint: '/x', targetExecutor: 'a|b', parameters: { k: 'v' } }).encode(),
  );
  const res = await walker.process(request);
  assert.deepEqual(seen, ['a:/x:', 'b:/x:']);
  assert.deepEqual(
    res.routes.map((r) => r.executor),
    ['gateway', 'a', 'b'],
  );
  assert.equal(res.parameter('k'), 'v');
  assert.deepEqual(res.parameters, { k: 'v', __results__: { b: { n: 1 } } });
});

void test('DataRequest.parameter reads one parameter; copyParameters shares them undecoded', () => {
  const a = DataRequest.decode(
    DataRequest.create({ parameters: { x: [1, 'two'], y: { z: true } } }).encode(),
  );
  assert.deepEqual(a.parameter('x'), [1, 'two']);
  assert.equal(a.parameter('missing'), undefined);
  const b = DataRequest.create({});
  b.copyParameters(a);
  assert.deepEqual(DataRequest.decode(b.encode()).parameters, { x: [1, 'two'], y: { z: true } });
});
