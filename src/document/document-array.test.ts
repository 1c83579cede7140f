import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowgateError } from '../core/errors.js';
import { Document } from './document.js';
import { DocumentArray } from './document-array.js';
import { NdArray } from './ndarray.js';

function abc(): DocumentArray {
  return new DocumentArray([
    { id: 'a', text: 'alpha' },
    { id: 'b', blob: new Uint8Array(1) },
    { id: 'c', text: 'gamma' },
  ]);
}

void describe('DocumentArray', () => {
  void test('is an Array of Documents built from Documents or inits', () => {
    const da = abc();
    assert.ok(Array.isArray(da));
    assert.equal(da.length, 3);
    assert.ok(da.every((d) => d instanceof Document));
    assert.deepEqual(
      [...da].map((d) => d.id),
      ['a', 'b', 'c'],
    );
    assert.equal(new DocumentArray().length, 0);
  });

  void test('filter, slice, concat and splice survive species construction', () => {
    const da = abc();
    const f = da.filter((d) => d.text !== undefined);
    assert.ok(f instanceof DocumentArray);
    assert.deepEqual(f.ids, ['a', 'c']);
    const s = da.slice(1);
    assert.ok(s instanceof DocumentArray);
    assert.deepEqual(s.ids, ['b', 'c']);
    const c = da.concat(new DocumentArray([{ id: 'd' }]));
    assert.ok(c instanceof DocumentArray);
    assert.equal(c.length, 4);
    const removed = da.splice(0, 1);
    assert.ok(removed instanceof DocumentArray);
    assert.deepEqual(removed.ids, ['a']);
    assert.deepEqual(da.ids, ['b', 'c']);
  });

  void test('map and flatMap return plain arrays', () => {
    const da = abc();
    const ids = da.map((d, i, arr) => `${d.id}${i}${arr.length}`);
    assert.ok(!(ids instanceof DocumentArray));
    assert.deepEqual(ids, ['a03', 'b13', 'c23']);
    const flat = da.flatMap((d) => [d.id, d.id]);
    assert.ok(!(flat instanceof DocumentArray));
    assert.deepEqual(flat, ['a', 'a', 'b', 'b', 'c', 'c']);
  });

  void test('Array.from on the subclass and the number constructor', () => {
    const da = DocumentArray.from(abc());
    assert.ok(da instanceof DocumentArray);
    assert.equal(da.length, 3);
    assert.equal(new DocumentArray(2).length, 2);
    assert.equal(DocumentArray.empty(3).length, 3);
    assert.equal(new Set(DocumentArray.empty(3).ids).size, 3);
  });

  void test('push and extend accept inits', () => {
    const da = new DocumentArray();
    assert.equal(da.push({ text: 'x' }, new Document({ text: 'y' })), 2);
    assert.equal(da.extend([{ text: 'z' }]), da);
    assert.deepEqual(da.texts, ['x', 'y', 'z']);
    assert.ok(da[0] instanceof Document);
  });

  void test('texts: "" for documents without text; setter needs one per document', () => {
    const da = abc();
    assert.deepEqual(da.texts, ['alpha', '', 'gamma']);
    da.texts = ['1', '2', '3'];
    assert.deepEqual(da.texts, ['1', '2', '3']);
    assert.equal(da[1]!.blob, undefined);
    assert.throws(() => (da.texts = ['only one']), FlowgateError);
  });

  void test('getById and has', () => {
    const da = abc();
    assert.equal(da.getById('c')?.text, 'gamma');
    assert.equal(da.getById('zzz'), undefined);
    assert.ok(da.has('b'));
    assert.ok(!da.has('zzz'));
  });

  void test('embeddings stack into [n, ...] and split back as views', () => {
    const da = new DocumentArray([
      { embedding: new Float32Array([1, 2]) },
      { embedding: new Float32Array([3, 4]) },
      { embedding: new Float32Array([5, 6]) },
    ]);
    const e = da.embeddings!;
    assert.equal(e.dtype, 'float32');
    assert.deepEqual(e.shape, [3, 2]);
    assert.deepEqual(e.toArray(), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const next = NdArray.from(new Float64Array([0, 1, 2, 3, 4, 5]), { shape: [3, 2] });
    da.embeddings = next;
    assert.deepEqual(da[2]!.embedding?.toArray(), [4, 5]);
    assert.equal(da[2]!.embedding?.data.buffer, next.data.buffer);
    assert.throws(() => (da.embeddings = NdArray.from([1, 2])), /cannot set embeddings/);
  });

  void test('embeddings: undefined when none, an error when only some have one', () => {
    assert.equal(abc().embeddings, undefined);
    assert.equal(new DocumentArray().embeddings, undefined);
    const partial = new DocumentArray([{ embedding: [1] }, { id: 'bare' }]);
    assert.throws(() => partial.embeddings, /document 1 \(id bare\) has no embedding/);
  });

  void test('tensors stack like embeddings', () => {
    const da = new DocumentArray([{ tensor: [[1, 2]] }, { tensor: [[3, 4]] }]);
    assert.deepEqual(da.tensors?.shape, [2, 1, 2]);
    da.tensors = NdArray.from([[[9]], [[8]]]);
    assert.deepEqual(da[1]!.tensor?.toArray(), [[8]]);
  });
});
