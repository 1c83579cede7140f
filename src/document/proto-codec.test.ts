import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowgateError } from '../core/errors.js';
import { docarray } from '../proto/wire.js';
import { Document, nestedDocs } from './document.js';
import { DocumentArray } from './document-array.js';
import { NdArray, type DType } from './ndarray.js';
import {
  decodeDocs,
  docsFromProto,
  documentFromProto,
  documentToProto,
  encodeDocs,
  ndarrayFromProto,
  ndarrayToProto,
} from './proto-codec.js';

/**
 * A DocumentArrayProto serialized by Python protobuf 4.21 with numpy 2.4, each field set as
 * docarray v1's flush_proto / _set_dense_array sets it (buffer = x.tobytes(), dtype = x.dtype.str,
 * cls_name = 'numpy'). Docs: [0] id 'a'*32, text 'hello world', mime_type 'text/plain', tags
 * {lang: 'en', n: 3, nested: {xs: [1, 'two', True, None], f: 0.5}}, scores.cosine {0.25, 'cosine'},
 * evaluations.precision {0.75, ref_id 'g'*32}, location [1, 2.5], weight 0.5, uri, modality 'text',
 * offset 4, embedding float32 [0.1, 0.2, 0.3]; chunk 'c'*32 (parent_id 'a'*32, granularity 1,
 * tensor float32 arange(6).reshape(2, 3)); match 'm'*32 (adjacency 1, blob 00 01 fe ff,
 * scores.euclidean 1.5, embedding int64 [[1, -2], [3, 4]]). Then one doc per dtype, id = dtype name,
 * tensor of shape (2, 3): floats [[1.5, -2.25, 0.1], [65504, 1e-3, -0.0]], ints
 * [[0, -1, 2], [min, max, 100]], uints [[0, 1, 2], [max, 7, 200]], bool [[T, F, T], [F, F, T]].
 */
const PYTHON_GOLDEN = [
  'CrQECiBhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYSILaGVsbG8gd29ybGRFAAAAP0oZaHR0cHM6Ly9leGFtcGxl',
  'LmNvbS9hLnR4dFIEdGV4dFoKdGV4dC9wbGFpbmUAAIBAaggAAIA/AAAgQHJ0CiBjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj',
  'Y2NjY2NjYxosCiMKGAAAAAAAAIA/AAAAQAAAQEAAAIBAAACgQBICAgMaAzxmNBoFbnVtcHkoATogYWFhYWFhYWFhYWFhYWFh',
  'YWFhYWFhYWFhYWFhYWFhYWF6dgogbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW0SBAAB/v8wAYIBNAorCiABAAAA',
  'AAAAAP7/////////AwAAAAAAAAAEAAAAAAAAABICAgIaAzxpOBoFbnVtcHmSARIKCWV1Y2xpZGVhbhIFDQAAwD+CAR8KFgoM',
  'zczMPc3MTD6amZk+EgEDGgM8ZjQaBW51bXB5igFgCkAKBm5lc3RlZBI2KjQKIgoCeHMSHDIaCgkRAAAAAAAA8D8KBRoDdHdv',
  'CgIgAQoCCAAKDgoBZhIJEQAAAAAAAOA/CgwKBGxhbmcSBBoCZW4KDgoBbhIJEQAAAAAAAAhAkgEXCgZjb3NpbmUSDQ0AAIA+',
  'EgZjb3NpbmWaATQKCXByZWNpc2lvbhInDQAAQD8iIGdnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnCisKB2Zsb2F0',
  'MTYaIAoXCgwAPoDAZi7/exkUAIASAgIDGgM8ZjIaBW51bXB5CjcKB2Zsb2F0MzIaLAojChgAAMA/AAAQwM3MzD0A4H9HbxKD',
  'OgAAAIASAgIDGgM8ZjQaBW51bXB5Ck8KB2Zsb2F0NjQaRAo7CjAAAAAAAAD4PwAAAAAAAALAmpmZmZmZuT8AAAAAAPzvQPyp',
  '8dJNYlA/AAAAAAAAAIASAgIDGgM8ZjgaBW51bXB5CiIKBGludDgaGgoRCgYA/wKAf2QSAgIDGgN8aTEaBW51bXB5CikKBWlu',
  'dDE2GiAKFwoMAAD//wIAAID/f2QAEgICAxoDPGkyGgVudW1weQo1CgVpbnQzMhosCiMKGAAAAAD/////AgAAAAAAAID///9/',
  'ZAAAABICAgMaAzxpNBoFbnVtcHkKTQoFaW50NjQaRAo7CjAAAAAAAAAAAP//////////AgAAAAAAAAAAAAAAAAAAgP//////',
  '//9/ZAAAAAAAAAASAgIDGgM8aTgaBW51bXB5CiMKBXVpbnQ4GhoKEQoGAAEC/wfIEgICAxoDfHUxGgVudW1weQoqCgZ1aW50',
  'MTYaIAoXCgwAAAEAAgD//wcAyAASAgIDGgM8dTIaBW51bXB5CjYKBnVpbnQzMhosCiMKGAAAAAABAAAAAgAAAP////8HAAAA',
  'yAAAABICAgMaAzx1NBoFbnVtcHkKTgoGdWludDY0GkQKOwowAAAAAAAAAAABAAAAAAAAAAIAAAAAAAAA//////////8HAAAA',
  'AAAAAMgAAAAAAAAAEgICAxoDPHU4GgVudW1weQoiCgRib29sGhoKEQoGAQABAAABEgICAxoDfGIxGgVudW1weQ==',
].join('');

