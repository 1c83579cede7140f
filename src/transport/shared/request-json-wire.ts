import { randomUUID } from 'node:crypto';
import { decodeDocs, WireWriter, writeDocsJson, writeStruct } from '../../document/index.js';
import { DataRequest } from '../../proto/request.js';
import {
  parseJsonRequestHead,
  unprocessableDocs,
  type JsonRequestFields,
  type JsonRequestHead,
  type ParseJsonRequestOptions,
} from './request-json.js';

/**
 * A JSON request body (`/post`, `/index`, ...) written straight as the bytes of one
 * `jina.DataRequestProto`, for `GatewayStreamer.processBytes`: no Document objects are built.
 * The bytes are those of `toDataRequests(parseJsonRequest(body, options), 0)[0].encode()` (with
 * the same generated ids), the checks and error messages those of `parseJsonRequest`.
 */

/** A JSON body as a serialised request, with what its answer needs to know. */
export interface JsonWireRequest {
  /** The serialised `DataRequestProto`: header, parameters, all documents in one request. */
  bytes: Uint8Array;
  /** Its request id (the body's `header.request_id`, or a new one). */
  requestId: string;
  /** The body's fields but its documents (endpoint, target, parameters, tensor form). */
  head: JsonRequestHead;
}

/** Tags of `DataRequestProto` and `HeaderProto` (field number << 3 | wire type 2). */
const TAG_HEADER = 10;
const TAG_PARAMETERS = 18;
const TAG_DATA = 34;
const TAG_DOCS = 10;
const TAG_REQUEST_ID = 10;
const TAG_EXEC_ENDPOINT = 26;
const TAG_TARGET_EXECUTOR = 34;

/**
 * A new request id, 32 hex digits, as `buildRequests` draws it (`randomUUID`'s cached pool of
 * random bytes, a fraction of the cost of `randomBytes(16)`).
 */
function newRequestId(): string {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
}

/**
 * Checks a JSON request body and writes it as one serialised `DataRequestProto` (every document
 * in one request, as the HTTP data routes send them).
 *
 * @throws FlowgateError InvalidArgument (HTTP 422) naming the field, as `parseJsonRequest`.
 *
 * @example
 * ```ts
 * const { bytes } = jsonRequestToWire({ data: [{ text: 'hi' }] }, { endpoint: '/index' });
 * const answer = await streamer.processBytes(bytes);
 * ```
 */
export function jsonRequestToWire(body: unknown, options: ParseJsonRequestOptions = {}): JsonWireRequest {
  const head = parseJsonRequestHead(body, options);
  const requestId = head.requestId ?? newRequestId();
  const w = WireWriter.scratch();
  const header = w.fork(TAG_HEADER);
  w.tag(TAG_REQUEST_ID).string(requestId).tag(TAG_EXEC_ENDPOINT).string(head.endpoint);
  if (head.targetExecutor) w.tag(TAG_TARGET_EXECUTOR).string(head.targetExecutor);
  w.ldelim(header);
  if (head.parameters) {
    const at = w.fork(TAG_PARAMETERS);
    writeStruct(w, head.parameters);
    w.ldelim(at);
  }
  const data = w.fork(TAG_DATA);
  const docs = w.fork(TAG_DOCS);
  try {
    writeDocsJson(w, head.data);
  } catch (err) {
    throw unprocessableDocs(err);
  }
  w.ldelim(docs).ldelim(data);
  return { bytes: w.finishCopy(), requestId, head };
}

/**
 * The fields of a request written by {@link jsonRequestToWire}, its documents decoded (with the
 * ids they were sent with): what a 503/504 answer echoes back.
 *
 * @example
 * ```ts
 * networkErrorBody(err, jsonWireFields(request), request.requestId);
 * ```
 */
export function jsonWireFields(request: JsonWireRequest): JsonRequestFields {
  const { head } = request;
  const fields: JsonRequestFields = {
    endpoint: head.endpoint,
    docs: decodeDocs(DataRequest.decode(request.bytes).docsBytes),
  };
  if (head.targetExecutor) fields.targetExecutor = head.targetExecutor;
  if (head.parameters) fields.parameters = head.parameters;
  if (head.requestId) fields.requestId = head.requestId;
  if (head.tensors) fields.tensors = head.tensors;
  return fields;
}
