/**
 * Documents to and from the JSON the original's HTTP API speaks: docarray < 0.30's
 * `Document.to_dict()` (its pydantic model), as Jina's HTTP gateway returns in `data` and reads
 * from `data` / `data.docs`. Keys are snake_case; every field is present, `null` when empty;
 * tensors and embeddings are nested lists; `blob` is base64. Decoding also accepts camelCase keys
 * and protobuf-JSON arrays (`{ dense: { buffer, shape, dtype } }`), which Go clients send.
 * See docs/wire-json.md.
 *
 * @example
 * ```ts
 * documentToJson(new Document({ id: 'a', text: 'hi' })).mime_type; // 'text/plain'
 * documentFromJson({ text: 'hi', embedding: [0.1, 0.2] }).embedding?.dtype; // 'float64'
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../proto/struct.js';
import { Document, type NamedScore } from './document.js';
import { DocumentArray } from './document-array.js';
import { NdArray, type NestedNumbers } from './ndarray.js';
import { ndarrayFromProto, ndarrayToProto } from './proto-codec.js';

function scoresToJson(scores: Record<string, NamedScore>): JsonObject | null {
  const names = Object.keys(scores);
  if (names.length === 0) return null;
  const out: JsonObject = {};
  for (const name of names) {
    const s = scores[name]!;
    out[name] = {
      value: s.value,
      op_name: s.opName || null,
      description: s.description || null,
      ref_id: s.refId || null,
    };
  }
  return out;
}

/**
 * A Document as docarray's `Document.to_dict()` writes it: all 19 keys in the original's order,
 * `null` for empty fields, nested lists for arrays, base64 for `blob`.
 *
 * @example
 * ```ts
 * documentToJson(new Document({ id: 'a', embedding: [1, 2] })).embedding; // [1, 2]
 * ```
 */
export function documentToJson(doc: Document, options: DocsToJsonOptions = {}): JsonObject {
  const arr = options.tensors === 'base64' ? ndarrayToJsonBase64 : (a: NdArray) => a.toArray();
  const sub = (d: Document) => documentToJson(d, options);
  return {
    id: doc.id,
    parent_id: doc.parentId || null,
    granularity: doc.granularity || null,
    adjacency: doc.adjacency || null,
    blob: doc.blob && doc.blob.byteLength > 0 ? toBase64(doc.blob) : null,
    tensor: doc.tensor ? arr(doc.tensor) : null,
    mime_type: doc.mimeType || null,
    text: doc.text || null,
    weight: doc.weight || null,
    uri: doc.uri || null,
    tags: Object.keys(doc.tags).length > 0 ? doc.tags : null,
    offset: doc.offset || null,
    location: doc.location.length > 0 ? [...doc.location] : null,
    embedding: doc.embedding ? arr(doc.embedding) : null,
    modality: doc.modality || null,
    evaluations: scoresToJson(doc.evaluations),
    scores: scoresToJson(doc.scores),
    chunks: doc.chunks.length > 0 ? doc.chunks.map(sub) : null,
    matches: doc.matches.length > 0 ? doc.matches.map(sub) : null,
  };
}

/**
 * Documents as docarray's `DocumentArray.to_dict()` writes them: a list of
 * {@link documentToJson} objects.
 *
 * @example
 * ```ts
 * JSON.stringify(docsToJson(da));
 * ```
 */
export function docsToJson(docs: Iterable<Document>, options: DocsToJsonOptions = {}): JsonObject[] {
  const out: JsonObject[] = [];
  for (const d of docs) out.push(documentToJson(d, options));
  return out;
}

/**
 * How {@link documentToJson} writes `tensor` and `embedding`: `list` (default, the original's
 * nested lists of numbers) or `base64`, the protobuf JSON form of `NdArrayProto`
 * (`{"dense": {"buffer": "<base64>", "shape": [2, 3], "dtype": "<f4"}, "cls_name": "numpy"}`): the
 * bytes as they are, in a third more than their size, instead of a float's decimal text.
 */
export interface DocsToJsonOptions {
  tensors?: 'list' | 'base64';
}

/**
 * An array in the base64 JSON form (see {@link DocsToJsonOptions}); `documentFromJson` reads it
 * back with its dtype and shape.
 *
 * @example
 * ```ts
 * ndarrayToJsonBase64(NdArray.from([1], { dtype: 'float32' })); // {dense: {buffer: 'AACAPw==', shape: [1], dtype: '<f4'}, cls_name: 'numpy'}
 * ```
 */
