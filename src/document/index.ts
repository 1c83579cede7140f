/**
 * Documents, DocumentArrays and n-d arrays (docarray < 0.30's data model) with their protobuf and
 * JSON codecs.
 *
 * @example
 * ```ts
 * import { Document, DocumentArray, encodeDocs, decodeDocs } from './document/index.js';
 * const da = new DocumentArray([new Document({ text: 'hello' })]);
 * decodeDocs(encodeDocs(da)).texts; // ['hello']
 * ```
 */
export { Document, newDocumentId, toNdArray } from './document.js';
export type { DocumentInit, NamedScore, NdArrayLike } from './document.js';
export { DocumentArray } from './document-array.js';
export { batchDocs } from './batch.js';
export { NdArray } from './ndarray.js';
export type { NdArrayFromOptions, NdValue, NestedNumbers } from './ndarray.js';
export { isDType, numpyDTypeStr, parseDType } from './dtype.js';
export type { DType, TypedArray } from './dtype.js';
export {
  decodeDocs,
  docsFromProto,
  docsToProto,
  documentFromProto,
  documentToProto,
  encodeDocs,
  ndarrayFromProto,
  ndarrayToProto,
} from './proto-codec.js';
export {
  docsFromJson,
  docsToJson,
  documentFromJson,
  documentToJson,
  ndarrayToJsonBase64,
  usesBase64Tensors,
  type DocsToJsonOptions,
} from './json-codec.js';
export { docsJsonToWire, writeDocsJson } from './json-wire.js';
export { writeStruct } from './json-wire-struct.js';
export { WireWriter } from './wire-writer.js';
export { DEFAULT_REQUEST_SIZE, buildRequests, buildRequestsSync, docsPerRequest } from './requests.js';
export type { RequestFields } from './requests.js';
