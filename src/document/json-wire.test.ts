import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, FlowgateError } from '../core/errors.js';
import { docsFromJson } from './json-codec.js';
import { docsJsonToWire } from './json-wire.js';
import { decodeDocs, encodeDocs } from './proto-codec.js';

const F32 = Buffer.from(new Float32Array([1.5, -2, 3.25, 4, 5, 6]).buffer).toString('base64');

/** Documents with ids: the writer must give the very bytes of `encodeDocs(docsFromJson(...))`. */
const SHAPES: [name: string, data: unknown][] = [
  ['none', null],
  ['an empty list', []],
  ['{"docs": [...]}', { docs: [{ id: 'a', text: 'x' }] }],
  ['{"docs": null}', { docs: null }],
  ['{} (no docs key)', {}],
  ['text', [{ id: 'a', text: 'hello' }]],
  ['empty text', [{ id: 'a', text: '' }]],
  ['text with its own mime type', [{ id: 'a', text: 'hi', mime_type: 'text/x' }]],
  ['text with an empty mime type', [{ id: 'a', text: 'hi', mimeType: '' }]],
  ['an empty id', [{ id: '', text: 'x' }]],
  ['a number id (coerced)', [{ id: 7, text: 'x' }]],
  ['unicode', [{ id: 'ü', text: 'żółw 🐢 \u0000 end', uri: 'ß' }]],
  ['blob', [{ id: 'a', blob: 'AAH+/w==' }]],
  ['an empty blob', [{ id: 'a', blob: '' }]],
  ['url-safe base64 blob', [{ id: 'a', blob: 'AAH-_w' }]],
  ['blob and text: text wins', [{ id: 'a', blob: 'AAE=', text: 't' }]],
  ['blob and tensor: tensor wins', [{ id: 'a', blob: 'AAE=', tensor: [1, 2] }]],
  ['tensor and text: text wins', [{ id: 'a', tensor: [1, 2], text: 't' }]],
  [
    'tensor as nested lists',
    [
      {
        id: 'a',
        tensor: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
    ],
  ],
  ['tensor of booleans', [{ id: 'a', tensor: [true, false] }]],
  ['a scalar tensor', [{ id: 'a', tensor: 3 }]],
  ['tensor in base64', [{ id: 'a', tensor: { dense: { buffer: F32, shape: [2, 3], dtype: '<f4' } } }]],
  [
    'base64 tensor with cls_name',
    [{ id: 'a', tensor: { dense: { buffer: F32, shape: [6], dtype: '<f4' }, cls_name: 'numpy' } }],
  ],
  ['an empty dense tensor (no array): blob kept', [{ id: 'a', blob: 'AAE=', tensor: { dense: {} } }]],
  ['embedding as a list', [{ id: 'a', text: 'x', embedding: [0.1, 0.2] }]],
  ['embedding in base64', [{ id: 'a', embedding: { dense: { buffer: F32, shape: [6], dtype: '<f4' } } }]],
  [
    'every scalar field',
    [
      {
        id: 'a',
        parent_id: 'p',
        granularity: 2,
        adjacency: 3,
        weight: 0.5,
        uri: 'https://x/y.png',
        modality: 'image',
        mime_type: 'image/png',
        offset: 4,
        location: [1, 2.5, null],
      },
    ],
  ],
  ['camelCase keys', [{ id: 'a', parentId: 'p', mimeType: 'm', granularity: 1 }]],
  ['zeros and nulls left out', [{ id: 'a', granularity: 0, weight: 0, offset: 0, uri: '', location: [] }]],
  [
    'all keys null',
    [{ id: 'a', text: null, blob: null, tensor: null, tags: null, chunks: null, scores: null }],
  ],
  [
    'tags',
    [
      {
        id: 'a',
        tags: { lang: 'en', n: 3, f: 1.5, ok: true, no: null, xs: [1, 'two', [3], { k: 'v' }], o: { p: {} } },
      },
    ],
  ],
  ['empty tags', [{ id: 'a', tags: {} }]],
  [
    'scores and evaluations',
    [
      {
        id: 'a',
        scores: {
          cos: { value: 0.9, op_name: 'cosine', description: 'd', ref_id: 'r' },
          l2: 3,
          zero: { value: 0 },
        },
        evaluations: { p: { value: 1, opName: 'o', refId: 'r2' } },
      },
    ],
  ],
  ['empty scores', [{ id: 'a', scores: {} }]],
  [
    'chunks and matches, nested',
    [
      {
        id: 'root',
        text: 'r',
        chunks: [
          { id: 'c0', text: 'c', granularity: 1, chunks: [{ id: 'cc', tensor: [1] }] },
          { id: 'c1', blob: 'AAE=', matches: [{ id: 'cm', scores: { s: 1 } }] },
        ],
        matches: [{ id: 'm0', adjacency: 1, embedding: [1, 2], tags: { k: 1 } }],
      },
    ],
  ],
  ['empty chunks', [{ id: 'a', chunks: [], matches: [] }]],
  [
    'long unicode text (2-byte lengths)',
    [{ id: 'a', text: 'żółw 🐢 '.repeat(40), tags: { k: 'ü'.repeat(100) } }],
  ],
  ['a 40 KB text (3-byte lengths)', [{ id: 'a', text: 'x'.repeat(40_000), uri: 'é'.repeat(70_000) }]],
  ['42 and 43 chars', [{ id: 'a'.repeat(42), text: 'b'.repeat(43), uri: 'ß'.repeat(43) }]],
  [
    'deep tags',
    [{ id: 'a', tags: { a: { b: { c: [[[{ d: [1, { e: null }] }]]] } }, big: 1e300, neg: -0.5 } }],
  ],
  ['unknown keys ignored', [{ id: 'a', text: 'x', foo: 1, _metadata: { k: 1 } }]],
  ['many documents', Array.from({ length: 100 }, (_, i) => ({ id: `d${i}`, text: `doc ${i}`, tags: { i } }))],
];

/** Shapes without ids: the same documents but for the generated ids. */
const NO_IDS: unknown[] = [
  [{ text: 'a' }, { text: 'b' }],
  [{ text: 'x', chunks: [{ text: 'c' }], matches: [{ tensor: [1] }] }],
  { docs: [{ blob: 'AAE=' }] },
  [{ id: null, text: 'x' }],
];

function isInvalid(message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof FlowgateError);
    assert.equal(err.code, Code.InvalidArgument);
    assert.equal(err.message, message);
    return true;
  };
}