export function ndarrayToJsonBase64(a: NdArray): JsonObject {
  const p = ndarrayToProto(a);
  const dense = p.dense!;
  return {
    dense: { buffer: toBase64(dense.buffer!), shape: [...(dense.shape ?? [])], dtype: dense.dtype ?? '' },
    cls_name: p.clsName ?? 'numpy',
  };
}

/**
 * Whether a JSON list of documents carries a `tensor` or `embedding` in the base64 form (at the
 * top level): the HTTP Gateway then answers in that form too.
 *
 * @example
 * ```ts
 * usesBase64Tensors([{ tensor: { dense: { buffer: 'AACAPw==', shape: [1], dtype: '<f4' } } }]); // true
 * usesBase64Tensors([{ tensor: [1, 2] }]); // false
 * ```
 */
export function usesBase64Tensors(data: unknown): boolean {
  if (!Array.isArray(data)) {
    if (!isObject(data)) return false;
    data = data.docs;
    if (!Array.isArray(data)) return false;
  }
  for (const d of data as unknown[]) {
    if (!isObject(d)) continue;
    if (isObject(d.tensor) || isObject(d.embedding)) return true;
  }
  return false;
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2})$/;

function fromBase64(s: string, where: string): Uint8Array {
  if (!BASE64.test(s)) throw bad(where, 'must be a base64 string');
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** `data[0].text must be a string, got number 1`: the field, the rule, and (if given) the value. */
function bad(where: string, what: string, ...got: unknown[]): FlowgateError {
  const suffix = got.length > 0 ? `, got ${typeName(got[0])}` : '';
  return new FlowgateError(Code.InvalidArgument, `${where} ${what}${suffix}`);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return `string ${JSON.stringify(v)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof v} ${String(v)}`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value under a snake_case key, or its camelCase spelling. */
function pick(o: Record<string, unknown>, snake: string, camel?: string): unknown {
  const v = o[snake];
  return v === undefined && camel !== undefined ? o[camel] : v;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v); // pydantic v1 coerces numbers
  throw bad(where, 'must be a string', v);
}

function num(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw bad(where, 'must be a number', v);
}

function uint(v: unknown, where: string): number | undefined {
  const n = num(v, where);
  if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > 0xffffffff)) {
    throw bad(where, 'must be a non-negative integer', v);
  }
  return n;
}

function ndarray(v: unknown, where: string): NdArray | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    if (Array.isArray(v) || typeof v === 'number' || typeof v === 'boolean') {
      return NdArray.from(v as NestedNumbers);
    }
    if (isObject(v)) {
      const dense = v.dense;
      if (v.sparse !== undefined && v.sparse !== null) {
        const clsName = str(pick(v, 'cls_name', 'clsName'), `${where}.cls_name`);
        return ndarrayFromProto({ sparse: {}, clsName }, where);
      }
      if (!isObject(dense)) throw bad(where, 'must be a nested list of numbers or {"dense": {...}}', v);
      const shape = dense.shape ?? [];
      if (!Array.isArray(shape)) throw bad(`${where}.dense.shape`, 'must be a list of integers', shape);
      const buffer = dense.buffer === undefined ? undefined : str(dense.buffer, `${where}.dense.buffer`);
      return ndarrayFromProto(
        {
          dense: {
            buffer: buffer === undefined ? undefined : fromBase64(buffer, `${where}.dense.buffer`),
            shape: shape.map((d, i) => uint(d, `${where}.dense.shape[${i}]`) ?? 0),
            dtype: str(dense.dtype, `${where}.dense.dtype`) ?? '',
          },
        },
        where,
      );
    }
  } catch (err) {
    if (!(err instanceof FlowgateError) || err.message.startsWith(where)) throw err;
    throw new FlowgateError(Code.InvalidArgument, `${where}: ${err.message}`, { cause: err });
  }
  throw bad(where, 'must be a nested list of numbers', v);
}

function scores(v: unknown, where: string): Record<string, NamedScore> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw bad(where, 'must be an object of named scores', v);
  const out: Record<string, NamedScore> = {};
  for (const [name, s] of Object.entries(v)) {
    const at = `${where}.${name}`;
    if (typeof s === 'number') {
      out[name] = { value: num(s, at)! };
      continue;
    }
    if (!isObject(s)) throw bad(at, 'must be an object like {"value": 0.5}', s);
    const score: NamedScore = { value: num(s.value, `${at}.value`) ?? 0 };
    const opName = str(pick(s, 'op_name', 'opName'), `${at}.op_name`);
    const description = str(s.description, `${at}.description`);
    const refId = str(pick(s, 'ref_id', 'refId'), `${at}.ref_id`);
    if (opName) score.opName = opName;
    if (description) score.description = description;
    if (refId) score.refId = refId;
    out[name] = score;
  }
  return out;
}

