import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataRequest } from './request.js';
import { encodeRequestWire, encodeRequestWireParts } from './request-wire.js';
import { headerSize, routeSize, WireCursor, writeHeader, writeRoute } from './header-wire.js';
import { jina } from './wire.js';

function fast<T>(m: T, size: (m: T) => number, write: (w: WireCursor, m: T) => void): Buffer | undefined {
  const n = size(m);
  if (n < 0) return undefined;
  const w = new WireCursor(Buffer.alloc(n));
  write(w, m);
  assert.equal(w.pos, n, 'wrote exactly the measured size');
  return w.buf;
}

const headers: jina.IHeaderProto[] = [
  {},
  { requestId: 'r-1' },
  { requestId: '', execEndpoint: '/index', targetExecutor: 'enc.*', timeout: 5000 },
  { requestId: 'ünïcødé-✓', execEndpoint: '/é' },
  { requestId: 'x'.repeat(300), status: { code: 0 } },
  { requestId: 'r', status: { code: 1, description: 'ValueError("boom")' } },
  {
    requestId: 'r',
    status: {
      code: 1,
      description: 'd',
      exception: { name: 'ValueError', args: ['a', 'ü'], stacks: ['s1', 's2'], executor: 'enc' },
    },
  },
  { requestId: 'r', status: { code: 1, exception: { name: 'E' } } },
  { requestId: 'r', execEndpoint: undefined, targetExecutor: null, timeout: 0 },
];

void test('writeHeader writes byte for byte what the generated HeaderProto encoder writes', () => {
  for (const h of headers) {
    const mine = fast(h, headerSize, writeHeader);
    assert.ok(mine, JSON.stringify(h));
    assert.deepEqual(mine, Buffer.from(jina.HeaderProto.encode(h).finish()), JSON.stringify(h));
  }
});

void test('decoded headers: defaults on the prototype are not written, as the generated encoder does', () => {
  for (const h of headers) {
    const decoded = jina.HeaderProto.decode(jina.HeaderProto.encode(h).finish());
    const mine = fast(decoded, headerSize, writeHeader);
    assert.deepEqual(mine, Buffer.from(jina.HeaderProto.encode(decoded).finish()));
  }
});

void test('writeRoute writes byte for byte what the generated RouteProto encoder writes', () => {
  const routes: jina.IRouteProto[] = [
    { executor: 'gateway', startTime: { seconds: 1764900000, nanos: 123000000 } },
    {
      executor: 'enc',
      startTime: { seconds: 0, nanos: 0 },
      endTime: { seconds: 2 ** 40, nanos: 999999999 },
      status: { code: 0 },
    },
    { executor: 'é', status: { code: 1, description: 'x', exception: { name: 'E', args: ['1'] } } },
    {},
  ];
  for (const r of routes) {
    const mine = fast(r, routeSize, writeRoute);
    assert.deepEqual(mine, Buffer.from(jina.RouteProto.encode(r).finish()), JSON.stringify(r));
    // Decoded (class instances, defaults on the prototype), with numbers for the int64 seconds.
    const decoded = jina.RouteProto.decode(jina.RouteProto.encode(r).finish());
    for (const t of [decoded.startTime, decoded.endTime])
      if (t && typeof t.seconds !== 'number') t.seconds = Number(t.seconds);
    assert.deepEqual(
      fast(decoded, routeSize, writeRoute),
      Buffer.from(jina.RouteProto.encode(decoded).finish()),
    );
  }
});

void test('what the fast encoders cannot write is left to the generated ones (negative, Long, wrong type)', () => {
  assert.equal(routeSize({ executor: 'e', startTime: { seconds: -1, nanos: 0 } }), -1);
  assert.equal(headerSize({ requestId: 'r', timeout: -3 }), -1);
  assert.equal(headerSize({ status: { code: -1 as 0 } }), -1);
  const odd: jina.IRouteProto[] = [
    { executor: 'e', startTime: { seconds: -5, nanos: -1 } },
    { executor: 'e', startTime: { seconds: '12' as unknown as number } },
  ];
  for (const route of odd) {
    const header = { requestId: 'r', timeout: -3 };
    const m = {
      header,
      parameters: undefined,
      routes: [route],
      docsBytes: Uint8Array.of(1, 2),
      docsInBytesField: true,
    };
    const expected = jina.DataRequestProto.encode({
      header,
      routes: [route],
      data: { docsBytes: Uint8Array.of(1, 2) },
    }).finish();
    assert.deepEqual(Buffer.from(encodeRequestWire(m)), Buffer.from(expected));
    assert.deepEqual(Buffer.concat(encodeRequestWireParts(m)), Buffer.from(expected));
  }
});

void test('a request with object routes encodes as the generated DataRequestProto encoder', () => {
  const req = DataRequest.create({
    requestId: 'r-9',
    endpoint: '/',
    parameters: { a: 1 },
    docsBytes: Buffer.alloc(70_000, 7),
  });
  req.routes = [
    { executor: 'gateway', startTime: { seconds: 10, nanos: 5 }, endTime: { seconds: 11, nanos: 6 } },
    { executor: 'enc', startTime: { seconds: 10, nanos: 7 }, status: { code: 0 } },
  ];
  req.header.status = { code: 0 };
  const expected = jina.DataRequestProto.encode({
    header: req.header,
    parameters: { fields: { a: { numberValue: 1 } } },
    routes: req.routes,
    data: { docs: { docs: [] } },
  }).finish();
  const bytes = Buffer.from(req.encode());
  // Same header, parameters and routes; the documents are opaque bytes here.
  assert.deepEqual(bytes.subarray(0, 60), Buffer.from(expected).subarray(0, 60));
  assert.deepEqual(Buffer.concat(req.encodeParts()), bytes);
  assert.equal(DataRequest.decode(bytes).routes[1]!.executor, 'enc');
  assert.equal(DataRequest.decode(bytes).docsBytes.length, 70_000);
});
