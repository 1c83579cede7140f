/**
 * Element types of {@link NdArray}: numpy's names, the typed array behind each, the numpy
 * `dtype.str` the wire carries (e.g. `'<f4'`), and float16 bit conversions.
 *
 * @example
 * ```ts
 * parseDType('<f4'); // { dtype: 'float32', bigEndian: false }
 * numpyDTypeStr('uint8'); // '|u1'
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';

/** An element type, named as numpy names it. */
export type DType =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

/** The typed arrays that back an {@link NdArray}. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A constructor of one of the {@link TypedArray} kinds. */
export interface TypedArrayConstructor {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
}

interface DTypeInfo {
  readonly ctor: TypedArrayConstructor;
  /** numpy's `dtype.str` on a little-endian host, as the Python original writes it. */
  readonly str: string;
}

const INFO: Record<DType, DTypeInfo> = {
  float16: { ctor: Uint16Array, str: '<f2' },
  float32: { ctor: Float32Array, str: '<f4' },
  float64: { ctor: Float64Array, str: '<f8' },
  int8: { ctor: Int8Array, str: '|i1' },
  int16: { ctor: Int16Array, str: '<i2' },
  int32: { ctor: Int32Array, str: '<i4' },
  int64: { ctor: BigInt64Array, str: '<i8' },
  uint8: { ctor: Uint8Array, str: '|u1' },
  uint16: { ctor: Uint16Array, str: '<u2' },
  uint32: { ctor: Uint32Array, str: '<u4' },
  uint64: { ctor: BigUint64Array, str: '<u8' },
  bool: { ctor: Uint8Array, str: '|b1' },
};

/** numpy type codes (the part of `dtype.str` after the byte order) and aliases. */
const CODES: Record<string, DType> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'bool',
  '?': 'bool',
  e: 'float16',
  f: 'float32',
  d: 'float64',
  b: 'int8',
  h: 'int16',
  i: 'int32',
  l: 'int64',
  q: 'int64',
  B: 'uint8',
  H: 'uint16',
  I: 'uint32',
  L: 'uint64',
  Q: 'uint64',
  half: 'float16',
  single: 'float32',
  double: 'float64',
  float: 'float64',
  int: 'int64',
  bool_: 'bool',
};

/** Whether the host stores numbers little-endian (every platform Node supports in practice). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Whether a string is one of the {@link DType} names.
 *
 * @example
 * ```ts
 * isDType('float32'); // true
 * isDType('<f4'); // false: use parseDType for numpy strings
 * ```
 */
export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(INFO, s);
}

/**
 * Parses a dtype as the wire carries it: a numpy `dtype.str` (`'<f4'`, `'|u1'`, `'>i8'`), a name
 * (`'float32'`) or a type code (`'f4'`, `'d'`). Throws `InvalidArgument` for anything else
 * (complex, strings, objects, ...).
 *
 * @example
 * ```ts
 * parseDType('>i8'); // { dtype: 'int64', bigEndian: true }
 * ```
 */
export function parseDType(s: string): { dtype: DType; bigEndian: boolean } {
  if (isDType(s)) return { dtype: s, bigEndian: false };
  const order = s.charAt(0);
  const hasOrder = order === '<' || order === '>' || order === '=' || order === '|';
  const code = hasOrder ? s.slice(1) : s;
  const dtype = Object.prototype.hasOwnProperty.call(CODES, code) ? CODES[code] : undefined;
  if (dtype === undefined) {
    throw new FlowgateError(Code.InvalidArgument, `unsupported dtype '${s}'`);
  }
  const bigEndian = order === '>' || (order === '=' && !HOST_LITTLE_ENDIAN);
  return { dtype, bigEndian };
}

/**
 * The numpy `dtype.str` of a dtype, as docarray writes into `DenseNdArrayProto.dtype`.
 *
 * @example
 * ```ts
 * numpyDTypeStr('float32'); // '<f4'
 * ```
 */
export function numpyDTypeStr(dtype: DType): string {
  return INFO[dtype].str;
}

/**
 * The typed array constructor that backs a dtype (float16 is stored as raw `Uint16Array` bits,
 * bool as a `Uint8Array` of 0/1).
 *
 * @example
 * ```ts
 * new (typedArrayOf('int64'))(3); // BigInt64Array [0n, 0n, 0n]
 * ```
 */
export function typedArrayOf(dtype: DType): TypedArrayConstructor {
  return INFO[dtype].ctor;
}

/**
 * The dtype a typed array holds when nothing else is said (`Uint16Array` is uint16, `Uint8Array`
 * uint8).
 *
 * @example
 * ```ts
 * dtypeOfTypedArray(new Float32Array(2)); // 'float32'
 * ```
 */
export function dtypeOfTypedArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  return 'uint8';
}

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

/**
 * Converts IEEE 754 half-precision bits to a number.
 *
 * @example
 * ```ts
 * halfToFloat(0x3c00); // 1
 * ```
 */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Converts a number to IEEE 754 half-precision bits, rounding half to even straight from the
 * double, as numpy's `astype(float16)` does.
 *
 * @example
 * ```ts
 * floatToHalf(1); // 0x3c00
 * ```
 */
export function floatToHalf(value: number): number {
  f64[0] = value;
  const hi = f64Words[HOST_LITTLE_ENDIAN ? 1 : 0]!;
  const sign = (hi >>> 16) & 0x8000;
  if (Number.isNaN(value)) return sign | 0x7e00;
  const a = Math.abs(value);
  if (a === Infinity) return sign | 0x7c00;
  const exp = ((hi >>> 20) & 0x7ff) - 1023;
  // below 2^-14 halves are subnormal, in units of 2^-24; scaling by powers of two is exact
  if (exp < -14) return sign | roundHalfEven(a * 2 ** 24);
  const bits = ((exp + 15) << 10) + roundHalfEven(a * 2 ** (10 - exp)) - 1024;
  return sign | Math.min(bits, 0x7c00);
}

function roundHalfEven(m: number): number {
  const f = Math.floor(m);
  const r = m - f;
  return r > 0.5 || (r === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/**
 * Writes values into a typed array of a dtype, converting like numpy's `astype`: truncation for
 * integers, half bits for float16, 0/1 for bool.
 *
 * @example
 * ```ts
 * const out = new BigInt64Array(2);
 * fillTypedArray(out, 'int64', [1.9, -2]); // out: [1n, -2n]
 * ```
 */
export function fillTypedArray(target: TypedArray, dtype: DType, values: ArrayLike<unknown>): void {
  const n = values.length;
  if (target instanceof BigInt64Array || target instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      target[i] = typeof v === 'bigint' ? v : BigInt(Number.isFinite(Number(v)) ? Math.trunc(Number(v)) : 0);
    }
  } else if (dtype === 'float16') {
    for (let i = 0; i < n; i++) target[i] = floatToHalf(Number(values[i]));
  } else if (dtype === 'bool') {
    for (let i = 0; i < n; i++) target[i] = values[i] ? 1 : 0;
  } else {
    for (let i = 0; i < n; i++) target[i] = Number(values[i]);
  }
}

/**
 * Reverses the byte order of each `width`-byte element in place.
 *
 * @example
 * ```ts
 * swapBytes(bytes, 4); // big-endian float32s to little-endian
 * ```
 */
export function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) {
    for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
      const t = bytes[lo]!;
      bytes[lo] = bytes[hi]!;
      bytes[hi] = t;
    }
  }
}
