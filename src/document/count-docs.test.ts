import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code } from '../core/errors.js';
import { countEncodedDocs } from './count-docs.js';
import { Document } from './document.js';
import { DocumentArray } from './document-array.js';
import { encodeDocs } from './proto-codec.js';

void test('countEncodedDocs counts the documents of a DocumentArrayProto without decoding them', () => {
  const bytes = encodeDocs(new DocumentArray([new Document({ id: 'a', text: 'x' }), { id: 'b', text: 'y' }]));
  assert.equal(countEncodedDocs(bytes), 2);
  assert.equal(countEncodedDocs(new Uint8Array(0)), 0);
  assert.throws(() => countEncodedDocs(Uint8Array.from([0x0a, 0x05])), { code: Code.InvalidArgument });
  assert.throws(() => countEncodedDocs(Uint8Array.from([0x0b])), { code: Code.InvalidArgument });
});
