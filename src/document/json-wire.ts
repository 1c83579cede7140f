/**
 * Documents from the JSON of the original's HTTP API written straight as the bytes of a
 * `docarray.DocumentArrayProto`, without building Document objects: what
 * `encodeDocs(docsFromJson(data))` gives, with the same checks, the same error messages (in the
 * same order) and ids generated the same way, at a fraction of the cost. A Gateway that forwards
 * a JSON body to its Executors uses it; code that wants Documents keeps `docsFromJson`.
 *
 * @example
 * ```ts
 * const bytes = docsJsonToWire([{ text: 'hi' }]);
 * decodeDocs(bytes)[0]?.text; // 'hi'
 * ```
 */
import protobuf from 'protobufjs/minimal.js';
import { newDocumentId, type NamedScore } from './document.js';
import { numpyDTypeStr } from './dtype.js';
import {
  isJsonRecord,
  jsonBase64,
  jsonFieldError,
  jsonNdArray,
  jsonNumber,
  jsonScores,
  jsonString,
  jsonUint,
} from './json-codec.js';
import type { NdArray } from './ndarray.js';
import { writeStruct } from './json-wire-struct.js';
import { WireWriter } from './wire-writer.js';

/** Tags of `DocumentProto` (field number << 3 | wire type), as its generated encoder writes them. */
const T = {
  id: 10,
  blob: 18,
  tensor: 26,
  text: 34,
  granularity: 40,
  adjacency: 48,
  parentId: 58,
  weight: 69,
  uri: 74,
  modality: 82,
  mimeType: 90,
  offset: 101,
  location: 106,
  chunks: 114,
  matches: 122,
  embedding: 130,
  tags: 138,
  scores: 146,
  evaluations: 154,
} as const;
/** `DocumentArrayProto.docs = 1`. */
const TAG_DOCS = 10;
/** `NdArrayProto`: dense = 1, cls_name = 3; `DenseNdArrayProto`: buffer = 1, shape = 2 (packed), dtype = 3. */
const TAG_DENSE = 10;
const TAG_CLS_NAME = 26;
const TAG_BUFFER = 10;
const TAG_SHAPE = 18;
const TAG_DTYPE = 26;
/** `NamedScoreProto`: value = 1 (float), op_name = 2, description = 3, ref_id = 4; map entries `{ key = 1; value = 2 }`. */
const TAG_SCORE_VALUE = 13;
const TAG_OP_NAME = 18;
const TAG_DESCRIPTION = 26;
const TAG_REF_ID = 34;

/**
 * Writes the documents of a request's `data` (a list of documents or `{"docs": [...]}`; `null` /
 * `undefined` for none) into `w` as the fields of a `DocumentArrayProto`. Throws what
 * `docsFromJson` throws, e.g. `data[0].text must be a string, got number 1`.
 *
 * @example
 * ```ts
 * const w = new WireWriter();
 * writeDocsJson(w, body.data);
 * ```
 */
export function writeDocsJson(w: WireWriter, data: unknown, where = 'data'): void {
  if (data === undefined || data === null) return;
  let list: unknown = data;
  let listAt = where;
  if (isJsonRecord(data)) {
    list = data.docs ?? [];
    listAt = `${where}.docs`;
  } else if (!Array.isArray(data)) {
    throw jsonFieldError(where, 'must be a list of documents or {"docs": [...]}', data);
  }
  if (!Array.isArray(list)) throw jsonFieldError(listAt, 'must be a list of documents', list);
  for (let i = 0; i < list.length; i++) {
    const start = w.fork(TAG_DOCS);
    writeDocument(w, list[i], listAt, i, 1);
    w.ldelim(start);
  }
}

/**
 * The bytes of a `DocumentArrayProto` for a request's `data` (see {@link writeDocsJson}): equal to
 * `encodeDocs(docsFromJson(data))` but for the random ids of documents that have none.
 *
 * @example
 * ```ts
 * docsJsonToWire({ docs: [{ id: 'a', text: 'x' }] }); // the same bytes as encodeDocs(docsFromJson(...))
 * ```
 */
