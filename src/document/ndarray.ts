/**
 * A dense n-dimensional array: a typed array plus a shape and a numpy dtype. It is what a
 * Document's `tensor` and `embedding` hold, and what travels as `DenseNdArrayProto`.
 *
 * @example
 * ```ts
 * const a = NdArray.from([[1, 2], [3, 4]], { dtype: 'float32' });
 * a.shape; // [2, 2]
 * a.toArray(); // [[1, 2], [3, 4]]
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import {
  type DType,
  type TypedArray,
  HOST_LITTLE_ENDIAN,
  dtypeOfTypedArray,
  fillTypedArray as fill,
  halfToFloat,
  parseDType,
  swapBytes,
  typedArrayOf,
} from './dtype.js';

export type { DType, TypedArray } from './dtype.js';

/** Nested JS arrays of numbers (or booleans, or bigints), e.g. `[[1, 2], [3, 4]]`. */
export type NestedNumbers = ReadonlyArray<number | boolean | bigint | NestedNumbers>;

/** What {@link NdArray.toArray} returns: a scalar for 0-d arrays, nested arrays otherwise. */
export type NdValue = number | boolean | NdValue[];

/** Options of {@link NdArray.from}. */
export interface NdArrayFromOptions {
  /** The element type; default: the typed array's own, `bool` for nested booleans, else `float64`. */
  dtype?: DType;
  /** Reshape to this shape (same number of elements). */
  shape?: readonly number[];
}

function invalid(message: string): FlowgateError {
  return new FlowgateError(Code.InvalidArgument, message);
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw invalid(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function flatten(values: unknown, shape: number[], depth: number, out: unknown[]): void {
  if (!Array.isArray(values)) {
    if (depth !== shape.length) throw invalid(`ragged nested array: a scalar at depth ${depth}`);
    out.push(values);
    return;
  }
  if (depth === shape.length) {
    if (out.length > 0) throw invalid(`ragged nested array: a list at depth ${depth}`);
    shape.push(values.length);
  } else if (shape[depth] !== values.length) {
    throw invalid(`ragged nested array: length ${values.length} at depth ${depth}, expected ${shape[depth]}`);
  }
  for (const v of values) flatten(v, shape, depth + 1, out);
}

/**
 * Nested lists of plain numbers straight into a float array (no flat list of values in between);
 * `undefined` when they hold anything else or are ragged (the general path then says what is wrong).
 */
function fromNestedNumbers(
  values: unknown,
  ctor: Float64ArrayConstructor | Float32ArrayConstructor,
): { data: Float64Array | Float32Array; shape: number[] } | undefined {
  if (!Array.isArray(values)) return undefined;
  const shape: number[] = [];
  let cur: unknown = values;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  if (cur !== undefined && typeof cur !== 'number') return undefined;
  let size = 1;
  for (const d of shape) size *= d;
  const data = new ctor(size);
  const last = shape.length - 1;
  let pos = 0;
  const fill = (v: unknown[], depth: number): boolean => {
    if (v.length !== shape[depth]) return false;
    if (depth === last) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x !== 'number') return false;
        data[pos++] = x;
      }
      return true;
    }
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!Array.isArray(x) || !fill(x, depth + 1)) return false;
    }
    return true;
  };
  return fill(values, 0) ? { data, shape } : undefined;
}

/** A float array as nested lists of `shape` (at least one dimension), read straight from `d`. */
function nestFloats(d: Float64Array | Float32Array, shape: readonly number[]): NdValue[] {
  let pos = 0;
  const last = shape.length - 1;
  const build = (dim: number): NdValue[] => {
    const n = shape[dim]!;
    const out = new Array<NdValue>(n);
    if (dim === last) for (let i = 0; i < n; i++) out[i] = d[pos++]!;
    else for (let i = 0; i < n; i++) out[i] = build(dim + 1);
    return out;
  };
  return build(0);
}

/** A dense n-dimensional array backed by a typed array, in row-major (C) order. */
export class NdArray {
  /** The elements, row-major. float16 holds raw half bits; bool holds 0/1. */
  readonly data: TypedArray;
  /** The dimensions; `[]` for a 0-d (scalar) array. */
  readonly shape: number[];
  /** The element type. */
  readonly dtype: DType;

