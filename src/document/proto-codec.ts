/**
 * Documents to and from the wire's `docarray.DocumentProto` / `DocumentArrayProto`, as docarray
 * < 0.30 writes them: default values are left out, tensors are `DenseNdArrayProto`s of raw
 * little-endian bytes with numpy's `dtype.str` (`'<f4'`) and `cls_name: 'numpy'`, tags are a
 * `google.protobuf.Struct`.
 *
 * @example
 * ```ts
 * const bytes = encodeDocs(new DocumentArray([{ text: 'hello' }]));
 * decodeDocs(bytes)[0]?.text; // 'hello'
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import { jsonToStruct, structToJson } from '../proto/struct.js';
import { docarray } from '../proto/wire.js';
import { Document, nestedDocs, type NamedScore } from './document.js';
import { DocumentArray } from './document-array.js';
import { numpyDTypeStr } from './dtype.js';
import { NdArray } from './ndarray.js';

type IDocumentProto = docarray.IDocumentProto;
type INdArrayProto = docarray.INdArrayProto;
type INamedScoreProto = docarray.INamedScoreProto;

/** A plain `Uint8Array` view of bytes that protobufjs may hand out as a Node `Buffer`. */
function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * An {@link NdArray} as an `NdArrayProto`; the buffer is a view of the array's memory.
 *
 * @example
 * ```ts
 * ndarrayToProto(NdArray.from([1], { dtype: 'float32' })).dense?.dtype; // '<f4'
 * ```
 */
export function ndarrayToProto(a: NdArray): INdArrayProto {
  return { dense: { buffer: a.toBytes(), shape: a.shape, dtype: numpyDTypeStr(a.dtype) }, clsName: 'numpy' };
}

/**
 * An `NdArrayProto` as an {@link NdArray}, or `undefined` when it holds nothing (no dense part, or
 * neither bytes nor shape, as docarray reads it). Decoding views the message's memory when aligned. Sparse arrays and dtypes other
 * than numeric/bool fail with `InvalidArgument`; `field` names the field in the message.
 *
 * @example
 * ```ts
 * ndarrayFromProto({ dense: { buffer: new Uint8Array(4), shape: [1], dtype: '<f4' } })?.toArray(); // [0]
 * ```
 */
export function ndarrayFromProto(p: INdArrayProto | null | undefined, field = 'tensor'): NdArray | undefined {
  if (!p) return undefined;
  if (p.sparse) {
    throw new FlowgateError(
      Code.InvalidArgument,
      `${field}: sparse arrays (cls_name '${p.clsName ?? ''}') are not supported; send a dense array`,
    );
  }
  const dense = p.dense;
  if (!dense) return undefined;
  const shape = dense.shape ?? [];
  const buffer = dense.buffer ?? new Uint8Array(0);
  // docarray reads no bytes and no shape as no array (and no bytes with a shape as zeros, which
  // we only accept for zero-size shapes: a non-empty shape without data is an error here)
  if (buffer.byteLength === 0 && shape.length === 0) return undefined;
  try {
    const dtype = dense.dtype || (buffer.byteLength === 0 ? 'float64' : '');
    return NdArray.fromBytes(plainBytes(buffer), shape, dtype);
  } catch (err) {
    if (!(err instanceof FlowgateError)) throw err;
    throw new FlowgateError(Code.InvalidArgument, `${field}: ${err.message}`, { cause: err });
  }
}

function scoresToProto(scores: Record<string, NamedScore>): Record<string, INamedScoreProto> | undefined {
  let out: Record<string, INamedScoreProto> | undefined;
  for (const [name, s] of Object.entries(scores)) {
    const p: INamedScoreProto = {};
    if (s.value) p.value = s.value;
    if (s.opName) p.opName = s.opName;
    if (s.description) p.description = s.description;
    if (s.refId) p.refId = s.refId;
    (out ??= {})[name] = p;
  }
  return out;
}

function scoresFromProto(m: Record<string, INamedScoreProto> | null | undefined): Record<string, NamedScore> {
  const out: Record<string, NamedScore> = {};
  if (!m) return out;
  for (const name of Object.keys(m)) {
    const p = m[name]!;
    const s: NamedScore = { value: p.value ?? 0 };
    if (p.opName) s.opName = p.opName;
    if (p.description) s.description = p.description;
    if (p.refId) s.refId = p.refId;
    out[name] = s;
  }
  return out;
}

/**
 * A Document as a `DocumentProto` object ready for `docarray.DocumentProto.encode`. Only fields
 * that differ from their defaults are set, as the Python original writes them.
 *
 * @example
 * ```ts
 * documentToProto(new Document({ id: 'a', text: 'hi' })); // { id: 'a', text: 'hi', mimeType: 'text/plain' }
 * ```
 */
