import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeDocs } from './proto-codec.js';
import { DEFAULT_REQUEST_SIZE, buildRequests, buildRequestsSync, docsPerRequest } from './requests.js';

const docs = (n: number) => Array.from({ length: n }, (_, i) => ({ text: `d${i}` }));

void test('docsPerRequest: default 100, 0 or less means one request, a non-integer is INVALID_ARGUMENT', () => {
  assert.equal(DEFAULT_REQUEST_SIZE, 100);
  assert.equal(docsPerRequest(undefined), 100);
  assert.equal(docsPerRequest(0), Infinity);
  assert.equal(docsPerRequest(-5), Infinity);
  assert.equal(docsPerRequest(7), 7);
  assert.throws(() => docsPerRequest(1.5), /requestSize must be an integer/);
});

void test('buildRequests and buildRequestsSync cut the same way and carry the fields', async () => {
  const fields = { endpoint: '/index', targetExecutor: 'b', parameters: { k: 1 }, requestId: 'given' };
  for (const [n, size, want] of [
    [250, undefined, [100, 100, 50]],
    [5, 2, [2, 2, 1]],
    [5, 0, [5]],
    [5, -1, [5]],
    [0, 3, [0]],
  ] as const) {
    const lazy = [];
    const heard: number[] = [];
    for await (const r of buildRequests(docs(n), fields, size, (c) => heard.push(c))) lazy.push(r);
    const eager = buildRequestsSync(docs(n), fields, size);
    for (const reqs of [lazy, eager]) {
      assert.deepEqual(
        reqs.map((r) => decodeDocs(r.docsBytes).length),
        want,
        `${n} docs, requestSize ${size}`,
      );
      assert.ok(reqs.every((r) => r.endpoint === '/index' && r.targetExecutor === 'b'));
      assert.deepEqual(reqs[0]!.parameters, { k: 1 });
      assert.equal(reqs[0]!.requestId, 'given');
      assert.equal(new Set(reqs.map((r) => r.requestId)).size, reqs.length);
    }
    assert.deepEqual(heard, want);
  }
  assert.deepEqual(decodeDocs(buildRequestsSync(docs(3), {}, 2)[1]!.docsBytes).texts, ['d2']);
  assert.equal(buildRequestsSync([], {})[0]!.endpoint, '/');
});
