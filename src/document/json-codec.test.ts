import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowgateError } from '../core/errors.js';
import { Document } from './document.js';
import { DocumentArray } from './document-array.js';
import {
  docsFromJson,
  docsToJson,
  documentFromJson,
  documentToJson,
  ndarrayToJsonBase64,
  usesBase64Tensors,
} from './json-codec.js';
import { NdArray } from './ndarray.js';

/** What `Document.to_dict()` (docarray 0.21, pydantic v1) returns, as json.dumps prints it. */
const PYTHON_DOC_JSON = `{
  "id": "5f1e2a9c0b7d4e3f8a6b1c2d3e4f5a6b", "parent_id": null, "granularity": null,
  "adjacency": null, "blob": null, "tensor": null, "mime_type": "text/plain",
  "text": "hello world", "weight": null, "uri": null,
  "tags": {"lang": "en", "n": 3.0, "nested": {"xs": [1.0, "two", true, null]}},
  "offset": null, "location": null,
  "embedding": [0.10000000149011612, 0.20000000298023224], "modality": null,
  "evaluations": null, "scores": null,
  "chunks": [{"id": "c0", "parent_id": "5f1e2a9c0b7d4e3f8a6b1c2d3e4f5a6b", "granularity": 1,
    "adjacency": null, "blob": "AAH+/w==", "tensor": null, "mime_type": null, "text": null,
    "weight": null, "uri": "https://example.com/x.png", "tags": null, "offset": null,
    "location": [1.0, 2.5], "embedding": null, "modality": "image", "evaluations": null,
    "scores": null, "chunks": null, "matches": null}],
  "matches": [{"id": "m0", "parent_id": null, "granularity": null, "adjacency": 1, "blob": null,
    "tensor": [[1.5, 2.0], [3.0, 4.0]], "mime_type": null, "text": null, "weight": 0.5,
    "uri": null, "tags": null, "offset": 2.0, "location": null, "embedding": null,
    "modality": null,
    "evaluations": {"recall": {"value": 0.75, "op_name": null, "description": null, "ref_id": "q"}},
    "scores": {"cosine": {"value": 0.25, "op_name": "cosine", "description": "d", "ref_id": null}},
    "chunks": null, "matches": null}]
}`;

/** A document as jina-ai/client-go sends it: protojson of DocumentProto (camelCase, base64 arrays). */
const GO_CLIENT_DOC = {
  id: 'g1',
  text: 'hi',
  mimeType: 'text/plain',
  parentId: 'p',
  embedding: { dense: { buffer: 'AAAAPwAAgD4=', shape: [2], dtype: '<f4' }, clsName: 'numpy' },
  scores: { cos: { value: 0.5, opName: 'cosine', refId: 'r' } },
  tags: { k: 'v' },
};

function view(d: Document): unknown {
  return {
    id: d.id,
    text: d.text,
    blob: d.blob ? [...d.blob] : undefined,
    tensor: d.tensor ? { shape: d.tensor.shape, v: d.tensor.toArray() } : undefined,
    embedding: d.embedding ? { shape: d.embedding.shape, v: d.embedding.toArray() } : undefined,
    rest: [d.tags, d.uri, d.mimeType, d.granularity, d.adjacency, d.parentId, d.weight, d.modality],
    more: [d.offset, d.location, d.scores, d.evaluations],
    chunks: d.chunks.map(view),
    matches: d.matches.map(view),
  };
}

function isInvalid(message: string) {
  return (e: unknown) => {
    assert.ok(e instanceof FlowgateError);
    assert.equal(e.code, 3);
    assert.equal(e.message, message);
    return true;
  };
}

