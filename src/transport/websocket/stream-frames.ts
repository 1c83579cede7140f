import { FlowgateError, type Code } from '../../core/errors.js';
import { documentFromJson, documentToJson } from '../../document/index.js';
import { StatusCode } from '../../proto/request.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../proto/struct.js';
import {
  createStreamDocRequest,
  isStreamError,
  type StreamDocRequest,
} from '../../document/stream-request.js';

/**
 * Streams on the WebSocket data socket (`/`), in text frames of JSON whatever the subprotocol, so
 * that several streams (and ordinary requests) share one socket:
 * - client: `{"streamDoc": {"requestId", "execEndpoint", "parameters", "document"}}` (and
 *   optionally `"targetExecutor"`) starts one;
 *   `{"cancelStream": "<requestId>"}` cancels it;
 * - Gateway: `{"stream": "<requestId>", "event": "update", "document": {...}}` per item, then
 *   `{"stream": id, "event": "end"}`, or `{"stream": id, "event": "error", "error": {name, message,
 *   executor, description}}` which ends it; an error of the Gateway itself (no Executor: no
 *   streaming endpoint, a bad `targetExecutor`...) adds its status `code` (gRPC numbering).
 */

/** A decoded client frame about streams, or undefined when the frame is not one. */
export type StreamClientFrame =
  { kind: 'start'; request: StreamDocRequest } | { kind: 'cancel'; requestId: string };

/** Reads a client frame that starts or cancels a stream; undefined for any other frame. */
export function decodeStreamClientFrame(text: string): StreamClientFrame | undefined {
  if (!text.startsWith('{"streamDoc"') && !text.startsWith('{"cancelStream"')) return undefined;
  const body = JSON.parse(text) as JsonValue;
  if (!isJsonObject(body)) return undefined;
  if (typeof body.cancelStream === 'string') return { kind: 'cancel', requestId: body.cancelStream };
  const s = body.streamDoc;
  if (!isJsonObject(s)) return undefined;
  const parameters = isJsonObject(s.parameters) ? s.parameters : {};
  const request = createStreamDocRequest({
    endpoint: typeof s.execEndpoint === 'string' ? s.execEndpoint : '/',
    doc: documentFromJson(s.document ?? {}, 'streamDoc.document'),
    parameters,
    ...(typeof s.requestId === 'string' && s.requestId ? { requestId: s.requestId } : {}),
    ...(typeof s.targetExecutor === 'string' && s.targetExecutor ? { targetExecutor: s.targetExecutor } : {}),
  });
  return { kind: 'start', request };
}

/** The client frame that starts `request`. */
export function encodeStreamStart(request: StreamDocRequest): string {
  const s: JsonObject = {
    requestId: request.header.requestId ?? '',
    execEndpoint: request.header.execEndpoint ?? '/',
    parameters: request.parameters,
  };
  if (request.document) s.document = documentToJson(request.document);
  if (request.header.targetExecutor) s.targetExecutor = request.header.targetExecutor;
  return JSON.stringify({ streamDoc: s });
}

/** The Gateway's frame for one item (or the error that ends the stream). */
export function encodeStreamItem(requestId: string, item: StreamDocRequest): string {
  if (isStreamError(item)) {
    const st = item.header.status;
    const ex = st?.exception;
    const error = {
      name: ex?.name ?? 'Error',
      message: ex?.args?.[0] ?? st?.description ?? '',
      executor: ex?.executor ?? '',
      description: st?.description ?? '',
    };
    return JSON.stringify({ stream: requestId, event: 'error', error });
  }
  return JSON.stringify({
    stream: requestId,
    event: 'update',
    document: item.document ? documentToJson(item.document) : {},
  });
}

/** The Gateway's frame for its own error `err` (not an Executor's), with the status code. */
export function encodeStreamFailure(requestId: string, err: FlowgateError): string {
  const error = {
    name: err.name,
    message: err.message,
    executor: '',
    description: err.message,
    code: err.code,
  };
  return JSON.stringify({ stream: requestId, event: 'error', error });
}

/** The Gateway's frame that ends a stream. */
export function encodeStreamEnd(requestId: string): string {
  return JSON.stringify({ stream: requestId, event: 'end' });
}

/** A Gateway frame about a stream, read by the client: an item, the end, or an error item. */
export function decodeStreamServerFrame(
  text: string,
): { requestId: string; item?: StreamDocRequest; failure?: FlowgateError; end: boolean } | undefined {
  if (!text.startsWith('{"stream"')) return undefined;
  const body = JSON.parse(text) as JsonValue;
  if (!isJsonObject(body) || typeof body.stream !== 'string') return undefined;
  const requestId = body.stream;
  if (body.event === 'end') return { requestId, end: true };
  if (body.event === 'error') {
    const e = isJsonObject(body.error) ? body.error : {};
    const str = (v: JsonValue | undefined) => (typeof v === 'string' ? v : '');
    if (typeof e.code === 'number' && !str(e.executor))
      return { requestId, failure: new FlowgateError(e.code as Code, str(e.message)), end: true };
    const item: StreamDocRequest = {
      header: {
        requestId,
        status: {
          code: StatusCode.ERROR,
          description: str(e.description) || str(e.message),
          exception: {
            name: str(e.name) || 'Error',
            args: [str(e.message)],
            stacks: [],
            executor: str(e.executor),
          },
        },
      },
      parameters: {},
      routes: [],
      document: undefined,
    };
    return { requestId, item, end: true };
  }
  const document = documentFromJson(body.document ?? {}, 'document');
  return { requestId, item: { header: { requestId }, parameters: {}, routes: [], document }, end: false };
}