function docs(v: unknown, where: string): Document[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad(where, 'must be a list of documents', v);
  return v.map((d, i) => documentFromJson(d, `${where}[${i}]`));
}

/**
 * A Document from the JSON the original's HTTP API accepts (see {@link documentToJson});
 * camelCase keys are accepted too, unknown keys are ignored (as pydantic does), and `null` means
 * unset. Wrong types fail with `InvalidArgument` naming the field, e.g.
 * `data[0].embedding must be a nested list of numbers, got string "x"`.
 * Nested lists become `float64` arrays (`bool` for booleans): JSON cannot tell `1` from `1.0`.
 *
 * @example
 * ```ts
 * documentFromJson({ text: 'hi', mime_type: 'text/plain', tags: { k: 1 } });
 * ```
 */
export function documentFromJson(obj: unknown, where = 'document'): Document {
  if (!isObject(obj)) throw bad(where, 'must be an object', obj);
  const tags = obj.tags;
  if (tags !== undefined && tags !== null && !isObject(tags))
    throw bad(`${where}.tags`, 'must be an object', tags);
  const location = obj.location;
  if (location !== undefined && location !== null && !Array.isArray(location)) {
    throw bad(`${where}.location`, 'must be a list of numbers', location);
  }
  const blob = str(obj.blob, `${where}.blob`);
  const doc = new Document({
    id: str(obj.id, `${where}.id`),
    parentId: str(pick(obj, 'parent_id', 'parentId'), `${where}.parent_id`),
    granularity: uint(obj.granularity, `${where}.granularity`),
    adjacency: uint(obj.adjacency, `${where}.adjacency`),
    mimeType: str(pick(obj, 'mime_type', 'mimeType'), `${where}.mime_type`),
    weight: num(obj.weight, `${where}.weight`),
    uri: str(obj.uri, `${where}.uri`),
    tags: (tags ?? undefined) as Record<string, JsonValue> | undefined,
    offset: num(obj.offset, `${where}.offset`),
    location: location?.map((x, i) => num(x, `${where}.location[${i}]`) ?? 0),
    modality: str(obj.modality, `${where}.modality`),
    scores: scores(obj.scores, `${where}.scores`),
    evaluations: scores(obj.evaluations, `${where}.evaluations`),
    chunks: docs(obj.chunks, `${where}.chunks`),
    matches: docs(obj.matches, `${where}.matches`),
    embedding: ndarray(obj.embedding, `${where}.embedding`),
  });
  // content in docarray's field order (blob, tensor, text): the last one set wins
  if (blob !== undefined) doc.blob = fromBase64(blob, `${where}.blob`);
  const tensor = ndarray(obj.tensor, `${where}.tensor`);
  if (tensor !== undefined) doc.tensor = tensor;
  const text = str(obj.text, `${where}.text`);
  if (text !== undefined) doc.text = text;
  return doc;
}

/**
 * Documents from the `data` of a request to the original's HTTP API: a list of documents, or
 * `{"docs": [...]}`; `null`/`undefined` give an empty array.
 *
 * @example
 * ```ts
 * docsFromJson([{ text: 'a' }, { text: 'b' }]).texts; // ['a', 'b']
 * docsFromJson({ docs: [{ text: 'a' }] }).length; // 1
 * ```
 */
export function docsFromJson(obj: unknown, where = 'data'): DocumentArray {
  if (obj === undefined || obj === null) return new DocumentArray();
  if (isObject(obj)) return new DocumentArray(docs(obj.docs ?? [], `${where}.docs`));
  if (!Array.isArray(obj)) throw bad(where, 'must be a list of documents or {"docs": [...]}', obj);
  return new DocumentArray(docs(obj, where));
}

/**
 * The field readers of {@link documentFromJson}, for the writer that goes from JSON straight to
 * the wire (`json-wire.ts`): the same checks in the same order give the same error messages.
 */
export {
  bad as jsonFieldError,
  fromBase64 as jsonBase64,
  isObject as isJsonRecord,
  ndarray as jsonNdArray,
  num as jsonNumber,
  pick as jsonPick,
  scores as jsonScores,
  str as jsonString,
  uint as jsonUint,
};