export function docsJsonToWire(data: unknown, where = 'data'): Uint8Array {
  const w = new WireWriter();
  writeDocsJson(w, data, where);
  return w.finish();
}

/** `parent[index].key`: where a field is, named only when it is wrong. */
function at(parent: string, index: number, key: string): string {
  return `${parent}[${index}].${key}`;
}

/** `jsonString` with the common cases (a string, nothing) decided before naming the field. */
function strField(v: unknown, parent: string, index: number, key: string): string | undefined {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return undefined;
  return jsonString(v, at(parent, index, key));
}

/** `jsonNumber`, likewise. */
function numField(v: unknown, parent: string, index: number, key: string): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined || v === null) return undefined;
  return jsonNumber(v, at(parent, index, key));
}

/** `jsonUint`, likewise. */
function uintField(v: unknown, parent: string, index: number, key: string): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  if (v === undefined || v === null) return undefined;
  return jsonUint(v, at(parent, index, key));
}

/** The value under a snake_case key, or its camelCase spelling (`jsonPick`). */
function pick(o: Record<string, unknown>, snake: string, camel: string): unknown {
  const v = o[snake];
  return v === undefined ? o[camel] : v;
}

/**
 * Checks document `parent[index]` in `documentFromJson`'s order (so that the first error reported
 * is the same), then writes it in field-number order, as `DocumentProto.encode(documentToProto(doc))`.
 * `depth` is the protobuf nesting depth the generated encoder would count. Field names are built
 * only for errors: a valid document costs no string concatenation.
 */
function writeDocument(w: WireWriter, obj: unknown, parent: string, index: number, depth: number): void {
  if (depth > protobuf.util.recursionLimit) throw Error('max depth exceeded');
  if (!isJsonRecord(obj)) throw jsonFieldError(`${parent}[${index}]`, 'must be an object', obj);
  const tags = obj.tags;
  if (tags !== undefined && tags !== null && !isJsonRecord(tags))
    throw jsonFieldError(at(parent, index, 'tags'), 'must be an object', tags);
  const location = obj.location;
  if (location !== undefined && location !== null && !Array.isArray(location))
    throw jsonFieldError(at(parent, index, 'location'), 'must be a list of numbers', location);
  const blob = strField(obj.blob, parent, index, 'blob');
  const id = strField(obj.id, parent, index, 'id');
  const parentId = strField(pick(obj, 'parent_id', 'parentId'), parent, index, 'parent_id');
  const granularity = uintField(obj.granularity, parent, index, 'granularity');
  const adjacency = uintField(obj.adjacency, parent, index, 'adjacency');
  let mimeType = strField(pick(obj, 'mime_type', 'mimeType'), parent, index, 'mime_type');
  const weight = numField(obj.weight, parent, index, 'weight');
  const uri = strField(obj.uri, parent, index, 'uri');
  const offset = numField(obj.offset, parent, index, 'offset');
  const locations = (location as unknown[] | null | undefined)?.map(
    (x, i) => jsonNumber(x, `${at(parent, index, 'location')}[${i}]`) ?? 0,
  );
  const modality = strField(obj.modality, parent, index, 'modality');
  const scores = obj.scores == null ? undefined : jsonScores(obj.scores, at(parent, index, 'scores'));
  const evaluations =
    obj.evaluations == null ? undefined : jsonScores(obj.evaluations, at(parent, index, 'evaluations'));
  const chunks =
    obj.chunks == null ? undefined : subDocuments(obj.chunks, at(parent, index, 'chunks'), depth + 1);
  const matches =
    obj.matches == null ? undefined : subDocuments(obj.matches, at(parent, index, 'matches'), depth + 1);
  const embedding =
    obj.embedding == null ? undefined : jsonNdArray(obj.embedding, at(parent, index, 'embedding'));
  // content in docarray's field order (blob, tensor, text): the last one set wins
  const blobBytes = blob === undefined ? undefined : jsonBase64(blob, at(parent, index, 'blob'));
  const tensor = obj.tensor == null ? undefined : jsonNdArray(obj.tensor, at(parent, index, 'tensor'));
  const text = strField(obj.text, parent, index, 'text');
  // a Document's text setter: non-empty text gives `text/plain` when no mime type is set
  if (text !== undefined && text !== '' && !mimeType) mimeType = 'text/plain';

  w.tag(T.id).string(id ?? newDocumentId());
  if (text !== undefined) w.tag(T.text).string(text);
  else if (tensor !== undefined) writeNdArray(w, T.tensor, tensor, depth);
  else if (blobBytes !== undefined) w.tag(T.blob).bytes(blobBytes);
  if (granularity) w.tag(T.granularity).uint32(granularity);
  if (adjacency) w.tag(T.adjacency).uint32(adjacency);
  if (parentId) w.tag(T.parentId).string(parentId);
  if (weight) w.tag(T.weight).float(weight);
  if (uri) w.tag(T.uri).string(uri);
  if (modality) w.tag(T.modality).string(modality);
  if (mimeType) w.tag(T.mimeType).string(mimeType);
  if (offset) w.tag(T.offset).float(offset);
  if (locations !== undefined && locations.length > 0) {
    const field = w.fork(T.location);
    for (const x of locations) w.float(x);
    w.ldelim(field);
  }
  if (chunks) for (const c of chunks) w.tag(T.chunks).bytes(c);
  if (matches) for (const m of matches) w.tag(T.matches).bytes(m);
  if (embedding !== undefined) writeNdArray(w, T.embedding, embedding, depth);
  if (isJsonRecord(tags) && Object.keys(tags).length > 0) {
    const field = w.fork(T.tags);
    writeStruct(w, tags, depth + 1);
    w.ldelim(field);
  }
  if (scores) writeScores(w, T.scores, scores, depth);
  if (evaluations) writeScores(w, T.evaluations, evaluations, depth);
}