  /**
   * Wraps a typed array without copying. `shape` defaults to `[data.length]`; `dtype` to the
   * typed array's kind (pass `'float16'` with a `Uint16Array`, `'bool'` with a `Uint8Array`).
   *
   * @example
   * ```ts
   * new NdArray(new Float32Array(6), [2, 3]);
   * ```
   */
  constructor(data: TypedArray, shape?: readonly number[], dtype?: DType) {
    const dt = dtype ?? dtypeOfTypedArray(data);
    if (!(data instanceof typedArrayOf(dt))) {
      throw invalid(`dtype ${dt} needs a ${typedArrayOf(dt).name}, got a ${data.constructor.name}`);
    }
    const sh = shape ? [...shape] : [data.length];
    if (sizeOf(sh) !== data.length) {
      throw invalid(`shape [${sh.join(', ')}] does not match ${data.length} elements`);
    }
    this.data = data;
    this.shape = sh;
    this.dtype = dt;
  }

  /**
   * Builds an array from nested JS arrays or a typed array, converting values to `opts.dtype` if
   * given (like numpy's `asarray(x, dtype)`). A typed array of the requested kind is wrapped, not
   * copied. Nested numbers default to `float64` (lossless for JS numbers, and numpy's default),
   * nested booleans to `bool`.
   *
   * @example
   * ```ts
   * NdArray.from([1, 2, 3], { dtype: 'int64' }).data; // BigInt64Array [1n, 2n, 3n]
   * NdArray.from(new Float32Array(6), { shape: [2, 3] });
   * ```
   */
  static from(values: NestedNumbers | TypedArray | number | boolean, opts: NdArrayFromOptions = {}): NdArray {
    if (isTypedArray(values)) {
      const own = dtypeOfTypedArray(values);
      const dtype = opts.dtype ?? own;
      const shape = opts.shape ?? [values.length];
      if (dtype === own) return new NdArray(values, shape, dtype);
      const out = new (typedArrayOf(dtype))(values.length);
      fill(out, dtype, values);
      return new NdArray(out, shape, dtype);
    }
    if (opts.dtype === undefined || opts.dtype === 'float64' || opts.dtype === 'float32') {
      const fast = fromNestedNumbers(values, opts.dtype === 'float32' ? Float32Array : Float64Array);
      if (fast) return new NdArray(fast.data, opts.shape ?? fast.shape, opts.dtype ?? 'float64');
    }
    const shape: number[] = [];
    const flat: unknown[] = [];
    flatten(values, shape, 0, flat);
    for (const v of flat) {
      const t = typeof v;
      if (t !== 'number' && t !== 'boolean' && t !== 'bigint') {
        throw invalid(`nested array holds a ${v === null ? 'null' : t}, expected numbers`);
      }
    }
    const allBool = flat.length > 0 && flat.every((v) => typeof v === 'boolean');
    const dtype = opts.dtype ?? (allBool ? 'bool' : 'float64');
    const out = new (typedArrayOf(dtype))(flat.length);
    fill(out, dtype, flat);
    return new NdArray(out, opts.shape ?? shape, dtype);
  }

  /**
   * Views little-endian raw bytes (as `DenseNdArrayProto.buffer` carries them) as an array. No copy
   * when `bytes` is suitably aligned; a copy otherwise, or when the bytes are big-endian. `dtype`
   * may be a name or a numpy string (`'<f4'`).
   *
   * @example
   * ```ts
   * NdArray.fromBytes(new Uint8Array(8), [2], '<f4').toArray(); // [0, 0]
   * ```
   */
  static fromBytes(bytes: Uint8Array, shape: readonly number[], dtype: string): NdArray {
    const { dtype: dt, bigEndian } = parseDType(dtype);
    const ctor = typedArrayOf(dt);
    const width = ctor.BYTES_PER_ELEMENT;
    const size = sizeOf(shape);
    if (bytes.byteLength !== size * width) {
      throw invalid(`${bytes.byteLength} bytes do not hold shape [${shape.join(', ')}] of ${dt}`);
    }
    const swap = width > 1 && bigEndian === HOST_LITTLE_ENDIAN;
    if (!swap && bytes.byteOffset % width === 0) {
      return new NdArray(new ctor(bytes.buffer, bytes.byteOffset, size), shape, dt);
    }
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    if (swap) swapBytes(copy, width);
    return new NdArray(new ctor(copy.buffer, 0, size), shape, dt);
  }

  /**
   * An array of zeros (`false` for bool).
   *
   * @example
   * ```ts
   * NdArray.zeros([2, 3], 'float32').size; // 6
   * ```
   */
  static zeros(shape: readonly number[], dtype: DType = 'float64'): NdArray {
    return new NdArray(new (typedArrayOf(dtype))(sizeOf(shape)), shape, dtype);
  }

