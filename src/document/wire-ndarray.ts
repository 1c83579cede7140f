/**
 * Tensors and embeddings (`NdArrayProto`) as JSON text straight from their bytes: nested lists of
 * numbers, or the base64 form, exactly as `documentToJson` writes the NdArray `ndarrayFromProto`
 * makes of them; what `ndarrayFromProto` refuses (sparse arrays, unknown dtypes, a buffer that
 * does not fit the shape) fails here with its very error.
 *
 * @example
 * ```ts
 * const nd = readNdArray(r, end, depth);
 * ndJson(r, nd, false, 'tensor'); // '[[1,2],[3,4]]'
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import {
  halfToFloat,
  numpyDTypeStr,
  parseDType,
  typedArrayOf,
  type DType,
  type TypedArray,
} from './dtype.js';
import { ndarrayFromProto } from './proto-codec.js';
import { structJsonFromWire } from './wire-struct.js';
import type { WireReader } from './wire-reader.js';
import { RECURSION_LIMIT, tooDeep } from './wire-reader.js';

/** A decoded `NdArrayProto`: where its dense buffer lies in the bytes, its shape and dtype. */
export interface NdWire {
  dense: boolean;
  sparse: boolean;
  clsName: string;
  bufS: number;
  bufE: number;
  shape: number[];
  dtype: string;
}

function readDense(r: WireReader, end: number, depth: number, nd: NdWire | undefined): NdWire {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  const out: NdWire = nd ?? {
    dense: true,
    sparse: false,
    clsName: '',
    bufS: 0,
    bufE: 0,
    shape: [],
    dtype: '',
  };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        out.bufE = r.lengthEnd(end);
        out.bufS = r.pos;
        r.pos = out.bufE;
        break;
      case 2:
        r.uint32List(t, end, out.shape);
        break;
      case 3: {
        const e = r.lengthEnd(end);
        out.dtype = r.str(r.pos, e);
        r.pos = e;
        break;
      }
      default:
        r.skipType(t & 7, depth);
    }
  }
  r.checkEnd(end);
  return out;
}

/** Reads (and so checks) a `SparseNdArrayProto`, which the JSON path refuses anyway. */
function readSparse(r: WireReader, end: number, depth: number): void {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  const shape: number[] = [];
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    if (f === 1 || f === 2) readDense(r, r.lengthEnd(end), depth + 1, undefined);
    else if (f === 3) r.uint32List(t, end, shape);
    else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
}

export function readNdArray(r: WireReader, end: number, depth: number): NdWire {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  const nd: NdWire = { dense: false, sparse: false, clsName: '', bufS: 0, bufE: 0, shape: [], dtype: '' };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        // a second dense part replaces the first, as the generated decoder does
        nd.dense = true;
        nd.bufS = nd.bufE = 0;
        nd.shape = [];
        nd.dtype = '';
        readDense(r, r.lengthEnd(end), depth + 1, nd);
        break;
      case 2:
        nd.sparse = true;
        readSparse(r, r.lengthEnd(end), depth + 1);
        break;
      case 3: {
        const e = r.lengthEnd(end);
        nd.clsName = r.str(r.pos, e);
        r.pos = e;
        break;
      }
      case 4:
        structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      default:
        r.skipType(t & 7, depth);
    }
  }
  r.checkEnd(end);
  return nd;
}

interface DTypeWire {
  dtype: DType;
  bigEndian: boolean;
  width: number;
  /** numpy's `dtype.str` of the dtype, as the base64 form writes it. */
  str: string;
}

const dtypeCache = new Map<string, DTypeWire | null>();

function dtypeOf(s: string): DTypeWire | null {
  let d = dtypeCache.get(s);
  if (d === undefined) {
    try {
      const p = parseDType(s);
      d = { ...p, width: typedArrayOf(p.dtype).BYTES_PER_ELEMENT, str: numpyDTypeStr(p.dtype) };
    } catch {
      d = null;
    }
    if (dtypeCache.size < 256) dtypeCache.set(s, d);
  }
  return d;
}

/**
 * The JSON of a tensor or embedding, as `documentToJson` writes the NdArray `ndarrayFromProto`
 * makes of it (`null` when it holds nothing). What `ndarrayFromProto` refuses, it refuses here
 * with the same error (it is called to say so).
 */
