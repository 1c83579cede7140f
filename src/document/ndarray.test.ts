import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowgateError } from '../core/errors.js';
import { floatToHalf, halfToFloat, numpyDTypeStr, parseDType, type DType } from './dtype.js';
import { NdArray } from './ndarray.js';

const ALL: DType[] = [
  'float16',
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
];

void describe('dtype', () => {
  void test('numpy dtype.str of every dtype, as numpy 2.x prints it', () => {
    const expected = ['<f2', '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1'];
    assert.deepEqual(ALL.map(numpyDTypeStr), expected);
    for (const dt of ALL) assert.deepEqual(parseDType(numpyDTypeStr(dt)), { dtype: dt, bigEndian: false });
  });

  void test('names, codes and byte orders are parsed', () => {
    assert.deepEqual(parseDType('float32'), { dtype: 'float32', bigEndian: false });
    assert.deepEqual(parseDType('>i8'), { dtype: 'int64', bigEndian: true });
    assert.equal(parseDType('d').dtype, 'float64');
    assert.equal(parseDType('?').dtype, 'bool');
    assert.equal(parseDType('=u2').dtype, 'uint16');
  });

  void test('non-numeric dtypes are rejected', () => {
    for (const s of ['<c8', '<U5', '|O', 'object', '', 'float128']) {
      assert.throws(
        () => parseDType(s),
        (e: unknown) => e instanceof FlowgateError && e.code === 3,
        s,
      );
    }
  });

  void test('float16 conversion matches numpy bit for bit', () => {
    // np.array(xs).astype(np.float16).view(np.uint16).tolist() with numpy 2.4
    const xs = [1.5, -2, 65504, 1e-7, 0.1, 3.14159, 65520, 1e-8, 6e-5, -0, 2049, 2051, 1e6, NaN, -Infinity];
    const bits = [
      15872, 49152, 31743, 2, 11878, 16968, 31744, 0, 1007, 32768, 26624, 26626, 31744, 32256, 64512,
    ];
    assert.deepEqual(xs.map(floatToHalf), bits);
    assert.equal(halfToFloat(11878), 0.0999755859375);
    assert.equal(halfToFloat(2), 1.1920928955078125e-7);
    assert.ok(Object.is(halfToFloat(32768), -0));
  });
});

