/**
 * Documents as JSON text straight from their protobuf bytes: what
 * `JSON.stringify(docsToJson(decodeDocs(bytes), options))` writes, without building Document
 * objects, protobufjs messages or an object tree for `JSON.stringify`. A small reader walks the
 * wire (varints, lengths, fixed32 floats, fixed64 doubles) and the JSON is written as it goes.
 *
 * It follows the generated decoders field for field: fields are told apart by their number (as
 * protobufjs does), a singular field given twice keeps its last value, repeated fields append,
 * map keys keep the order a JS object gives them, unknown fields are skipped, and nested messages
 * deeper than protobufjs' recursion limit fail. Malformed bytes throw an Error with a message.
 *
 * @example
 * ```ts
 * docsJsonFromWire(encodeDocs([new Document({ id: 'a', text: 'hi' })])); // '[{"id":"a",...}]'
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import { newDocumentId } from './document.js';
import {
  halfToFloat,
  numpyDTypeStr,
  parseDType,
  typedArrayOf,
  type DType,
  type TypedArray,
} from './dtype.js';
import type { DocsToJsonOptions } from './json-codec.js';
import { ndarrayFromProto } from './proto-codec.js';
import { WireReader, jsonNumber, jsonString } from './wire-reader.js';

export { WireReader, jsonNumber, jsonString } from './wire-reader.js';

/** protobufjs' `util.recursionLimit`: a message nested deeper fails to decode. */
const RECURSION_LIMIT = 100;

function tooDeep(): Error {
  return new Error('maximum nesting depth exceeded');
}

/**
 * The JSON text of an encoded `google.protobuf.Struct` ending at `end`, as
 * `JSON.stringify(structToJson(Struct.decode(bytes)))` writes it (`{}` when empty).
 *
 * @example
 * ```ts
 * const r = new WireReader(google.protobuf.Struct.encode(jsonToStruct({ k: 1 })).finish());
 * structJsonFromWire(r, r.len, 0); // '{"k":1}'
 * ```
 */
export function structJsonFromWire(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  // A JS object orders keys as structToJson's output does: integer-like keys first, a repeated key
  // keeps its first place and its last value. `__proto__` never reaches the output.
  let entries: Record<string, string> | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 !== 1) {
      r.skipType(tag & 7, depth);
      continue;
    }
    const e = r.lengthEnd(end);
    let kS = 0;
    let kE = 0;
    let value = 'null';
    while (r.pos < e) {
      const t = r.uint32();
      const f = t >>> 3;
      if (f === 1) {
        kE = r.lengthEnd(e);
        kS = r.pos;
        r.pos = kE;
      } else if (f === 2) {
        const ve = r.lengthEnd(e);
        value = valueJson(r, ve, depth + 1);
      } else r.skipType(t & 7, depth);
    }
    r.checkEnd(e);
    const key = r.str(kS, kE);
    if (key !== '__proto__') (entries ??= {})[key] = value;
  }
  r.checkEnd(end);
  if (entries === undefined) return '{}';
  let out = '';
  for (const k of Object.keys(entries)) out += (out === '' ? '{' : ',') + jsonString(k) + ':' + entries[k]!;
  return out === '' ? '{}' : out + '}';
}

/** The JSON of a `google.protobuf.Value` (valueToJson's precedence: string, number, bool, struct, list). */
function valueJson(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  let str: string | undefined;
  let num: string | undefined;
  let bool: string | undefined;
  let struct: string | undefined;
  let list: string | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        r.uint32();
        break;
      case 2:
        num = jsonNumber(r.double());
        break;
      case 3: {
        const e = r.lengthEnd(end);
        str = r.json(r.pos, e);
        r.pos = e;
        break;
      }
      case 4:
        bool = r.uint32() !== 0 ? 'true' : 'false';
        break;
      case 5:
        struct = structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      case 6:
        list = listJson(r, r.lengthEnd(end), depth + 1);
        break;
      default:
        r.skipType(t & 7, depth);
    }
  }
  r.checkEnd(end);
  return str ?? num ?? bool ?? struct ?? list ?? 'null';
}