void describe('JSON codec', () => {
  void test("decodes the original's to_dict() shape and re-encodes it identically", () => {
    const original: unknown = JSON.parse(PYTHON_DOC_JSON);
    const d = documentFromJson(original);
    assert.equal(d.id, '5f1e2a9c0b7d4e3f8a6b1c2d3e4f5a6b');
    assert.equal(d.text, 'hello world');
    assert.deepEqual(d.tags, { lang: 'en', n: 3, nested: { xs: [1, 'two', true, null] } });
    assert.deepEqual(d.embedding?.toArray(), [0.10000000149011612, 0.20000000298023224]);
    assert.equal(d.embedding?.dtype, 'float64');
    const c = d.chunks[0]!;
    assert.deepEqual(c.blob, new Uint8Array([0, 1, 254, 255]));
    assert.deepEqual(
      [c.granularity, c.parentId, c.uri, c.modality, c.location],
      [1, d.id, 'https://example.com/x.png', 'image', [1, 2.5]],
    );
    const m = d.matches[0]!;
    assert.deepEqual(m.tensor?.shape, [2, 2]);
    assert.deepEqual([m.adjacency, m.weight, m.offset], [1, 0.5, 2]);
    assert.deepEqual(m.scores, { cosine: { value: 0.25, opName: 'cosine', description: 'd' } });
    assert.deepEqual(m.evaluations, { recall: { value: 0.75, refId: 'q' } });
    assert.deepEqual(documentToJson(d), original);
    assert.deepEqual(Object.keys(documentToJson(new Document())), Object.keys(original as object));
  });

  void test('every field survives toJson -> JSON text -> fromJson', () => {
    const d = new Document({
      id: 'root',
      text: 'héllo',
      mimeType: 'text/x-test',
      embedding: new Float32Array([0.5, -1.25]),
      tags: { s: 'x', n: 1.5, b: false, z: null, list: [1, 'a', [true]], obj: { deep: { k: 'v' } } },
      uri: 'u',
      granularity: 2,
      adjacency: 3,
      parentId: 'p',
      weight: 0.1,
      modality: 'text',
      offset: 8,
      location: [1, 2.5],
      scores: { cosine: { value: 0.2, opName: 'cos', description: 'why', refId: 'q' }, zero: 0 },
      evaluations: { recall: { value: 0.5, refId: 'gt' } },
      chunks: [{ id: 'c1', blob: new Uint8Array([0, 255, 7]), chunks: [{ id: 'c1.1', text: 'deep' }] }],
      matches: [{ id: 'm1', tensor: NdArray.from([[1, 2, 3]], { dtype: 'int16' }), scores: { s: 1 } }],
    });
    const back = documentFromJson(JSON.parse(JSON.stringify(documentToJson(d))));
    assert.deepEqual(view(back), view(d));
  });

  void test('arrays are written as nested lists, bool as booleans, blob as base64', () => {
    const j = documentToJson(new Document({ tensor: NdArray.from([[true], [false]]), embedding: [1, 2] }));
    assert.deepEqual(j.tensor, [[true], [false]]);
    assert.deepEqual(j.embedding, [1, 2]);
    assert.equal(documentToJson(new Document({ blob: new Uint8Array([0, 1, 254, 255]) })).blob, 'AAH+/w==');
    const half = documentToJson(new Document({ tensor: NdArray.from([0.1], { dtype: 'float16' }) }));
    assert.deepEqual(half.tensor, [0.0999755859375]);
  });

  void test('a score of 0 is written as 0 (the original writes null), other empty fields as null', () => {
    const j = documentToJson(new Document({ scores: { zero: 0 }, granularity: 0, weight: 0, text: '' }));
    assert.deepEqual(j.scores, { zero: { value: 0, op_name: null, description: null, ref_id: null } });
    assert.deepEqual([j.granularity, j.weight, j.text, j.tags, j.chunks], [null, null, null, null, null]);
  });

  void test('accepts camelCase and protobuf-JSON arrays, as Go clients send', () => {
    const d = documentFromJson(GO_CLIENT_DOC);
    assert.deepEqual([d.id, d.text, d.mimeType, d.parentId], ['g1', 'hi', 'text/plain', 'p']);
    assert.equal(d.embedding?.dtype, 'float32');
    assert.deepEqual(d.embedding?.toArray(), [0.5, 0.25]);
    assert.deepEqual(d.scores, { cos: { value: 0.5, opName: 'cosine', refId: 'r' } });
    const sparse = { tensor: { sparse: {}, clsName: 'scipy' } };
    assert.throws(() => documentFromJson(sparse), /document\.tensor: sparse .*scipy/);
  });

  void test('null and missing mean unset; unknown keys are ignored; numbers become string ids', () => {
    const d = documentFromJson({ id: 7, text: null, tags: null, chunks: null, whatever: [1] });
    assert.equal(d.id, '7');
    assert.equal(d.text, undefined);
    assert.deepEqual(d.tags, {});
    assert.match(documentFromJson({}).id, /^[0-9a-f]{32}$/);
  });

  void test('docs: a list, {"docs": [...]}, or nothing', () => {
    assert.deepEqual(docsFromJson([{ text: 'a' }, { text: 'b' }]).texts, ['a', 'b']);
    const wrapped = docsFromJson({ docs: [{ text: 'a' }] });
    assert.ok(wrapped instanceof DocumentArray);
    assert.deepEqual(wrapped.texts, ['a']);
    assert.equal(docsFromJson(null).length, 0);
    assert.equal(docsFromJson(undefined).length, 0);
    const da = new DocumentArray([{ id: 'x' }, { id: 'y' }]);
    assert.deepEqual(
      docsToJson(da).map((o) => o.id),
      ['x', 'y'],
    );
  });

  void test('wrong types fail with InvalidArgument naming the field', () => {
    assert.throws(() => documentFromJson('x'), isInvalid('document must be an object, got string "x"'));
    assert.throws(
      () => docsFromJson('x'),
      isInvalid('data must be a list of documents or {"docs": [...]}, got string "x"'),
    );
    const cases: [unknown, string][] = [
      [{ text: true }, 'data[0].text must be a string, got boolean true'],
      [{ granularity: -1 }, 'data[0].granularity must be a non-negative integer, got number -1'],
      [{ adjacency: 1.5 }, 'data[0].adjacency must be a non-negative integer, got number 1.5'],
      [{ weight: 'heavy' }, 'data[0].weight must be a number, got string "heavy"'],
      [{ embedding: 'x' }, 'data[0].embedding must be a nested list of numbers, got string "x"'],
      [{ tensor: [[1], [1, 2]] }, 'data[0].tensor: ragged nested array: length 2 at depth 1, expected 1'],
      [{ tensor: [['a']] }, 'data[0].tensor: nested array holds a string, expected numbers'],
      [{ blob: 'not base64!' }, 'data[0].blob must be a base64 string'],
      [{ tags: [1] }, 'data[0].tags must be an object, got an array'],
      [{ location: ['a'] }, 'data[0].location[0] must be a number, got string "a"'],
      [{ location: 1 }, 'data[0].location must be a list of numbers, got number 1'],
      [{ scores: { cos: 'x' } }, 'data[0].scores.cos must be an object like {"value": 0.5}, got string "x"'],
      [{ scores: { cos: { value: '1' } } }, 'data[0].scores.cos.value must be a number, got string "1"'],
      [{ evaluations: [] }, 'data[0].evaluations must be an object of named scores, got an array'],
      [{ chunks: {} }, 'data[0].chunks must be a list of documents, got an object'],
      [
        { matches: [{ chunks: [{ uri: {} }] }] },
        'data[0].matches[0].chunks[0].uri must be a string, got an object',
      ],
      [
        { embedding: { dense: { buffer: 'AAAA', shape: [2], dtype: '<f4' } } },
        'data[0].embedding: 3 bytes do not hold shape [2] of float32',
      ],
    ];
    for (const [doc, message] of cases) assert.throws(() => docsFromJson([doc]), isInvalid(message));
    assert.throws(() => docsFromJson({ docs: [{ text: 1n }] }), /data\.docs\[0\]\.text must be a string/);
  });
});