function view(d: Document): unknown {
  return {
    id: d.id,
    text: d.text,
    blob: d.blob ? [...d.blob] : undefined,
    tensor: d.tensor ? { dtype: d.tensor.dtype, shape: d.tensor.shape, v: d.tensor.toArray() } : undefined,
    embedding: d.embedding
      ? { dtype: d.embedding.dtype, shape: d.embedding.shape, v: d.embedding.toArray() }
      : undefined,
    tags: d.tags,
    uri: d.uri,
    mimeType: d.mimeType,
    granularity: d.granularity,
    adjacency: d.adjacency,
    parentId: d.parentId,
    weight: d.weight,
    modality: d.modality,
    offset: d.offset,
    location: d.location,
    scores: d.scores,
    evaluations: d.evaluations,
    chunks: d.chunks.map(view),
    matches: d.matches.map(view),
  };
}

function full(): Document {
  return new Document({
    id: 'root',
    text: 'hello',
    mimeType: 'text/x-test',
    embedding: new Float32Array([0.5, -1.25]),
    tags: { s: 'x', n: 1.5, b: false, z: null, list: [1, 'a', [true]], obj: { deep: { k: 'v' } } },
    uri: 'file:///tmp/a.txt',
    granularity: 2,
    adjacency: 3,
    parentId: 'parent',
    weight: 0.75,
    modality: 'text',
    offset: 8,
    location: [1, 2.5, -3],
    scores: { cosine: { value: 0.25, opName: 'cos', description: 'why', refId: 'q' }, l2: 2 },
    evaluations: { recall: { value: 0.5, refId: 'gt' } },
    chunks: [
      { id: 'c1', blob: new Uint8Array([0, 255, 7]), chunks: [{ id: 'c1.1', text: 'deep' }] },
      { id: 'c2', tensor: NdArray.from([[1, 2, 3]], { dtype: 'int16' }) },
    ],
    matches: [{ id: 'm1', text: 'match', scores: { cosine: 0.125 }, adjacency: 1 }],
  });
}