function listJson(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  let out = '[';
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      const v = valueJson(r, r.lengthEnd(end), depth + 1);
      out += out.length === 1 ? v : ',' + v;
    } else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
  return out + ']';
}

/** A decoded `NdArrayProto`: where its dense buffer lies in the bytes, its shape and dtype. */
interface NdWire {
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

function readNdArray(r: WireReader, end: number, depth: number): NdWire {
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
function ndJson(r: WireReader, nd: NdWire, base64: boolean, field: string): string {
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

/** Named scores being read: the JSON of each (null while an entry has no value yet). */
type ScoreEntries = Record<string, string | null>;

function readScoreEntry(r: WireReader, end: number, depth: number, into: ScoreEntries): void {
  let kS = 0;
  let kE = 0;
  let value: string | null = null;
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    if (f === 1) {
      kE = r.lengthEnd(end);
      kS = r.pos;
      r.pos = kE;
    } else if (f === 2) value = scoreJson(r, r.lengthEnd(end), depth + 1);
    else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
  const key = r.str(kS, kE);
  // `__proto__` is kept by the decoder but lost when the scores are copied into a Document
  if (key !== '__proto__') into[key] = value;
  else if (value === null) noScoreValue();
}

function noScoreValue(): never {
  // documentFromProto reads `.value` of the entry's message, which is null
  throw new TypeError('a named score entry has no value');
}

function scoreJson(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  let value = 0;
  const s = [0, 0, 0, 0, 0, 0];
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    if (f === 1) value = r.float();
    else if (f >= 2 && f <= 4) {
      const e = r.lengthEnd(end);
      s[(f - 2) * 2] = r.pos;
      s[(f - 2) * 2 + 1] = e;
      r.pos = e;
    } else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
  return `{"value":${jsonNumber(value)},"op_name":${r.strOrNull(s[0]!, s[1]!)},"description":${r.strOrNull(s[2]!, s[3]!)},"ref_id":${r.strOrNull(s[4]!, s[5]!)}}`;
}

function scoresJson(entries: ScoreEntries | undefined): string {
  if (entries === undefined) return 'null';
  let out = '';
  for (const k of Object.keys(entries)) {
    const v = entries[k];
    if (v === null || v === undefined) noScoreValue();
    out += (out === '' ? '{' : ',') + jsonString(k) + ':' + v;
  }
  return out === '' ? 'null' : out + '}';
}

/**
 * The JSON text of one encoded `DocumentProto` ending at `end`, as
 * `JSON.stringify(documentToJson(documentFromProto(DocumentProto.decode(bytes)), options))`.
 */
export function documentJsonFromWire(r: WireReader, end: number, depth: number, base64: boolean): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  // start and end of the string fields (id, parent_id, uri, modality, mime_type) at [2f], [2f + 1]
  const sp = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let hasText = false;
  let textS = 0;
  let textE = 0;
  let blobS = -1;
  let blobE = 0;
  let tensor: NdWire | undefined;
  let embedding: NdWire | undefined;
  let granularity = 0;
  let adjacency = 0;
  let weight = 0;
  let offset = 0;
  let location: string | undefined;
  let tags = 'null';
  let chunks: string | undefined;
  let matches: string | undefined;
  let scores: ScoreEntries | undefined;
  let evaluations: ScoreEntries | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    switch (f) {
      case 1:
      case 7:
      case 9:
      case 10:
      case 11: {
        const e = r.lengthEnd(end);
        sp[f * 2] = r.pos;
        sp[f * 2 + 1] = e;
        r.pos = e;
        break;
      }
      case 2:
        blobE = r.lengthEnd(end);
        blobS = r.pos;
        r.pos = blobE;
        break;
      case 3:
        tensor = readNdArray(r, r.lengthEnd(end), depth + 1);
        break;
      case 4:
        hasText = true;
        textE = r.lengthEnd(end);
        textS = r.pos;
        r.pos = textE;
        break;
      case 5:
        granularity = r.uint32();
        break;
      case 6:
        adjacency = r.uint32();
        break;
      case 8:
        weight = r.float();
        break;
      case 12:
        offset = r.float();
        break;
      case 13:
        location = r.floatList(t, end, location);
        break;
      case 14: {
        const c = documentJsonFromWire(r, r.lengthEnd(end), depth + 1, base64);
        chunks = chunks === undefined ? c : chunks + ',' + c;
        break;
      }
      case 15: {
        const m = documentJsonFromWire(r, r.lengthEnd(end), depth + 1, base64);
        matches = matches === undefined ? m : matches + ',' + m;
        break;
      }
      case 16:
        embedding = readNdArray(r, r.lengthEnd(end), depth + 1);
        break;
      case 17:
        tags = structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      case 18:
        readScoreEntry(r, r.lengthEnd(end), depth, (scores ??= {}));
        break;
      case 19:
        readScoreEntry(r, r.lengthEnd(end), depth, (evaluations ??= {}));
        break;
      case 20:
        structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      default:
        r.skipType(t & 7, depth);
    }
  }
  r.checkEnd(end);
  const id = sp[3]! > sp[2]! ? r.json(sp[2]!, sp[3]!) : `"${newDocumentId()}"`;
  let blob = 'null';
  let tensorJson = 'null';
  let text = 'null';
  let mime = r.strOrNull(sp[22]!, sp[23]!);
  if (hasText) {
    if (textE > textS) {
      text = r.json(textS, textE);
      if (mime === 'null') mime = '"text/plain"';
    }
  } else if (blobS >= 0) {
    if (blobE > blobS) blob = '"' + r.buf.toString('base64', blobS, blobE) + '"';
  } else if (tensor !== undefined) tensorJson = ndJson(r, tensor, base64, 'tensor');
  const emb = embedding === undefined ? 'null' : ndJson(r, embedding, base64, 'embedding');
  return (
    `{"id":${id},"parent_id":${r.strOrNull(sp[14]!, sp[15]!)},` +
    `"granularity":${granularity || 'null'},"adjacency":${adjacency || 'null'},` +
    `"blob":${blob},"tensor":${tensorJson},"mime_type":${mime},"text":${text},` +
    `"weight":${weight ? jsonNumber(weight) : 'null'},"uri":${r.strOrNull(sp[18]!, sp[19]!)},` +
    `"tags":${tags === '{}' ? 'null' : tags},"offset":${offset ? jsonNumber(offset) : 'null'},` +
    `"location":${location === undefined ? 'null' : '[' + location + ']'},"embedding":${emb},` +
    `"modality":${r.strOrNull(sp[20]!, sp[21]!)},"evaluations":${scoresJson(evaluations)},` +
    `"scores":${scoresJson(scores)},"chunks":${chunks === undefined ? 'null' : '[' + chunks + ']'},` +
    `"matches":${matches === undefined ? 'null' : '[' + matches + ']'}}`
  );
}

/**
 * The JSON text of an encoded `DocumentArrayProto` (the `docs_bytes` of a request), exactly as
 * `JSON.stringify(docsToJson(decodeDocs(bytes), options))` writes it, read straight from the bytes.
 * Malformed bytes throw an Error.
 *
 * @example
 * ```ts
 * docsJsonFromWire(encodeDocs([new Document({ id: 'a' })])).startsWith('[{"id":"a"'); // true
 * ```
 */
export function docsJsonFromWire(bytes: Uint8Array, options: DocsToJsonOptions = {}): string {
  const r = new WireReader(bytes);
  return docsJsonFromReader(r, r.len, options.tensors === 'base64');
}

/** {@link docsJsonFromWire} over the bytes of `r` from its position to `end`. */
export function docsJsonFromReader(r: WireReader, end: number, base64: boolean): string {
  let out = '[';
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      const d = documentJsonFromWire(r, r.lengthEnd(end), 1, base64);
      out += out.length === 1 ? d : ',' + d;
    } else r.skipType(t & 7, 0);
  }
  r.checkEnd(end);
  return out + ']';
}