  /**
   * Stacks arrays of one shape into a new array of shape `[n, ...shape]`. Mixed dtypes become
   * `float64`.
   *
   * @example
   * ```ts
   * NdArray.stack([NdArray.from([1, 2]), NdArray.from([3, 4])]).shape; // [2, 2]
   * ```
   */
  static stack(arrays: readonly NdArray[]): NdArray {
    const first = arrays[0];
    if (!first) throw invalid('cannot stack zero arrays');
    const same = arrays.every((a) => a.dtype === first.dtype);
    const dtype = same ? first.dtype : 'float64';
    const per = first.size;
    const out = new (typedArrayOf(dtype))(per * arrays.length);
    arrays.forEach((a, i) => {
      if (a.shape.length !== first.shape.length || a.shape.some((d, j) => d !== first.shape[j])) {
        throw invalid(`cannot stack shape [${a.shape.join(', ')}] onto [${first.shape.join(', ')}]`);
      }
      if (same) (out as Uint8Array).set(a.data as Uint8Array, i * per);
      else fill(out.subarray(i * per), dtype, a.toFlat());
    });
    return new NdArray(out, [arrays.length, ...first.shape], dtype);
  }

  /** The number of elements. */
  get size(): number {
    return this.data.length;
  }

  /**
   * The raw little-endian bytes; a view of {@link data} (no copy) on little-endian hosts.
   *
   * @example
   * ```ts
   * NdArray.from([1], { dtype: 'float32' }).toBytes(); // Uint8Array [0, 0, 128, 63]
   * ```
   */
  toBytes(): Uint8Array {
    const view = new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    if (HOST_LITTLE_ENDIAN || this.data.BYTES_PER_ELEMENT === 1) return view;
    const copy = view.slice();
    swapBytes(copy, this.data.BYTES_PER_ELEMENT);
    return copy;
  }

  /**
   * The elements as JS numbers (booleans for `bool`), flat. int64/uint64 beyond 2^53 lose precision.
   *
   * @example
   * ```ts
   * NdArray.from([[1, 2], [3, 4]]).toFlat(); // [1, 2, 3, 4]
   * ```
   */
  toFlat(): (number | boolean)[] {
    const d = this.data;
    const out = new Array<number | boolean>(d.length);
    if (this.dtype === 'bool') for (let i = 0; i < d.length; i++) out[i] = d[i] !== 0;
    else if (this.dtype === 'float16')
      for (let i = 0; i < d.length; i++) out[i] = halfToFloat(d[i] as number);
    else if (d instanceof BigInt64Array || d instanceof BigUint64Array)
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    else {
      const n = d;
      for (let i = 0; i < n.length; i++) out[i] = n[i]!;
    }
    return out;
  }

  /**
   * The elements as nested JS arrays, like numpy's `tolist()`: a scalar for 0-d arrays.
   *
   * @example
   * ```ts
   * NdArray.from([true, false]).toArray(); // [true, false]
   * ```
   */
  toArray(): NdValue {
    const d = this.data;
    if ((d instanceof Float64Array || d instanceof Float32Array) && this.dtype !== 'float16') {
      return this.shape.length === 0 ? (d[0] ?? 0) : nestFloats(d, this.shape);
    }
    const flat = this.toFlat();
    if (this.shape.length === 0) return flat[0] ?? 0;
    let pos = 0;
    const build = (dim: number): NdValue[] => {
      const n = this.shape[dim]!;
      const out = new Array<NdValue>(n);
      for (let i = 0; i < n; i++) out[i] = dim + 1 === this.shape.length ? flat[pos++]! : build(dim + 1);
      return out;
    };
    return build(0);
  }

  /**
   * A copy with its own memory.
   *
   * @example
   * ```ts
   * const b = a.clone();
   * ```
   */
  clone(): NdArray {
    return new NdArray(this.data.slice(), this.shape, this.dtype);
  }

  /**
   * The same elements under another shape (no copy).
   *
   * @example
   * ```ts
   * NdArray.from([1, 2, 3, 4]).reshape([2, 2]).shape; // [2, 2]
   * ```
   */
  reshape(shape: readonly number[]): NdArray {
    return new NdArray(this.data, shape, this.dtype);
  }

  /**
   * Whether another array has the same dtype, shape and bytes.
   *
   * @example
   * ```ts
   * NdArray.from([1]).equals(NdArray.from([1])); // true
   * ```
   */
  equals(other: NdArray): boolean {
    if (this.dtype !== other.dtype || this.shape.length !== other.shape.length) return false;
    if (this.shape.some((d, i) => d !== other.shape[i])) return false;
    const a = this.toBytes();
    const b = other.toBytes();
    return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
  }
}
