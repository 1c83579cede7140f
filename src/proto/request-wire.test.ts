import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { DataRequest } from './request.js';
import { decodeRequestWire, encodeRequestWire, structFieldBytes } from './request-wire.js';
import { jsonToStruct } from './struct.js';
import { flowgate, google, jina } from './wire.js';

const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));

/** The original's `jina.DataRequestProto` as any other client loads it (protobufjs from jina.proto). */
function originalTypes(): { request: protobuf.Type; docs: protobuf.Type } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/') ? target : `${PROTO_DIR}/${target.replace(/^.*\//, '')}`;
  root.loadSync('jina.proto', { keepCase: false });
  return {
    request: root.lookupType('jina.DataRequestProto'),
    docs: root.lookupType('docarray.DocumentArrayProto'),
  };
}

const { request: Original, docs: OriginalDocs } = originalTypes();

/** A full message as the original's client would send it: every top field set. */
function fullMessage(docsIn: 'docs' | 'docsBytes' = 'docs'): Uint8Array {
  const docs = {
    docs: [
      { id: 'a', text: 'hello' },
      { id: 'b', text: 'world' },
    ],
  };
  const data =
    docsIn === 'docs' ? { docs } : { docsBytes: OriginalDocs.encode(OriginalDocs.fromObject(docs)).finish() };
  const msg = Original.fromObject({
    header: { requestId: 'r-1', execEndpoint: '/index', targetExecutor: 'enc.*', timeout: 5 },
    parameters: { fields: { k: { numberValue: 2 }, __results__: { structValue: { fields: {} } } } },
    routes: [
      { executor: 'gateway', startTime: { seconds: 1, nanos: 2 } },
      { executor: 'enc', status: { code: 0 } },
    ],
    data,
  });
  return Original.encode(msg).finish();
}

void test('decodeRequestWire reads the top fields of a message encoded from the original jina.proto', () => {
  const bytes = fullMessage();
  const wire = decodeRequestWire(bytes);
  assert.equal(wire.header.requestId, 'r-1');
  assert.equal(wire.header.execEndpoint, '/index');
  assert.equal(wire.header.targetExecutor, 'enc.*');
  assert.equal(wire.routesBytes.length, 2);
  assert.equal(jina.RouteProto.decode(wire.routesBytes[1]!).executor, 'enc');
  assert.equal(google.protobuf.Struct.decode(wire.parametersBytes!).fields.k?.numberValue, 2);
  const docs = OriginalDocs.decode(wire.docsBytes) as unknown as { docs: { text: string }[] };
  assert.deepEqual(
    docs.docs.map((d) => d.text),
    ['hello', 'world'],
  );
  assert.equal(wire.docsInBytesField, false);
  assert.equal(decodeRequestWire(fullMessage('docsBytes')).docsInBytesField, true);
});

void test('a decoded request re-encodes to the very bytes the original encoder wrote', () => {
  for (const kind of ['docs', 'docsBytes'] as const) {
    const bytes = fullMessage(kind);
    assert.deepEqual(Buffer.from(DataRequest.decode(bytes).encode()), Buffer.from(bytes));
  }
});

void test('encodeRequestWire writes what the generated encoder writes, from objects or spliced bytes', () => {
  const header = { requestId: 'x', execEndpoint: '/', status: { code: 1, description: 'boom' } };
  const route = {
    executor: 'gateway',
    startTime: { seconds: 3, nanos: 4 },
    endTime: { seconds: 5, nanos: 0 },
  };
  const params = jsonToStruct({ a: 'b', n: [1, true, null] });
  const docsBytes = Uint8Array.of(1, 2, 3);
  const expected = flowgate.passthrough.RawDataRequestProto.encode({
    header,
    parameters: params,
    routes: [route, { executor: 'e' }],
    data: { docs: docsBytes },
  }).finish();
  const fromObjects = encodeRequestWire({
    header,
    parameters: params,
    routes: [route, { executor: 'e' }],
    docsBytes,
    docsInBytesField: false,
  });
  const spliced = encodeRequestWire({
    header,
    parameters: google.protobuf.Struct.encode(params).finish(),
    routes: [jina.RouteProto.encode(route).finish(), { executor: 'e' }],
    docsBytes,
    docsInBytesField: false,
  });
  assert.deepEqual(Buffer.from(fromObjects), Buffer.from(expected));
  assert.deepEqual(Buffer.from(spliced), Buffer.from(expected));
  // no documents: `data` is still there, with an empty `docs` (as the original writes)
  const empty = encodeRequestWire({
    header,
    parameters: undefined,
    routes: [],
    docsBytes: new Uint8Array(0),
    docsInBytesField: true,
  });
  const decoded = Original.decode(empty) as unknown as { data?: { docs?: unknown } };
  assert.ok(decoded.data?.docs);
});