void describe('tensors as base64 with dtype and shape', () => {
  void test('written on request, read back with the same bytes, dtype and shape', () => {
    const tensor = NdArray.from(new Float32Array([1.5, -2, 3.25, 4, 5, 6]), { shape: [2, 3] });
    const doc = new Document({ id: 'a', tensor, embedding: NdArray.from([0.5, 1]) });
    const json = documentToJson(doc, { tensors: 'base64' });
    assert.deepEqual(json.tensor, {
      dense: { buffer: Buffer.from(tensor.toBytes()).toString('base64'), shape: [2, 3], dtype: '<f4' },
      cls_name: 'numpy',
    });
    assert.deepEqual(ndarrayToJsonBase64(NdArray.from([1], { dtype: 'float32' })).dense, {
      buffer: 'AACAPw==',
      shape: [1],
      dtype: '<f4',
    });
    const back = documentFromJson(JSON.parse(JSON.stringify(json)));
    assert.ok(back.tensor?.equals(tensor));
    assert.ok(back.embedding?.equals(doc.embedding!));
    assert.deepEqual(documentToJson(doc).tensor, [
      [1.5, -2, 3.25],
      [4, 5, 6],
    ]);
    assert.equal(usesBase64Tensors([json]), true);
    assert.equal(usesBase64Tensors({ docs: [json] }), true);
    assert.equal(usesBase64Tensors([documentToJson(doc)]), false);
    assert.equal(usesBase64Tensors(null), false);
  });
});
