/**
 * The one request builder: the Client, the Gateway's streamer, the Executor map and the JSON
 * bodies of HTTP/WebSocket/GraphQL all cut documents into DataRequests here, with one meaning of
 * `requestSize` (the original's `request_size`). It lives in the document layer because it encodes
 * documents (`src/proto/` sits below `src/document/`).
 */
import { randomUUID } from 'node:crypto';
import { Code, FlowgateError } from '../core/errors.js';
import { DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import { batchDocs } from './batch.js';
import { Document, type DocumentInit } from './document.js';
import { encodeDocs } from './proto-codec.js';

/** Documents per request when no `requestSize` is given: 100, as the original's `request_size`. */
export const DEFAULT_REQUEST_SIZE = 100;

/**
 * The documents per request a `requestSize` means: `undefined` -> {@link DEFAULT_REQUEST_SIZE},
 * `0` or less -> all documents in one request (`Infinity`), `n` -> `n`. A non-integer throws
 * INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * docsPerRequest(undefined); // 100
 * docsPerRequest(0); // Infinity: one request
 * ```
 */
export function docsPerRequest(requestSize: number | undefined): number {
  const n = requestSize ?? DEFAULT_REQUEST_SIZE;
  if (!Number.isInteger(n) && n !== Infinity)
    throw new FlowgateError(Code.InvalidArgument, 'requestSize must be an integer');
  return n > 0 ? n : Infinity;
}

/** What every request built from one call carries besides its documents. */
export interface RequestFields {
  /** `header.exec_endpoint`; default `/`. */
  endpoint?: string;
  targetExecutor?: string;
  parameters?: JsonObject;
  /** The first request's id (a client-given one); the others get new ids. */
  requestId?: string;
}

type DocSource = Iterable<Document | DocumentInit> | AsyncIterable<Document | DocumentInit>;

/**
 * A new request id: 32 hex digits, as the original's `uuid4().hex`. `randomUUID` draws from a
 * cached pool of random bytes: a fraction of the cost of `randomBytes(16)` per request.
 */
function newRequestId(): string {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
}

function requestOf(docs: readonly Document[], fields: RequestFields, first: boolean): DataRequest {
  return DataRequest.create({
    requestId: (first ? fields.requestId : undefined) ?? newRequestId(),
    endpoint: fields.endpoint ?? '/',
    targetExecutor: fields.targetExecutor,
    parameters: fields.parameters,
    docsBytes: encodeDocs(docs),
  });
}

/**
 * Cuts `docs` into DataRequests of `requestSize` documents (see {@link docsPerRequest}), lazily:
 * the source is read one request ahead of the consumer. No documents give one empty request.
 * `onBatch` hears each request's document count.
 *
 * @example
 * ```ts
 * for await (const req of buildRequests(docs, { endpoint: '/index' }, 10)) send(req);
 * ```
 */
export async function* buildRequests(
  docs: DocSource,
  fields: RequestFields,
  requestSize?: number,
  onBatch?: (docs: number) => void,
): AsyncGenerator<DataRequest> {
  const size = docsPerRequest(requestSize);
  let first = true;
  for await (const batch of batchDocs(docs, size)) {
    onBatch?.(batch.length);
    yield requestOf(batch, fields, first);
    first = false;
  }
}

/**
 * {@link buildRequests} for documents already in memory, all at once.
 *
 * @example
 * ```ts
 * const requests = buildRequestsSync(da, { endpoint: '/' }, 0); // one request
 * ```
 */
export function buildRequestsSync(
  docs: Iterable<Document | DocumentInit>,
  fields: RequestFields,
  requestSize?: number,
): DataRequest[] {
  const size = docsPerRequest(requestSize);
  const all = [...docs].map((d) => (d instanceof Document ? d : new Document(d)));
  const out: DataRequest[] = [];
  for (let i = 0; i === 0 || i < all.length; i += size) {
    // plain arrays: a DocumentArray (an Array subclass) is slow to build and adds nothing here
    out.push(requestOf(all.length <= size ? all : all.slice(i, i + size), fields, i === 0));
    if (all.length === 0) break;
  }
  return out;
}
