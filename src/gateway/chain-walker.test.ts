import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, FlowgateError } from '../core/errors.js';
import { LightAbort } from '../core/abort-like.js';
import { DataRequest, StatusCode } from '../proto/request.js';
import type { ConnectionPool, PoolSendOptions } from './connection-pool.js';
import { GraphWalker } from './graph-walker.js';
import { buildTopology } from './topology.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Call {
  name: string;
  endpoint: string;
  target: string | undefined;
}

/** An in-memory pool: each call goes through the wire encoding; `answer` may change the response. */
function memoryPool(
  bound: Record<string, string[]>,
  answer: (name: string, res: DataRequest, options: PoolSendOptions) => DataRequest | Promise<DataRequest> = (
    _n,
    r,
  ) => r,
): { pool: ConnectionPool; calls: Call[] } {
  const calls: Call[] = [];
  const pool = {
    endpoints: (name: string) => Promise.resolve(new Set(bound[name] ?? [])),
    send: async (name: string, req: DataRequest, options: PoolSendOptions = {}) => {
      calls.push({ name, endpoint: req.endpoint, target: req.targetExecutor });
      return answer(name, DataRequest.decode(req.encode()), options);
    },
  } as unknown as ConnectionPool;
  return { pool, calls };
}

const line = (...names: string[]) =>
  names.map((name, i) => ({ name, needs: [i === 0 ? 'gateway' : names[i - 1]!] }));

function request(init: Parameters<typeof DataRequest.create>[0] = {}): DataRequest {
  return DataRequest.decode(DataRequest.create({ requestId: 'r1', endpoint: '/', ...init }).encode());
}

void test('a chain takes the chain walk; a fork, a filter, a floating node take the graph walk', () => {
  const { pool } = memoryPool({});
  assert.equal(new GraphWalker(buildTopology(line('a', 'b')), pool, quiet).walksChain, true);
  const fork = [...line('a', 'b'), { name: 'c', needs: ['a'] }, { name: 'j', needs: ['b', 'c'] }];
  assert.equal(new GraphWalker(buildTopology(fork), pool, quiet).walksChain, false);
  const when = [{ name: 'a', needs: ['gateway'], when: { tags__x: { $eq: 1 } } }];
  assert.equal(new GraphWalker(buildTopology(when), pool, quiet).walksChain, false);
  const floating = [...line('a'), { name: 'f', needs: ['a'], floating: true }];
  assert.equal(new GraphWalker(buildTopology(floating), pool, quiet).walksChain, false);
});

void test('chain walk: skips nodes that do not bind the endpoint or that targetExecutor leaves out', async () => {
  const { pool, calls } = memoryPool({ a: ['/x'], b: ['/y'], c: ['/default'], d: ['/x'] });
  const walker = new GraphWalker(buildTopology(line('a', 'b', 'c', 'd')), pool, quiet);
  const res = await walker.process(request({ endpoint: '/x', targetExecutor: 'a|b|c' }));
  assert.deepEqual(calls, [
    { name: 'a', endpoint: '/x', target: undefined },
    { name: 'c', endpoint: '/x', target: undefined },
  ]);
  assert.deepEqual(
    res.routes.map((r) => r.executor),
    ['gateway', 'a', 'c'],
  );
  assert.equal(res.requestId, 'r1');
  assert.ok(res.routes.every((r) => r.startTime && r.endTime));
  assert.deepEqual(res.routes[1]!.status, { code: StatusCode.SUCCESS });
  // The second request knows the endpoints without asking: same answer.
  calls.length = 0;
  await walker.process(request({ endpoint: '/x', targetExecutor: 'a|b|c' }));
  assert.deepEqual(
    calls.map((c) => c.name),
    ['a', 'c'],
  );
});

void test('chain walk: an error status is the answer and the nodes after it are not called', async () => {
  const { pool, calls } = memoryPool({ a: ['/default'], b: ['/default'] }, (name, res) => {
    if (name === 'a') res.setError(new Error('boom'), 'a');
    return res;
  });
  const errors: unknown[] = [];
  const logger = { ...quiet, error: (_m: string, f: unknown) => void errors.push(f) };
  const res = await new GraphWalker(buildTopology(line('a', 'b')), pool, logger).process(request());
  assert.deepEqual(
    calls.map((c) => c.name),
    ['a'],
  );
  assert.equal(res.isError, true);
  assert.equal(res.status?.exception?.executor, 'a');
  assert.deepEqual(
    res.routes.map((r) => r.executor),
    ['gateway', 'a'],
  );
  assert.equal(errors.length, 1, 'one log line for the failed request');
});

void test('chain walk: __results__ of every Executor are merged into the request parameters', async () => {
  const { pool } = memoryPool({ a: ['/default'], b: ['/default'] }, (name, res) => {
    res.parameters = { ...res.parameters, __results__: { [name]: { n: name } } };
    return res;
  });
  const res = await new GraphWalker(buildTopology(line('a', 'b')), pool, quiet).process(
    request({ parameters: { k: 1 } }),
  );
  assert.deepEqual(DataRequest.decode(res.encode()).parameters, {
    k: 1,
    __results__: { a: { n: 'a' }, b: { n: 'b' } },
  });
});

void test('chain walk: the caller signal reaches the call and cancels; a network error rejects as it is', async () => {
  const cancel = new LightAbort();
  let seen: PoolSendOptions | undefined;
  const { pool } = memoryPool({ a: ['/default'], b: ['/default'] }, (_n, res, options) => {
    seen = options;
    cancel.abort();
    return res;
  });
  const walker = new GraphWalker(buildTopology(line('a', 'b')), pool, quiet);
  await assert.rejects(walker.process(request(), { signal: cancel, headers: { h: 'v' } }), (err) => {
    assert.ok(err instanceof FlowgateError);
    assert.equal(err.code, Code.Cancelled);
    return true;
  });
  assert.equal(seen?.signal, cancel);
  assert.deepEqual(seen?.headers, { h: 'v' });

  const broken = memoryPool({ a: ['/default'] }, () => {
    throw new FlowgateError(Code.Unavailable, 'gone');
  });
  await assert.rejects(
    new GraphWalker(buildTopology(line('a')), broken.pool, quiet).process(request()),
    /gone/,
  );
});

void test('graph walk (not a chain) still answers a fork-join with every route', async () => {
  const { pool, calls } = memoryPool({ a: ['/default'], b: ['/default'], c: ['/default'], j: ['/default'] });
  const fork = [...line('a', 'b'), { name: 'c', needs: ['a'] }, { name: 'j', needs: ['b', 'c'] }];
  const walker = new GraphWalker(buildTopology(fork), pool, quiet);
  const res = await walker.process(request());
  assert.equal(walker.walksChain, false);
  assert.deepEqual(calls.map((c) => c.name).sort(), ['a', 'b', 'c', 'j']);
  assert.deepEqual(
    res.routes.map((r) => r.executor),
    ['gateway', 'a', 'b', 'c', 'j'],
  );
});