export function ndJson(r: WireReader, nd: NdWire, base64: boolean, field: string): string {
  if (nd.sparse) ndarrayFromProto({ sparse: {}, clsName: nd.clsName }, field);
  if (!nd.dense) return 'null';
  const shape = nd.shape;
  const bytes = nd.bufE - nd.bufS;
  if (bytes === 0 && shape.length === 0) return 'null';
  const dt = dtypeOf(nd.dtype || (bytes === 0 ? 'float64' : ''));
  let size = 1;
  for (const d of shape) size *= d;
  if (dt === null || bytes !== size * dt.width) {
    ndarrayFromProto({ dense: { buffer: r.buf.subarray(nd.bufS, nd.bufE), shape, dtype: nd.dtype } }, field);
    throw new FlowgateError(Code.InvalidArgument, `${field}: malformed array`);
  }
  const swap = dt.width > 1 && dt.bigEndian;
  if (base64) {
    let b64: string;
    if (swap) b64 = Buffer.from(swapped(r.buf, nd.bufS, nd.bufE, dt.width)).toString('base64');
    else b64 = r.buf.toString('base64', nd.bufS, nd.bufE);
    return `{"dense":{"buffer":"${b64}","shape":[${shape.join(',')}],"dtype":"${dt.str}"},"cls_name":"numpy"}`;
  }
  const data = typedView(r.buf, nd.bufS, nd.bufE, dt, size, swap);
  const row = rowWriter(dt.dtype);
  if (shape.length === 0) return row(data, 0, 1).slice(1, -1); // a 0-d array is its one value
  return nest(data, shape, 0, 0, row).text;
}

function swapped(buf: Buffer, s: number, e: number, width: number): Uint8Array {
  const copy = new Uint8Array(e - s);
  copy.set(buf.subarray(s, e));
  for (let i = 0; i < copy.length; i += width) {
    for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
      const t = copy[lo]!;
      copy[lo] = copy[hi]!;
      copy[hi] = t;
    }
  }
  return copy;
}

function typedView(
  buf: Buffer,
  s: number,
  e: number,
  dt: DTypeWire,
  size: number,
  swap: boolean,
): TypedArray {
  const ctor = typedArrayOf(dt.dtype);
  if (!swap && (buf.byteOffset + s) % dt.width === 0) return new ctor(buf.buffer, buf.byteOffset + s, size);
  // a copy: an unaligned Buffer view cannot back a typed array of wider elements
  const copy = swap ? swapped(buf, s, e, dt.width) : new Uint8Array(buf.subarray(s, e));
  return new ctor(copy.buffer, copy.byteOffset, size);
}

/**
 * Writes `n` elements of `d` from `at` as a JSON list, as JSON.stringify writes them (a plain
 * array handed to JSON.stringify: its number formatting is the fastest there is, and it writes
 * NaN and the infinities as null).
 */
type RowWriter = (d: TypedArray, at: number, n: number) => string;

const numberRow: RowWriter = (d, at, n) => {
  const row = new Array<number>(n);
  for (let i = 0; i < n; i++) row[i] = d[at + i] as number;
  return JSON.stringify(row);
};
const bigRow: RowWriter = (d, at, n) => {
  const row = new Array<number>(n);
  for (let i = 0; i < n; i++) row[i] = Number(d[at + i]);
  return JSON.stringify(row);
};
const boolRow: RowWriter = (d, at, n) => {
  const row = new Array<boolean>(n);
  for (let i = 0; i < n; i++) row[i] = d[at + i] !== 0;
  return JSON.stringify(row);
};
const halfRow: RowWriter = (d, at, n) => {
  const row = new Array<number>(n);
  for (let i = 0; i < n; i++) row[i] = halfToFloat(d[at + i] as number);
  return JSON.stringify(row);
};

function rowWriter(dtype: DType): RowWriter {
  switch (dtype) {
    case 'float16':
      return halfRow;
    case 'bool':
      return boolRow;
    case 'int64':
    case 'uint64':
      return bigRow;
    default:
      return numberRow;
  }
}

function nest(
  d: TypedArray,
  shape: number[],
  dim: number,
  at: number,
  row: RowWriter,
): { text: string; at: number } {
  const n = shape[dim]!;
  if (dim === shape.length - 1) return { text: row(d, at, n), at: at + n };
  let out = '[';
  for (let i = 0; i < n; i++) {
    const sub = nest(d, shape, dim + 1, at, row);
    out += i === 0 ? sub.text : ',' + sub.text;
    at = sub.at;
  }
  return { text: out + ']', at };
}
