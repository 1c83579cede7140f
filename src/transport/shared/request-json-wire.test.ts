import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, FlowgateError } from '../../core/errors.js';
import { DataRequest } from '../../proto/request.js';
import { parseJsonRequest, toDataRequests, type ParseJsonRequestOptions } from './request-json.js';
import { jsonRequestToWire, jsonWireFields } from './request-json-wire.js';

/** What the HTTP data routes sent before: `toDataRequests(parseJsonRequest(body), 0)[0]`, encoded. */
function oldBytes(body: unknown, options: ParseJsonRequestOptions = {}): Uint8Array {
  return toDataRequests(parseJsonRequest(body, options), 0)[0]!.encode();
}

const BODIES: [name: string, body: unknown, options?: ParseJsonRequestOptions][] = [
  ['an empty body', { header: { request_id: 'r' } }],
  [
    'docs and endpoint',
    { header: { request_id: 'r' }, execEndpoint: '/foo', data: [{ id: 'a', text: 'x' }] },
  ],
  [
    'snake_case endpoint',
    { header: { requestId: 'r' }, exec_endpoint: '/bar', data: { docs: [{ id: 'a' }] } },
  ],
  ['endpoint in the header', { header: { request_id: 'r', exec_endpoint: '/h' } }],
  ['the route wins', { header: { request_id: 'r' }, execEndpoint: '/body' }, { endpoint: '/index' }],
  ['a default endpoint', { header: { request_id: 'r' } }, { defaultEndpoint: '/d' }],
  ['target executor', { header: { request_id: 'r', target_executor: 'b' }, targetExecutor: 'a' }],
  ['target in the header', { header: { request_id: 'r', targetExecutor: 'b' } }],
  ['empty target', { header: { request_id: 'r' }, targetExecutor: '' }],
  ['parameters', { header: { request_id: 'r' }, parameters: { k: 1, s: 'v', l: [1, null, { x: true }] } }],
  ['empty parameters', { header: { request_id: 'r' }, parameters: {} }],
  ['null parameters', { header: { request_id: 'r' }, parameters: null, data: null }],
  [
    'everything',
    {
      header: { request_id: 'r' },
      execEndpoint: '/e',
      targetExecutor: 't',
      parameters: { top_k: 3 },
      data: [
        {
          id: 'a',
          text: 'x',
          tags: { k: 'v' },
          embedding: [1, 2],
          matches: [{ id: 'm', scores: { s: 0.5 } }],
        },
        { id: 'b', tensor: { dense: { buffer: 'AACAPw==', shape: [1], dtype: '<f4' } } },
      ],
    },
  ],
];

function isUnprocessable(message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof FlowgateError);
    assert.equal(err.code, Code.InvalidArgument);
    assert.equal(err.details.httpStatus, 422);
    assert.equal(err.message, message);
    return true;
  };
}

void describe('jsonRequestToWire: a JSON body as DataRequestProto bytes', () => {
  for (const [name, body, options] of BODIES) {
    void test(`the bytes the old path encoded: ${name}`, () => {
      const got = jsonRequestToWire(body, options);
      assert.deepEqual(Buffer.from(got.bytes), Buffer.from(oldBytes(body, options)));
      assert.equal(got.requestId, 'r');
    });
  }

  void test('a body without a request id gets a new 32-hex one, in the bytes too', () => {
    const got = jsonRequestToWire({ data: [{ text: 'x' }] });
    assert.match(got.requestId, /^[0-9a-f]{32}$/);
    const req = DataRequest.decode(got.bytes);
    assert.equal(req.requestId, got.requestId);
    assert.equal(req.endpoint, '/');
    assert.notEqual(jsonRequestToWire({}).requestId, jsonRequestToWire({}).requestId);
  });

  void test('base64 tensors are noted for the answer', () => {
    const data = [{ tensor: { dense: { buffer: 'AACAPw==', shape: [1], dtype: '<f4' } } }];
    assert.equal(jsonRequestToWire({ data }).head.tensors, 'base64');
    assert.equal(jsonRequestToWire({ data: [{ tensor: [1] }] }).head.tensors, undefined);
  });

  void test('jsonWireFields: what a 503/504 echoes, the documents with the ids they were sent with', () => {
    const got = jsonRequestToWire(
      { targetExecutor: 't', parameters: { k: 1 }, data: [{ text: 'x' }] },
      {
        endpoint: '/e',
      },
    );
    const fields = jsonWireFields(got);
    assert.equal(fields.endpoint, '/e');
    assert.equal(fields.targetExecutor, 't');
    assert.deepEqual(fields.parameters, { k: 1 });
    assert.equal(fields.docs[0]?.text, 'x');
    assert.match(fields.docs[0].id, /^[0-9a-f]{32}$/);
  });

  void test('wrong bodies fail as parseJsonRequest fails: 422 naming the field', () => {
    const bad: unknown[] = [
      null,
      [],
      'x',
      { header: 1 },
      { execEndpoint: 1 },
      { header: { exec_endpoint: [] } },
      { targetExecutor: {} },
      { header: { request_id: 5 } },
      { parameters: [1] },
      { data: 'x' },
      { data: [{ text: {} }] },
      { data: { docs: [{ embedding: 'e' }] } },
      { parameters: 'p', data: 'x' },
      { execEndpoint: 2, data: [{ text: {} }] },
    ];
    for (const body of bad) {
      let expected: unknown;
      try {
        parseJsonRequest(body);
      } catch (err) {
        expected = err;
      }
      assert.ok(expected instanceof FlowgateError, `parseJsonRequest accepts ${JSON.stringify(body)}`);
      assert.throws(() => jsonRequestToWire(body), isUnprocessable(expected.message), JSON.stringify(body));
    }
  });
});
