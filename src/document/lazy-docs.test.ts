import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { Code } from '../core/errors.js';
import { Document } from './document.js';
import { DocumentArray } from './document-array.js';
import { countEncodedDocs, lazyDocumentArray, loadedDocs, untouchedDocsBytes } from './lazy-docs.js';
import { encodeDocs } from './proto-codec.js';

const bytes = encodeDocs(new DocumentArray([new Document({ id: 'a', text: 'x' }), { id: 'b', text: 'y' }]));

void test('a lazy array is a DocumentArray that stays encoded while only passed around', async () => {
  const docs = lazyDocumentArray(bytes);
  assert.ok(docs instanceof DocumentArray);
  assert.ok(Array.isArray(docs));
  const same = await Promise.resolve(docs); // `await` looks for `then`: no decoding
  assert.equal(same, docs);
  assert.equal(untouchedDocsBytes(docs), bytes);
});

void test('every way of looking at or changing a lazy array decodes it, so the bytes are no longer trusted', () => {
  const uses: [string, (d: DocumentArray) => unknown][] = [
    ['length', (d) => d.length],
    ['index', (d) => d[0]],
    ['iterate', (d) => [...d]],
    ['method', (d) => d.texts],
    ['mutate a doc', (d) => (d[0]!.text = 'changed')],
    ['push', (d) => d.push({ text: 'z' })],
    ['set length', (d) => (d.length = 0)],
    ['assign index', (d) => (d[1] = new Document())],
    ['delete', (d) => delete d[0]],
    ['in', (d) => 0 in d],
    ['keys', (d) => Object.keys(d)],
    ['descriptor', (d) => Object.getOwnPropertyDescriptor(d, 0)],
    ['define', (d) => Object.defineProperty(d, 'x', { value: 1 })],
    ['freeze', (d) => Object.freeze(d)],
    ['json', (d) => JSON.stringify(d)],
    ['spread', (d) => ({ ...d })],
    ['inspect', (d) => inspect(d)],
  ];
  for (const [name, use] of uses) {
    const docs = lazyDocumentArray(bytes);
    use(docs);
    assert.equal(untouchedDocsBytes(docs), undefined, name);
  }
});

void test('a decoded lazy array holds the documents, and changes made through it are kept', () => {
  const docs = lazyDocumentArray(bytes);
  assert.deepEqual(docs.texts, ['x', 'y']);
  docs[0]!.text = 'changed';
  docs.push({ id: 'c', text: 'z' });
  const plain = loadedDocs(docs);
  assert.ok(plain instanceof DocumentArray);
  assert.deepEqual(plain.texts, ['changed', 'y', 'z']);
  assert.deepEqual(Object.getOwnPropertySymbols(docs), []);
  assert.match(inspect(lazyDocumentArray(bytes)), /DocumentArray\(2\)[\s\S]*id: 'a'/);
});

void test('malformed bytes fail with InvalidArgument at first use, and again at the next', () => {
  const docs = lazyDocumentArray(Uint8Array.from([0x0a, 0x05, 0x01]));
  assert.throws(() => docs.length, { code: Code.InvalidArgument });
  assert.throws(() => docs[0], { code: Code.InvalidArgument });
});

void test('untouchedDocsBytes and loadedDocs leave ordinary arrays alone; countEncodedDocs counts without decoding', () => {
  const da = new DocumentArray([{ text: 'a' }]);
  assert.equal(untouchedDocsBytes(da), undefined);
  assert.equal(loadedDocs(da), da);
  assert.equal(countEncodedDocs(bytes), 2);
  assert.equal(countEncodedDocs(new Uint8Array(0)), 0);
  assert.throws(() => countEncodedDocs(Uint8Array.from([0x0a, 0x05])), { code: Code.InvalidArgument });
});