void describe('NdArray', () => {
  void test('from nested numbers: float64 by default, shape inferred', () => {
    const a = NdArray.from([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(a.dtype, 'float64');
    assert.deepEqual(a.shape, [2, 3]);
    assert.equal(a.size, 6);
    assert.ok(a.data instanceof Float64Array);
    assert.deepEqual(a.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  void test('from nested booleans gives bool; scalars give 0-d arrays', () => {
    const b = NdArray.from([true, false]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toArray(), [true, false]);
    const s = NdArray.from(7, { dtype: 'int32' });
    assert.deepEqual(s.shape, []);
    assert.equal(s.toArray(), 7);
  });

  void test('empty lists keep their shape', () => {
    assert.deepEqual(NdArray.from([]).shape, [0]);
    assert.deepEqual(NdArray.from([[], []]).shape, [2, 0]);
  });

  void test('every dtype converts values like numpy astype', () => {
    for (const dt of ALL) {
      const a = NdArray.from([[1.75, -2.5, 3]], { dtype: dt });
      assert.equal(a.dtype, dt);
      assert.deepEqual(a.shape, [1, 3]);
      const v = a.toArray() as unknown[][];
      if (dt === 'bool') assert.deepEqual(v, [[true, true, true]]);
      else if (dt.startsWith('float')) assert.deepEqual(v, [[1.75, -2.5, 3]]);
      else if (dt.startsWith('uint')) assert.equal(v[0]![0], 1);
      else assert.deepEqual(v, [[1, -2, 3]]);
    }
  });

  void test('a typed array of the requested kind is wrapped, not copied', () => {
    const f = new Float32Array([1, 2, 3, 4]);
    const a = NdArray.from(f, { shape: [2, 2] });
    assert.equal(a.data, f);
    assert.deepEqual(a.toArray(), [
      [1, 2],
      [3, 4],
    ]);
    const b = NdArray.from(f, { dtype: 'float64' });
    assert.notEqual(b.data.buffer, f.buffer);
    assert.equal(b.dtype, 'float64');
  });

  void test('ragged or non-numeric input is rejected', () => {
    assert.throws(() => NdArray.from([[1], [1, 2]]), /ragged/);
    assert.throws(() => NdArray.from([1, [2]]), /ragged/);
    assert.throws(() => NdArray.from([[1], 2]), /ragged/);
    assert.throws(() => NdArray.from(['a'] as unknown as number[]), /string/);
    assert.throws(() => NdArray.from([null] as unknown as number[]), /null/);
  });

  void test('constructor checks the shape and the typed array kind', () => {
    assert.throws(() => new NdArray(new Float32Array(6), [4, 2]), /does not match/);
    assert.throws(() => new NdArray(new Float32Array(2), [2], 'float64'), /Float64Array/);
    assert.equal(new NdArray(new Uint16Array(1), [1], 'float16').dtype, 'float16');
  });

  void test('toBytes is a little-endian view without copy', () => {
    const a = NdArray.from([1, 2], { dtype: 'float32' });
    const bytes = a.toBytes();
    assert.equal(bytes.buffer, a.data.buffer);
    // np.array([1, 2], dtype='<f4').tobytes().hex()
    assert.equal(Buffer.from(bytes).toString('hex'), '0000803f00000040');
  });

  void test('fromBytes views aligned bytes and copies unaligned ones', () => {
    const raw = Buffer.from('0000803f000000400000404000008040', 'hex');
    const aligned = new Uint8Array(16);
    aligned.set(raw);
    const a = NdArray.fromBytes(aligned, [2, 2], '<f4');
    assert.equal(a.data.buffer, aligned.buffer);
    assert.deepEqual(a.toArray(), [
      [1, 2],
      [3, 4],
    ]);
    const big = new Uint8Array(17);
    big.set(raw, 1);
    const unaligned = big.subarray(1);
    const b = NdArray.fromBytes(unaligned, [4], 'float32');
    assert.notEqual(b.data.buffer, big.buffer);
    assert.deepEqual(b.toArray(), [1, 2, 3, 4]);
  });

  void test('fromBytes swaps big-endian data and checks the length', () => {
    const be = Buffer.from('3f80000040000000', 'hex'); // np.array([1, 2], dtype='>f4').tobytes()
    assert.deepEqual(NdArray.fromBytes(be, [2], '>f4').toArray(), [1, 2]);
    assert.throws(() => NdArray.fromBytes(new Uint8Array(7), [2], '<f4'), /7 bytes/);
  });

  void test('int64 keeps exact values in its BigInt64Array', () => {
    const a = NdArray.from([[-(2n ** 63n), 2n ** 63n - 1n]], { dtype: 'int64' });
    assert.deepEqual([...(a.data as BigInt64Array)], [-(2n ** 63n), 2n ** 63n - 1n]);
    const back = NdArray.fromBytes(a.toBytes(), a.shape, '<i8');
    assert.ok(back.equals(a));
  });

  void test('stack, zeros, reshape, clone, equals', () => {
    const s = NdArray.stack([
      NdArray.from([1, 2], { dtype: 'int32' }),
      NdArray.from([3, 4], { dtype: 'int32' }),
    ]);
    assert.equal(s.dtype, 'int32');
    assert.deepEqual(s.toArray(), [
      [1, 2],
      [3, 4],
    ]);
    const mixed = NdArray.stack([
      NdArray.from([1], { dtype: 'int8' }),
      NdArray.from([0.5], { dtype: 'float32' }),
    ]);
    assert.equal(mixed.dtype, 'float64');
    assert.deepEqual(mixed.toArray(), [[1], [0.5]]);
    assert.throws(() => NdArray.stack([NdArray.from([1]), NdArray.from([1, 2])]), /cannot stack/);
    assert.deepEqual(NdArray.zeros([2], 'bool').toArray(), [false, false]);
    assert.deepEqual(s.reshape([4]).toArray(), [1, 2, 3, 4]);
    const c = s.clone();
    assert.ok(c.equals(s));
    (c.data as Int32Array)[0] = 9;
    assert.ok(!c.equals(s));
    assert.ok(!NdArray.from([1], { dtype: 'float32' }).equals(NdArray.from([1], { dtype: 'float64' })));
  });
});

void describe('NdArray from nested lists of numbers (the fast path) and back', () => {
  void test('shapes, dtypes and values survive; ragged or mixed input still fails precisely', () => {
    const a = NdArray.from([
      [1.5, 2],
      [3, 4],
      [5, 6],
    ]);
    assert.deepEqual(a.shape, [3, 2]);
    assert.equal(a.dtype, 'float64');
    assert.deepEqual(a.toArray(), [
      [1.5, 2],
      [3, 4],
      [5, 6],
    ]);
    const f = NdArray.from([[0.1, 0.2]], { dtype: 'float32' });
    assert.ok(f.data instanceof Float32Array);
    assert.deepEqual(f.toArray(), [[Math.fround(0.1), Math.fround(0.2)]]);
    assert.deepEqual(NdArray.from([1, 2, 3, 4], { shape: [2, 2] }).toArray(), [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(NdArray.from([true, false]).dtype, 'bool');
    assert.deepEqual(NdArray.from([[], []]).shape, [2, 0]);
    assert.throws(() => NdArray.from([[1, 2], [3]]), /ragged nested array/);
    assert.throws(() => NdArray.from([1, 'x' as unknown as number]), /holds a string/);
    assert.throws(() => NdArray.from([[1], 2]), /ragged/);
  });
});
