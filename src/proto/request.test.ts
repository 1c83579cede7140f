import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataRequest } from './request.js';

function request(docsBytes: Uint8Array, inBytesField = false): DataRequest {
  const req = DataRequest.create({ requestId: 'r1', endpoint: '/index', docsBytes, parameters: { k: 1 } });
  req.docsInBytesField = inBytesField;
  req.routes = [{ executor: 'gateway' }];
  return req;
}

void test('encodeParts: large documents as a second part, the request view itself; the parts are encode()', () => {
  const docs = new Uint8Array(200_000).map((_, i) => i % 251);
  for (const inBytesField of [false, true]) {
    const req = request(docs, inBytesField);
    const parts = req.encodeParts();
    assert.equal(parts.length, 2);
    assert.equal(parts[1], docs, 'the documents are not copied');
    assert.deepEqual(Buffer.concat(parts), Buffer.from(req.encode()));
    const back = DataRequest.decode(Buffer.concat(parts));
    assert.equal(back.docsInBytesField, inBytesField);
    assert.deepEqual(Buffer.from(back.docsBytes), Buffer.from(docs));
    assert.deepEqual(back.parameters, { k: 1 });
  }
});

void test('encodeParts: small or no documents in one part', () => {
  for (const docs of [new Uint8Array(0), new Uint8Array(1000).fill(7)]) {
    const req = request(docs);
    const parts = req.encodeParts();
    assert.equal(parts.length, 1);
    assert.deepEqual(Buffer.from(parts[0]!), Buffer.from(req.encode()));
  }
  // The threshold is the caller's: one byte is enough to split.
  assert.equal(request(new Uint8Array(10).fill(1)).encodeParts(1).length, 2);
});
