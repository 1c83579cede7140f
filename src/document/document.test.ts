import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Document, newDocumentId } from './document.js';
import { DocumentArray } from './document-array.js';
import { NdArray } from './ndarray.js';

void describe('Document', () => {
  void test('defaults', () => {
    const d = new Document();
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(d.tags, {});
    assert.equal(d.granularity, 0);
    assert.equal(d.adjacency, 0);
    assert.deepEqual(d.location, []);
    assert.deepEqual(d.scores, {});
    assert.deepEqual(d.evaluations, {});
    assert.ok(d.chunks instanceof DocumentArray);
    assert.equal(d.chunks.length, 0);
    assert.ok(d.matches instanceof DocumentArray);
    assert.equal(d.content, undefined);
    assert.equal(d.contentType, undefined);
    assert.equal(d.mimeType, undefined);
  });

  void test('ids are 32 lowercase hex chars and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, newDocumentId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.notEqual(new Document().id, new Document().id);
  });

  void test('text, blob and tensor exclude each other like the proto oneof', () => {
    const d = new Document({ text: 'hello' });
    assert.equal(d.contentType, 'text');
    assert.equal(d.mimeType, 'text/plain');
    d.blob = new Uint8Array([1, 2]);
    assert.equal(d.text, undefined);
    assert.equal(d.contentType, 'blob');
    d.tensor = [1, 2, 3];
    assert.equal(d.blob, undefined);
    assert.equal(d.contentType, 'tensor');
    assert.ok(d.content instanceof NdArray);
    d.text = 'again';
    assert.equal(d.tensor, undefined);
    assert.equal(d.content, 'again');
    d.text = undefined;
    assert.equal(d.contentType, undefined);
  });

  void test('when both are given, text wins over tensor and blob (set last)', () => {
    const d = new Document({ tensor: [1], blob: new Uint8Array(1), text: 't' });
    assert.equal(d.contentType, 'text');
  });

  void test('an explicit mime type is kept; empty text sets none', () => {
    assert.equal(new Document({ text: 'x', mimeType: 'text/markdown' }).mimeType, 'text/markdown');
    assert.equal(new Document({ text: '' }).mimeType, undefined);
    assert.equal(new Document({ blob: new Uint8Array(1) }).mimeType, undefined);
  });

  void test('content dispatches on type', () => {
    assert.equal(new Document({ content: 'hi' }).contentType, 'text');
    assert.equal(new Document({ content: new Uint8Array(2) }).contentType, 'blob');
    assert.equal(new Document({ content: new Float32Array(2) }).contentType, 'tensor');
    assert.equal(new Document({ content: [[1, 2]] }).tensor?.dtype, 'float64');
  });

  void test('tensor and embedding accept typed arrays, nested lists and NdArrays', () => {
    const f = new Float32Array([0.5, 0.25]);
    const d = new Document({ embedding: f, tensor: [[1, 2]] });
    assert.equal(d.embedding?.dtype, 'float32');
    assert.equal(d.embedding?.data, f);
    assert.deepEqual(d.tensor?.shape, [1, 2]);
    assert.equal(d.tensor?.dtype, 'float64');
    const n = NdArray.from([1], { dtype: 'int8' });
    d.embedding = n;
    assert.equal(d.embedding, n);
    d.embedding = undefined;
    assert.equal(d.embedding, undefined);
  });

  void test('chunks, matches and scores accept inits and numbers', () => {
    const d = new Document({
      chunks: [{ text: 'a' }, new Document({ text: 'b' })],
      matches: [{ text: 'm', scores: { cosine: 0.5 } }],
      scores: { l2: { value: 1, opName: 'euclidean' } },
    });
    assert.deepEqual(d.chunks.texts, ['a', 'b']);
    assert.ok(d.matches[0] instanceof Document);
    assert.deepEqual(d.matches[0].scores, { cosine: { value: 0.5 } });
    assert.deepEqual(d.scores, { l2: { value: 1, opName: 'euclidean' } });
    d.chunks = [{ text: 'c' }];
    assert.ok(d.chunks instanceof DocumentArray);
    assert.deepEqual(d.chunks.texts, ['c']);
  });

  void test('clone is deep and keeps the id', () => {
    const d = new Document({
      blob: new Uint8Array([1, 2, 3]),
      embedding: new Float32Array([1, 2]),
      tags: { a: { b: [1] } },
      location: [1, 2],
      scores: { s: 0.5 },
      chunks: [{ tensor: [1] }],
    });
    const c = d.clone();
    assert.equal(c.id, d.id);
    assert.deepEqual(c.tags, d.tags);
    (c.tags.a as { b: number[] }).b.push(2);
    assert.deepEqual(d.tags, { a: { b: [1] } });
    c.blob![0] = 9;
    assert.equal(d.blob![0], 1);
    (c.embedding!.data as Float32Array)[0] = 9;
    assert.equal(d.embedding!.data[0], 1);
    c.scores.s!.value = 0;
    assert.equal(d.scores.s!.value, 0.5);
    c.location.push(3);
    assert.deepEqual(d.location, [1, 2]);
    assert.notEqual(c.chunks[0], d.chunks[0]);
    assert.equal(c.chunks[0]!.id, d.chunks[0]!.id);
    assert.notEqual(c.chunks[0]!.tensor, d.chunks[0]!.tensor);
    assert.deepEqual(c.chunks[0]!.tensor?.toArray(), [1]);
  });
});
