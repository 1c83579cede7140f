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
import { jsonToStruct } from '../proto/struct.js';
import { docarray, google } from '../proto/wire.js';
import { newDocumentId, type NamedScore } from './document.js';
import {
  isJsonRecord,
  jsonBase64,
  jsonFieldError,
  jsonNdArray,
  jsonNumber,
  jsonPick,
  jsonScores,
  jsonString,
  jsonUint,
} from './json-codec.js';
import type { NdArray } from './ndarray.js';
import { ndarrayToProto } from './proto-codec.js';

const { Writer, util } = protobuf;
type Writer = protobuf.Writer;

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
/** The generated encoders take the nesting depth as a third argument (their types leave it out). */
type EncodeAt<T> = { encode(m: T, w: Writer, depth: number): Writer };
const StructAt = google.protobuf.Struct as unknown as EncodeAt<google.protobuf.IStruct>;
const NdArrayAt = docarray.NdArrayProto as unknown as EncodeAt<docarray.INdArrayProto>;
const ScoreAt = docarray.NamedScoreProto as unknown as EncodeAt<docarray.INamedScoreProto>;
/** `DocumentArrayProto.docs = 1`. */
const TAG_DOCS = 10;

/**
 * Writes the documents of a request's `data` (a list of documents or `{"docs": [...]}`; `null` /
 * `undefined` for none) into `w` as the fields of a `DocumentArrayProto`. Throws what
 * `docsFromJson` throws, e.g. `data[0].text must be a string, got number 1`.
 *
 * @example
 * ```ts
 * const w = protobuf.Writer.create();
 * writeDocsJson(w, body.data);
 * ```
 */
export function writeDocsJson(w: Writer, data: unknown, where = 'data'): void {
  if (data === undefined || data === null) return;
  let list: unknown = data;
  let at = where;
  if (isJsonRecord(data)) {
    list = data.docs ?? [];
    at = `${where}.docs`;
  } else if (!Array.isArray(data)) {
    throw jsonFieldError(where, 'must be a list of documents or {"docs": [...]}', data);
  }
  if (!Array.isArray(list)) throw jsonFieldError(at, 'must be a list of documents', list);
  for (let i = 0; i < list.length; i++) {
    w.uint32(TAG_DOCS).fork();
    writeDocument(w, list[i], `${at}[${i}]`, 1);
    w.ldelim();
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
  const w = Writer.create();
  writeDocsJson(w, data, where);
  return w.finish();
}

/**
 * Checks one document in `documentFromJson`'s order (so that the first error reported is the
 * same), then writes it in field-number order, as `DocumentProto.encode(documentToProto(doc))`.
 * `depth` is the protobuf nesting depth the generated encoder would count.
 */
function writeDocument(w: Writer, obj: unknown, where: string, depth: number): void {
  if (depth > util.recursionLimit) throw Error('max depth exceeded');
  if (!isJsonRecord(obj)) throw jsonFieldError(where, 'must be an object', obj);
  const tags = obj.tags;
  if (tags !== undefined && tags !== null && !isJsonRecord(tags))
    throw jsonFieldError(`${where}.tags`, 'must be an object', tags);
  const location = obj.location;
  if (location !== undefined && location !== null && !Array.isArray(location))
    throw jsonFieldError(`${where}.location`, 'must be a list of numbers', location);
  const blob = jsonString(obj.blob, `${where}.blob`);
  const id = jsonString(obj.id, `${where}.id`);
  const parentId = jsonString(jsonPick(obj, 'parent_id', 'parentId'), `${where}.parent_id`);
  const granularity = jsonUint(obj.granularity, `${where}.granularity`);
  const adjacency = jsonUint(obj.adjacency, `${where}.adjacency`);
  let mimeType = jsonString(jsonPick(obj, 'mime_type', 'mimeType'), `${where}.mime_type`);
  const weight = jsonNumber(obj.weight, `${where}.weight`);
  const uri = jsonString(obj.uri, `${where}.uri`);
  const offset = jsonNumber(obj.offset, `${where}.offset`);
  const locations = (location as unknown[] | null | undefined)?.map(
    (x, i) => jsonNumber(x, `${where}.location[${i}]`) ?? 0,
  );
  const modality = jsonString(obj.modality, `${where}.modality`);
  const scores = jsonScores(obj.scores, `${where}.scores`);
  const evaluations = jsonScores(obj.evaluations, `${where}.evaluations`);
  const chunks = subDocuments(obj.chunks, `${where}.chunks`, depth + 1);
  const matches = subDocuments(obj.matches, `${where}.matches`, depth + 1);
  const embedding = jsonNdArray(obj.embedding, `${where}.embedding`);
  // content in docarray's field order (blob, tensor, text): the last one set wins
  const blobBytes = blob === undefined ? undefined : jsonBase64(blob, `${where}.blob`);
  const tensor = jsonNdArray(obj.tensor, `${where}.tensor`);
  const text = jsonString(obj.text, `${where}.text`);
  // a Document's text setter: non-empty text gives `text/plain` when no mime type is set
  if (text !== undefined && text !== '' && !mimeType) mimeType = 'text/plain';

  w.uint32(T.id).string(id ?? newDocumentId());
  if (text !== undefined) w.uint32(T.text).string(text);
  else if (tensor !== undefined) writeNdArray(w, T.tensor, tensor, depth);
  else if (blobBytes !== undefined) w.uint32(T.blob).bytes(blobBytes);
  if (granularity) w.uint32(T.granularity).uint32(granularity);
  if (adjacency) w.uint32(T.adjacency).uint32(adjacency);
  if (parentId) w.uint32(T.parentId).string(parentId);
  if (weight) w.uint32(T.weight).float(weight);
  if (uri) w.uint32(T.uri).string(uri);
  if (modality) w.uint32(T.modality).string(modality);
  if (mimeType) w.uint32(T.mimeType).string(mimeType);
  if (offset) w.uint32(T.offset).float(offset);
  if (locations !== undefined && locations.length > 0) {
    w.uint32(T.location).fork();
    for (const x of locations) w.float(x);
    w.ldelim();
  }
  if (chunks) for (const c of chunks) w.uint32(T.chunks).bytes(c);
  if (matches) for (const m of matches) w.uint32(T.matches).bytes(m);
  if (embedding !== undefined) writeNdArray(w, T.embedding, embedding, depth);
  if (isJsonRecord(tags) && Object.keys(tags).length > 0)
    StructAt.encode(jsonToStruct(tags), w.uint32(T.tags).fork(), depth + 1).ldelim();
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
    const w = Writer.create();
    writeDocument(w, d, `${where}[${i}]`, depth);
    return w.finish();
  });
}

function writeNdArray(w: Writer, tag: number, a: NdArray, depth: number): void {
  NdArrayAt.encode(ndarrayToProto(a), w.uint32(tag).fork(), depth + 1).ldelim();
}

/** A `map<string, NamedScoreProto>`: only the non-default members of each score, as `scoresToProto`. */
function writeScores(w: Writer, tag: number, scores: Record<string, NamedScore>, depth: number): void {
  for (const name of Object.keys(scores)) {
    const s = scores[name]!;
    const p: docarray.INamedScoreProto = {};
    if (s.value) p.value = s.value;
    if (s.opName) p.opName = s.opName;
    if (s.description) p.description = s.description;
    if (s.refId) p.refId = s.refId;
    w.uint32(tag).fork().uint32(10).string(name);
    ScoreAt.encode(p, w.uint32(18).fork(), depth + 1)
      .ldelim()
      .ldelim();
  }
}