void describe('proto codec', () => {
  void test('every field survives encode -> decode', () => {
    const d = full();
    const back = decodeDocs(encodeDocs([d]));
    assert.equal(back.length, 1);
    assert.deepEqual(view(back[0]!), view(d));
  });

  void test('Python-serialized bytes decode to the values Python wrote', () => {
    const da = decodeDocs(Buffer.from(PYTHON_GOLDEN, 'base64'));
    const d = da[0]!;
    assert.equal(d.id, 'a'.repeat(32));
    assert.equal(d.text, 'hello world');
    assert.equal(d.mimeType, 'text/plain');
    assert.deepEqual(d.tags, { lang: 'en', n: 3, nested: { xs: [1, 'two', true, null], f: 0.5 } });
    assert.deepEqual(d.scores, { cosine: { value: 0.25, opName: 'cosine' } });
    assert.deepEqual(d.evaluations, { precision: { value: 0.75, refId: 'g'.repeat(32) } });
    assert.deepEqual(d.location, [1, 2.5]);
    assert.equal(d.weight, 0.5);
    assert.equal(d.offset, 4);
    assert.equal(d.uri, 'https://example.com/a.txt');
    assert.equal(d.modality, 'text');
    assert.equal(d.embedding?.dtype, 'float32');
    assert.deepEqual(d.embedding?.toArray(), [0.10000000149011612, 0.20000000298023224, 0.30000001192092896]);
    const c = d.chunks[0]!;
    assert.deepEqual([c.id, c.parentId, c.granularity], ['c'.repeat(32), 'a'.repeat(32), 1]);
    assert.deepEqual(c.tensor?.toArray(), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const m = d.matches[0]!;
    assert.deepEqual([m.id, m.adjacency, m.scores], ['m'.repeat(32), 1, { euclidean: { value: 1.5 } }]);
    assert.deepEqual(m.blob, new Uint8Array([0, 1, 254, 255]));
    assert.equal(m.embedding?.dtype, 'int64');
    assert.deepEqual([...m.embedding.data], [1n, -2n, 3n, 4n]);
    assert.deepEqual(m.embedding?.shape, [2, 2]);
  });

  void test('Python-serialized tensors of every dtype decode exactly', () => {
    const da = decodeDocs(Buffer.from(PYTHON_GOLDEN, 'base64'));
    const byId = (id: string) => da.getById(id)!.tensor!;
    assert.deepEqual(byId('float16').toArray(), [
      [1.5, -2.25, 0.0999755859375],
      [65504, 1049 / 2 ** 20, -0],
    ]);
    assert.deepEqual(byId('float32').toArray(), [
      [1.5, -2.25, 0.10000000149011612],
      [65504, 0.0010000000474974513, -0],
    ]);
    assert.deepEqual(byId('float64').toArray(), [
      [1.5, -2.25, 0.1],
      [65504, 0.001, -0],
    ]);
    for (const bits of [8, 16, 32]) {
      const min = -(2 ** (bits - 1));
      assert.deepEqual(byId(`int${bits}`).toArray(), [
        [0, -1, 2],
        [min, -min - 1, 100],
      ]);
      assert.deepEqual(byId(`uint${bits}`).toArray(), [
        [0, 1, 2],
        [2 ** bits - 1, 7, 200],
      ]);
    }
    assert.deepEqual(
      [...(byId('int64').data as BigInt64Array)],
      [0n, -1n, 2n, -(2n ** 63n), 2n ** 63n - 1n, 100n],
    );
    assert.deepEqual([...(byId('uint64').data as BigUint64Array)], [0n, 1n, 2n, 2n ** 64n - 1n, 7n, 200n]);
    assert.deepEqual(byId('bool').toArray(), [
      [true, false, true],
      [false, false, true],
    ]);
    for (const d of da.slice(3)) {
      assert.equal(d.tensor!.dtype, d.id);
      assert.deepEqual(d.tensor!.shape, [2, 3]);
    }
  });

  void test('re-encoding the Python bytes reproduces them byte for byte', () => {
    const golden = Buffer.from(PYTHON_GOLDEN, 'base64');
    const again = encodeDocs(decodeDocs(golden));
    assert.equal(Buffer.compare(Buffer.from(again), golden), 0);
  });

  void test('tensors of every dtype round-trip with numpy dtype strings', () => {
    const dtypes: DType[] = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64'];
    dtypes.push('uint8', 'uint16', 'uint32', 'uint64', 'bool');
    const values = [
      [1, 0, 3],
      [4, 5, 0],
    ];
    const da = new DocumentArray(
      dtypes.map((dt) => ({ id: dt, tensor: NdArray.from(values, { dtype: dt }) })),
    );
    const msg = docarray.DocumentArrayProto.decode(encodeDocs(da));
    const strs = msg.docs.map((p) => p.tensor?.dense?.dtype);
    assert.deepEqual(strs, [
      '<f2',
      '<f4',
      '<f8',
      '|i1',
      '<i2',
      '<i4',
      '<i8',
      '|u1',
      '<u2',
      '<u4',
      '<u8',
      '|b1',
    ]);
    assert.ok(msg.docs.every((p) => p.tensor?.clsName === 'numpy'));
    const back = docsFromProto(msg);
    for (const d of back) {
      assert.equal(d.tensor?.dtype, d.id);
      assert.deepEqual(d.tensor?.shape, [2, 3]);
      const expected = d.id === 'bool' ? values.map((r) => r.map(Boolean)) : values;
      assert.deepEqual(d.tensor?.toArray(), expected);
    }
  });

  void test('defaults are left out of the message, as the original writes it', () => {
    const p = documentToProto(new Document({ id: 'x', text: 'hi' }));
    assert.deepEqual(p, { id: 'x', text: 'hi', mimeType: 'text/plain' });
    const bytes = encodeDocs([new Document({ id: 'x' })]);
    // DocumentArrayProto{docs: [DocumentProto{id: 'x'}]}: 0a 03 | 0a 01 78
    assert.equal(Buffer.from(bytes).toString('hex'), '0a030a0178');
  });

  void test('plain objects decode like decoded messages', () => {
    const d = documentFromProto({ id: 'p', text: 'hi', tags: { fields: { k: { numberValue: 2 } } } });
    assert.deepEqual([d.id, d.text, d.tags], ['p', 'hi', { k: 2 }]);
    assert.match(documentFromProto({ id: '' }).id, /^[0-9a-f]{32}$/);
  });

  void test('empty arrays: no buffer and no shape is no array; zero-size shapes keep their dtype', () => {
    assert.equal(ndarrayFromProto({ dense: { dtype: '<f4' }, clsName: 'numpy' }), undefined);
    const z = ndarrayFromProto({ dense: { shape: [0, 4], dtype: '<f4' } })!;
    assert.deepEqual([z.dtype, z.shape, z.size], ['float32', [0, 4], 0]);
    assert.equal(ndarrayFromProto({ clsName: 'numpy' }), undefined);
    assert.deepEqual(ndarrayFromProto({ dense: { shape: [0] } })?.dtype, 'float64');
    assert.throws(() => ndarrayFromProto({ dense: { shape: [3], dtype: '<f4' } }), /tensor: 0 bytes/);
    const back = decodeDocs(encodeDocs([new Document({ embedding: NdArray.zeros([0], 'int8') })]));
    assert.deepEqual([back[0]!.embedding?.dtype, back[0]!.embedding?.shape], ['int8', [0]]);
  });

  void test('sparse arrays, unknown dtypes and bad lengths fail with InvalidArgument', () => {
    const isInvalid = (re: RegExp) => (e: unknown) =>
      e instanceof FlowgateError && e.code === 3 && re.test(e.message);
    const sparse = { sparse: { shape: [2, 2] }, clsName: 'scipy' };
    assert.throws(() => ndarrayFromProto(sparse, 'embedding'), isInvalid(/embedding: sparse .*scipy/));
    const complex = { dense: { buffer: new Uint8Array(8), shape: [1], dtype: '<c8' } };
    assert.throws(() => ndarrayFromProto(complex), isInvalid(/tensor: unsupported dtype '<c8'/));
    const short = { dense: { buffer: new Uint8Array(6), shape: [2], dtype: '<f4' } };
    assert.throws(() => ndarrayFromProto(short), isInvalid(/tensor: 6 bytes/));
    const bytes = docarray.DocumentArrayProto.encode({ docs: [{ id: 'x', embedding: sparse }] }).finish();
    assert.throws(() => decodeDocs(bytes), isInvalid(/embedding: sparse/));
    assert.throws(() => decodeDocs(new Uint8Array([0x0a, 0x05, 0x0a])), isInvalid(/malformed/));
  });

  void test('a 1 MB float32 tensor is carried as raw bytes', () => {
    const data = new Float32Array(262144).map((_, i) => i * 0.5);
    const a = new NdArray(data, [512, 512]);
    const p = ndarrayToProto(a);
    assert.equal(p.dense?.buffer?.buffer, data.buffer); // a view, not a copy
    const bytes = encodeDocs([new Document({ tensor: a })]);
    const back = decodeDocs(bytes)[0]!.tensor!;
    assert.ok(bytes.byteLength > 1048576 && bytes.byteLength < 1048576 + 100);
    assert.ok(back.data instanceof Float32Array);
    assert.ok(back.equals(a));
  });
});

void test('encoding reads chunks and matches without creating them, and still writes those that exist', () => {
  const plain = new Document({ id: 'p', text: 'x' });
  const nested = new Document({ id: 'n', chunks: [{ id: 'c', text: 'chunk' }] });
  nested.matches.push({ id: 'm', text: 'match' });
  const back = decodeDocs(encodeDocs([plain, nested]));
  assert.deepEqual(nestedDocs(plain), [undefined, undefined]);
  assert.deepEqual(back[1]?.chunks.ids, ['c']);
  assert.deepEqual(back[1]?.matches.texts, ['match']);
  assert.equal(back[0]?.chunks.length, 0);
});