export function documentToProto(doc: Document): IDocumentProto {
  const p: IDocumentProto = { id: doc.id };
  if (doc.text !== undefined) p.text = doc.text;
  else if (doc.blob !== undefined) p.blob = doc.blob;
  else if (doc.tensor !== undefined) p.tensor = ndarrayToProto(doc.tensor);
  if (doc.granularity) p.granularity = doc.granularity;
  if (doc.adjacency) p.adjacency = doc.adjacency;
  if (doc.parentId) p.parentId = doc.parentId;
  if (doc.weight) p.weight = doc.weight;
  if (doc.uri) p.uri = doc.uri;
  if (doc.modality) p.modality = doc.modality;
  if (doc.mimeType) p.mimeType = doc.mimeType;
  if (doc.offset) p.offset = doc.offset;
  if (doc.location.length > 0) p.location = doc.location;
  // read without creating them: most Documents have neither
  const [chunks, matches] = nestedDocs(doc);
  if (chunks !== undefined && chunks.length > 0) p.chunks = chunks.map(documentToProto);
  if (matches !== undefined && matches.length > 0) p.matches = matches.map(documentToProto);
  if (doc.embedding !== undefined) p.embedding = ndarrayToProto(doc.embedding);
  if (Object.keys(doc.tags).length > 0) p.tags = jsonToStruct(doc.tags);
  const scores = scoresToProto(doc.scores);
  if (scores) p.scores = scores;
  const evaluations = scoresToProto(doc.evaluations);
  if (evaluations) p.evaluations = evaluations;
  return p;
}

/**
 * A Document from a `DocumentProto` (a decoded message or a plain object). An empty id gets a new
 * random one, as docarray does (`parse_proto` only passes non-default fields on).
 *
 * @example
 * ```ts
 * documentFromProto(docarray.DocumentProto.decode(bytes));
 * ```
 */
export function documentFromProto(p: IDocumentProto): Document {
  const doc = new Document({
    id: p.id || undefined,
    tags: p.tags ? structToJson(p.tags) : {},
    granularity: p.granularity ?? 0,
    adjacency: p.adjacency ?? 0,
    location: p.location && p.location.length > 0 ? Array.from(p.location) : [],
    scores: scoresFromProto(p.scores),
    evaluations: scoresFromProto(p.evaluations),
    chunks: p.chunks && p.chunks.length > 0 ? p.chunks.map(documentFromProto) : undefined,
    matches: p.matches && p.matches.length > 0 ? p.matches.map(documentFromProto) : undefined,
  });
  if (p.uri) doc.uri = p.uri;
  if (p.mimeType) doc.mimeType = p.mimeType;
  if (p.parentId) doc.parentId = p.parentId;
  if (p.weight) doc.weight = p.weight;
  if (p.modality) doc.modality = p.modality;
  if (p.offset) doc.offset = p.offset;
  if (p.text != null) doc.text = p.text;
  else if (p.blob != null) doc.blob = plainBytes(p.blob);
  else if (p.tensor != null) doc.tensor = ndarrayFromProto(p.tensor, 'tensor');
  if (p.embedding != null) doc.embedding = ndarrayFromProto(p.embedding, 'embedding');
  return doc;
}

/**
 * A DocumentArray as a `DocumentArrayProto` object.
 *
 * @example
 * ```ts
 * docarray.DocumentArrayProto.encode(docsToProto(da)).finish();
 * ```
 */
export function docsToProto(docs: Iterable<Document>): docarray.IDocumentArrayProto {
  const out: IDocumentProto[] = [];
  for (const d of docs) out.push(documentToProto(d));
  return { docs: out };
}

/**
 * A DocumentArray from a `DocumentArrayProto` (decoded or plain).
 *
 * @example
 * ```ts
 * docsFromProto({ docs: [{ id: 'a', text: 'x' }] })[0]?.text; // 'x'
 * ```
 */
export function docsFromProto(p: docarray.IDocumentArrayProto | null | undefined): DocumentArray {
  return new DocumentArray((p?.docs ?? []).map(documentFromProto));
}

/**
 * Encodes Documents as the bytes of a `docarray.DocumentArrayProto` (what `docs_bytes` carries).
 *
 * @example
 * ```ts
 * encodeDocs([new Document({ text: 'hi' })]);
 * ```
 */
export function encodeDocs(docs: Iterable<Document>): Uint8Array {
  return docarray.DocumentArrayProto.encode(docsToProto(docs)).finish();
}

/**
 * Decodes the bytes of a `docarray.DocumentArrayProto`. Malformed bytes fail with
 * `InvalidArgument`.
 *
 * @example
 * ```ts
 * decodeDocs(encodeDocs(da)).length === da.length; // true
 * ```
 */
export function decodeDocs(bytes: Uint8Array): DocumentArray {
  let msg: docarray.DocumentArrayProto;
  try {
    msg = docarray.DocumentArrayProto.decode(bytes);
  } catch (err) {
    throw new FlowgateError(Code.InvalidArgument, `malformed DocumentArrayProto: ${String(err)}`, {
      cause: err,
    });
  }
  return docsFromProto(msg);
}
