import type { Document } from './document.js';
import { executorErrorOfStatus, newRequestId, statusFromError, StatusCode } from '../proto/request.js';

export { executorErrorOfStatus };
import type { JsonObject } from '../proto/struct.js';
import type { jina } from '../proto/wire.js';

/**
 * One message of a `stream_doc` call (`jina.SingleDocumentRequestProto`): the request (the input
 * document) and each streamed item (an output document), or an error item whose header carries an
 * ERROR status (the stream then ends).
 *
 * @example
 * ```ts
 * const req = createStreamDocRequest({ endpoint: '/generate', doc: new Document({ text: 'a b' }) });
 * req.header.execEndpoint; // '/generate'
 * ```
 */
export interface StreamDocRequest {
  header: jina.IHeaderProto;
  parameters: JsonObject;
  routes: jina.IRouteProto[];
  document: Document | undefined;
}

/** Builds a stream request; `requestId` defaults to a fresh id. */
export function createStreamDocRequest(init: {
  endpoint: string;
  doc?: Document;
  parameters?: JsonObject;
  requestId?: string;
  targetExecutor?: string;
}): StreamDocRequest {
  const header: jina.IHeaderProto = {
    requestId: init.requestId ?? newRequestId(),
    execEndpoint: init.endpoint,
  };
  if (init.targetExecutor) header.targetExecutor = init.targetExecutor;
  return { header, parameters: init.parameters ?? {}, routes: [], document: init.doc };
}

/** An item that reports `err` raised in `executor` (the stream ends after it). */
export function streamErrorItem(requestId: string, err: unknown, executor: string): StreamDocRequest {
  return {
    header: { requestId, status: statusFromError(err, executor) },
    parameters: {},
    routes: [],
    document: undefined,
  };
}

/** True when the item carries an ERROR status. */
export function isStreamError(item: StreamDocRequest): boolean {
  return Number(item.header.status?.code ?? 0) === StatusCode.ERROR;
}

/** The documents of a stream of items; an error item throws its ExecutorError. */
export async function* itemDocuments(items: AsyncIterable<StreamDocRequest>): AsyncGenerator<Document> {
  for await (const item of items) {
    if (isStreamError(item)) throw executorErrorOfStatus(item.header.status);
    if (item.document) yield item.document;
  }
}