void test('the Gateway splices routes into an answer: the original decoder reads every field', () => {
  const req = DataRequest.decode(fullMessage());
  req.routes = [...req.routes, { executor: 'added', startTime: { seconds: 9, nanos: 0 } }];
  req.requestId = 'new-id';
  const back = Original.toObject(Original.decode(req.encode()), { longs: Number }) as {
    header: { requestId: string };
    routes: { executor: string }[];
    parameters: { fields: Record<string, unknown> };
    data: { docs: { docs: unknown[] } };
  };
  assert.equal(back.header.requestId, 'new-id');
  assert.deepEqual(
    back.routes.map((r) => r.executor),
    ['gateway', 'enc', 'added'],
  );
  assert.deepEqual(Object.keys(back.parameters.fields).sort(), ['__results__', 'k']);
  assert.equal(back.data.docs.docs.length, 2);
});

void test('parameter() finds one key in the encoded parameters without decoding the others', () => {
  const req = DataRequest.decode(fullMessage());
  assert.deepEqual(req.parameter('__results__'), {});
  assert.equal(req.parameter('k'), 2);
  assert.equal(req.parameter('missing'), undefined);
  // a key that only appears inside another value is not a top-level key
  const nested = google.protobuf.Struct.encode(jsonToStruct({ outer: { __results__: 1 } })).finish();
  assert.equal(structFieldBytes(nested, '__results__'), undefined);
  // the last entry wins when a key repeats (as protobuf map parsing)
  const twice = Buffer.concat([
    google.protobuf.Struct.encode(jsonToStruct({ k: 1 })).finish(),
    google.protobuf.Struct.encode(jsonToStruct({ k: 2 })).finish(),
  ]);
  assert.equal(google.protobuf.Value.decode(structFieldBytes(twice, 'k')!).numberValue, 2);
  assert.equal(req.lastRouteExecutor, 'enc');
});

void test('decodeRequestWire rejects truncated messages and wrong wire types of known fields', () => {
  const bytes = fullMessage();
  assert.throws(() => decodeRequestWire(bytes.subarray(0, bytes.length - 3)), /out of range/);
  assert.throws(() => decodeRequestWire(Uint8Array.of(0x08, 0x01)), /invalid wire type 0 for field 1/);
  // unknown fields are skipped
  assert.equal(
    decodeRequestWire(Uint8Array.of(0x28, 0x01, 0x0a, 0x03, 0x0a, 0x01, 0x61)).header.requestId,
    'a',
  );
});

void test('proto-loader (the original clients) decodes what DataRequest encodes', () => {
  const def = protoLoader.loadSync('jina.proto', {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    defaults: false,
  });
  const method = (
    def['jina.JinaSingleDataRequestRPC'] as Record<string, protoLoader.MethodDefinition<object, object>>
  ).process_single_data!;
  const req = DataRequest.decode(fullMessage());
  req.routes = [...req.routes, { executor: 'x' }];
  const msg = method.requestDeserialize(Buffer.from(req.encode())) as {
    header: { request_id: string };
    routes: { executor: string }[];
    data: { docs: { docs: { text: string }[] } };
  };
  assert.equal(msg.header.request_id, 'r-1');
  assert.equal(msg.routes.length, 3);
  assert.equal(msg.data.docs.docs[1]!.text, 'world');
  // and the other way: what proto-loader encodes, DataRequest reads
  const back = DataRequest.decode(method.requestSerialize(msg));
  assert.equal(back.routes.at(-1)!.executor, 'x');
  assert.equal(back.endpoint, '/index');
});