void describe('docsJsonToWire: JSON documents straight to DocumentArrayProto bytes', () => {
  for (const [name, data] of SHAPES) {
    void test(`the bytes of encodeDocs(docsFromJson(...)): ${name}`, () => {
      const expected = encodeDocs(docsFromJson(data));
      const got = docsJsonToWire(data);
      assert.deepEqual(Buffer.from(got), Buffer.from(expected));
    });
  }

  void test('documents without ids get new 32-hex ids, everything else as the old path', () => {
    for (const data of NO_IDS) {
      const got = decodeDocs(docsJsonToWire(data));
      const want = decodeDocs(encodeDocs(docsFromJson(data)));
      const ids = (docs: typeof got): string[] =>
        docs.flatMap((d) => [d.id, ...ids(d.chunks), ...ids(d.matches)]);
      for (const id of ids(got)) assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(new Set(ids(got)).size, ids(got).length);
      const strip = (docs: typeof got): unknown =>
        docs.map((d) => ({
          ...d,
          id: '',
          text: d.text,
          blob: d.blob,
          tensor: d.tensor?.toArray(),
          chunks: strip(d.chunks),
          matches: strip(d.matches),
        }));
      assert.deepEqual(strip(got), strip(want));
    }
  });

  void test('wrong shapes fail with the very error docsFromJson gives, first error first', () => {
    const cases: unknown[] = [
      'x',
      1,
      { docs: 'x' },
      { docs: [1] },
      [null],
      [[]],
      [{ text: true }],
      [{ id: {} }],
      [{ granularity: -1 }],
      [{ adjacency: 1.5 }],
      [{ weight: 'heavy' }],
      [{ embedding: 'x' }],
      [{ tensor: [[1], [1, 2]] }],
      [{ tensor: [['a']] }],
      [{ tensor: { sparse: {} } }],
      [{ tensor: { dense: { buffer: 'AAAA', shape: [2], dtype: '<f4' } } }],
      [{ tensor: { dense: { buffer: {} } } }],
      [{ tensor: { dense: { shape: 'x' } } }],
      [{ tensor: { dense: { shape: [-1] } } }],
      [{ tensor: { dense: { buffer: F32, shape: [6], dtype: '<c8' } } }],
      [{ blob: 'not base64!' }],
      [{ blob: true }],
      [{ tags: [1] }],
      [{ tags: 'x' }],
      [{ location: ['a'] }],
      [{ location: 1 }],
      [{ scores: { cos: 'x' } }],
      [{ scores: { cos: { value: '1' } } }],
      [{ scores: { cos: { value: 1, op_name: [] } } }],
      [{ evaluations: [] }],
      [{ chunks: {} }],
      [{ matches: [{ chunks: [{ uri: {} }] }] }],
      // several errors: the first one docsFromJson meets is the one reported
      [{ text: 1, tags: [] }],
      [{ text: 1, blob: '!' }],
      [{ embedding: 'x', chunks: [{ id: {} }] }],
      [{ id: 1.5, parent_id: {}, weight: 'w' }],
      [{ tensor: 'x', text: 1, blob: '!!' }],
      [{ embedding: 'e', blob: '!!' }],
      [{ text: 'fine' }, { text: false }],
      [{ location: [1, 'b'], modality: 3 }],
    ];
    for (const data of cases) {
      let expected: unknown;
      try {
        docsFromJson(data);
      } catch (err) {
        expected = err;
      }
      assert.ok(expected instanceof FlowgateError, `docsFromJson accepts ${JSON.stringify(data)}`);
      assert.throws(() => docsJsonToWire(data), isInvalid(expected.message), JSON.stringify(data));
    }
  });

  void test('a chunk tree deeper than protobuf allows fails as encodeDocs does', () => {
    let doc: Record<string, unknown> = { id: 'leaf' };
    for (let i = 0; i < 120; i++) doc = { id: `d${i}`, chunks: [doc] };
    assert.throws(() => encodeDocs(docsFromJson([doc])), /max depth exceeded/);
    assert.throws(() => docsJsonToWire([doc]), /max depth exceeded/);
  });
});