/**
 * Chunks or matches, each encoded on its own: they are checked (with their own chunks and
 * matches) before the parent's embedding and content, as `documentFromJson` checks them.
 */
function subDocuments(v: unknown, where: string, depth: number): Uint8Array[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw jsonFieldError(where, 'must be a list of documents', v);
  return v.map((d, i) => {
    const w = new WireWriter(256);
    writeDocument(w, d, where, i, depth);
    return w.finish();
  });
}

/** An `NdArrayProto` as `ndarrayToProto` builds it: dense bytes, shape, numpy dtype, `cls_name: 'numpy'`. */
function writeNdArray(w: WireWriter, tag: number, a: NdArray, depth: number): void {
  if (depth + 2 > protobuf.util.recursionLimit) throw Error('max depth exceeded');
  const field = w.fork(tag);
  const dense = w.fork(TAG_DENSE);
  w.tag(TAG_BUFFER).bytes(a.toBytes());
  if (a.shape.length > 0) {
    const shape = w.fork(TAG_SHAPE);
    for (const d of a.shape) w.uint32(d);
    w.ldelim(shape);
  }
  w.tag(TAG_DTYPE).string(numpyDTypeStr(a.dtype));
  w.ldelim(dense);
  w.tag(TAG_CLS_NAME).string('numpy');
  w.ldelim(field);
}

/** A `map<string, NamedScoreProto>`: only the non-default members of each score, as `scoresToProto`. */
function writeScores(w: WireWriter, tag: number, scores: Record<string, NamedScore>, depth: number): void {
  if (depth + 1 > protobuf.util.recursionLimit) throw Error('max depth exceeded');
  for (const name of Object.keys(scores)) {
    const s = scores[name]!;
    const entry = w.fork(tag);
    w.tag(10).string(name);
    const score = w.fork(18);
    if (s.value) w.tag(TAG_SCORE_VALUE).float(s.value);
    if (s.opName) w.tag(TAG_OP_NAME).string(s.opName);
    if (s.description) w.tag(TAG_DESCRIPTION).string(s.description);
    if (s.refId) w.tag(TAG_REF_ID).string(s.refId);
    w.ldelim(score);
    w.ldelim(entry);
  }
}
