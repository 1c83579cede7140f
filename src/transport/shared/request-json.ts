import { Code, FlowgateError } from '../../core/errors.js';
import {
  buildRequestsSync,
  decodeDocs,
  docsFromJson,
  docsToJson,
  DEFAULT_REQUEST_SIZE,
  encodeDocs,
  usesBase64Tensors,
  type DocsToJsonOptions,
  type DocumentArray,
} from '../../document/index.js';
import { DataRequest, StatusCode } from '../../proto/request.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../proto/struct.js';
import type { jina } from '../../proto/wire.js';

/**
 * The JSON form of requests and responses shared by the HTTP `/post` API, WebSocket `json` mode
 * and the HTTP/WebSocket clients: what the original's `JinaEndpointRequestModel` accepts and what
 * its `DataRequest.to_dict()` returns (see docs/wire-json.md).
 */

/** A request body once checked: everything needed to build DataRequests. */
export interface JsonRequestFields {
  endpoint: string;
  targetExecutor?: string;
  parameters?: JsonObject;
  requestId?: string;
  docs: DocumentArray;
  /** `base64` when a document of the body carried a tensor in the base64 form: answer in it too. */
  tensors?: 'base64';
}

/** Options of {@link parseJsonRequest}. */
export interface ParseJsonRequestOptions {
  /** The endpoint fixed by the route (`/index`, an exposed endpoint...); wins over the body. */
  endpoint?: string;
  /** The endpoint when neither the route nor the body gives one. Default `'/'`. */
  defaultEndpoint?: string;
}

/** `Unprocessable` errors name the field; they map to HTTP 422 through `details.httpStatus`. */
function unprocessable(message: string): FlowgateError {
  return new FlowgateError(Code.InvalidArgument, message, { details: { httpStatus: 422 } });
}

function pick(o: JsonObject, ...keys: string[]): JsonValue | undefined {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function optionalString(o: JsonObject, where: string, ...keys: string[]): string | undefined {
  const v = pick(o, ...keys);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw unprocessable(`${where}${keys[0]} must be a string, got ${typeOf(v)}`);
  return v;
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v;
}

/**
 * Checks a `/post` body (or a WebSocket json frame) and extracts its fields. Accepts camelCase and
 * snake_case (`execEndpoint` / `exec_endpoint`, `targetExecutor` / `target_executor`), `data` as a
 * list of documents or `{"docs": [...]}`, and, as the Go client sends them, the endpoint, target and
 * request id inside `header`. Unknown keys are ignored, as the original does.
 *
 * @throws FlowgateError InvalidArgument (HTTP 422) naming the field when the shape is wrong.
 *
 * @example
 * ```ts
 * parseJsonRequest({ data: [{ text: 'hi' }], execEndpoint: '/foo' }).endpoint; // '/foo'
 * ```
 */
export function parseJsonRequest(body: unknown, options: ParseJsonRequestOptions = {}): JsonRequestFields {
  const head = parseJsonRequestHead(body, options);
  let docs: DocumentArray;
  try {
    docs = docsFromJson(head.data);
  } catch (err) {
    throw unprocessableDocs(err);
  }
  const out: JsonRequestFields = { endpoint: head.endpoint, docs };
  if (head.targetExecutor) out.targetExecutor = head.targetExecutor;
  if (head.parameters) out.parameters = head.parameters;
  if (head.requestId) out.requestId = head.requestId;
  if (head.tensors) out.tensors = head.tensors;
  return out;
}

/** The fields of a request body but its documents, checked; `data` as the body has it. */
export interface JsonRequestHead extends Omit<JsonRequestFields, 'docs'> {
  /** The body's `data`, not yet read (`null` when absent). */
  data: JsonValue;
}

/**
 * The checks of {@link parseJsonRequest} but for the documents, in the same order: what a writer
 * that reads `data` itself (`writeDocsJson`) needs. Its errors are {@link parseJsonRequest}'s.
 *
 * @example
 * ```ts
 * parseJsonRequestHead({ execEndpoint: '/foo', data: [] }).endpoint; // '/foo'
 * ```
 */
export function parseJsonRequestHead(body: unknown, options: ParseJsonRequestOptions = {}): JsonRequestHead {
  if (!isJsonObject(body)) throw unprocessable(`the request body must be a JSON object, got ${typeOf(body)}`);
  const rawHeader = body.header;
  if (rawHeader !== undefined && rawHeader !== null && !isJsonObject(rawHeader))
    throw unprocessable(`header must be an object, got ${typeOf(rawHeader)}`);
  const header = isJsonObject(rawHeader) ? rawHeader : {};
  const endpoint =
    options.endpoint ??
    optionalString(body, '', 'execEndpoint', 'exec_endpoint') ??
    optionalString(header, 'header.', 'exec_endpoint', 'execEndpoint') ??
    options.defaultEndpoint ??
    '/';
  const targetExecutor =
    optionalString(body, '', 'targetExecutor', 'target_executor') ??
    optionalString(header, 'header.', 'target_executor', 'targetExecutor');
  const requestId = optionalString(header, 'header.', 'request_id', 'requestId');
  const parameters = body.parameters;
  if (parameters !== undefined && parameters !== null && !isJsonObject(parameters))
    throw unprocessable(`parameters must be an object, got ${typeOf(parameters)}`);
  const out: JsonRequestHead = { endpoint, data: body.data ?? null };
  if (targetExecutor) out.targetExecutor = targetExecutor;
  if (isJsonObject(parameters)) out.parameters = parameters;
  if (requestId) out.requestId = requestId;
  if (usesBase64Tensors(body.data)) out.tensors = 'base64';
  return out;
}

/** An error reading a body's documents as {@link parseJsonRequest} reports it (422 when it is the body's fault). */
export function unprocessableDocs(err: unknown): unknown {
  return err instanceof FlowgateError ? unprocessable(err.message) : err;
}

/**
 * Splits parsed fields into DataRequests of at most `requestSize` documents (the original's
 * `request_generator`); an empty body gives one request without documents. Only the first request
 * keeps a client-given request id.
 */
export function toDataRequests(fields: JsonRequestFields, requestSize = DEFAULT_REQUEST_SIZE): DataRequest[] {
  return buildRequestsSync(fields.docs, fields, requestSize);
}

/** An RFC 3339 string for a `google.protobuf.Timestamp`, as protobuf's JSON mapping writes it. */
function timestampToJson(t: jina.IRouteProto['startTime']): string | null {
  if (!t) return null;
  const ms = Number(t.seconds ?? 0) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function timestampFromJson(v: JsonValue | undefined): { seconds: number; nanos: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/**
 * A `StatusProto` as JSON with a numeric code: `{"code": 0, "description": "", "exception": null}`,
 * the exception as `{name, args, stacks, executor}`.
 */
export function statusToJson(status: jina.IStatusProto | null | undefined): JsonObject {
  const ex = status?.exception;
  return {
    code: Number(status?.code ?? StatusCode.SUCCESS),
    description: status?.description ?? '',
    exception: ex
      ? {
          name: ex.name ?? '',
          args: [...(ex.args ?? [])],
          stacks: [...(ex.stacks ?? [])],
          executor: ex.executor ?? '',
        }
      : null,
  };
}

/** Reads a status written by {@link statusToJson} (or the original); undefined when `v` is not an object. */
export function statusFromJson(v: JsonValue | undefined): jina.IStatusProto | undefined {
  if (!isJsonObject(v)) return undefined;
  const status: jina.IStatusProto = { code: Number(v.code ?? 0) };
  if (typeof v.description === 'string') status.description = v.description;
  const ex = v.exception;
  if (isJsonObject(ex)) {
    status.exception = {
      name: typeof ex.name === 'string' ? ex.name : '',
      args: Array.isArray(ex.args) ? ex.args.map(String) : [],
      stacks: Array.isArray(ex.stacks) ? ex.stacks.map(String) : [],
      executor: typeof ex.executor === 'string' ? ex.executor : '',
    };
  }
  return status;
}

/**
 * A response as the original's HTTP API returns it (`DataRequest.to_dict()`): `header` with
 * snake_case keys and a numeric status code, `parameters`, `routes` (RFC 3339 times), and `data` as
 * a list of documents. Every key but `data` is valid protobuf JSON of `DataRequestProto`.
 * `options.tensors: 'base64'` writes tensors and embeddings in the base64 form (see
 * `DocsToJsonOptions`) instead of nested lists.
 *
 * @example
 * ```ts
 * JSON.stringify(dataRequestToJson(response));
 * ```
 */
export function dataRequestToJson(req: DataRequest, options: DocsToJsonOptions = {}): JsonObject {
  const h = req.header;
  const header: JsonObject = { request_id: h.requestId ?? '', exec_endpoint: req.endpoint };
  if (h.targetExecutor) header.target_executor = h.targetExecutor;
  header.status = statusToJson(h.status);
  return {
    header,
    parameters: req.parameters,
    routes: req.routes.map((r) => {
      const route: JsonObject = { executor: r.executor ?? '' };
      const start = timestampToJson(r.startTime);
      const end = timestampToJson(r.endTime);
      if (start) route.start_time = start;
      if (end) route.end_time = end;
      route.status = statusToJson(r.status);
      return route;
    }),
    data: docsToJson(decodeDocs(req.docsBytes), options),
  };
}

/**
 * The JSON body a client sends for one DataRequest: the fields of `/post` plus the header, so a
 * Gateway keeps the request id.
 */
export function dataRequestToRequestJson(req: DataRequest): JsonObject {
  const body: JsonObject = {
    execEndpoint: req.endpoint,
    header: { request_id: req.requestId },
    parameters: req.parameters,
    data: docsToJson(decodeDocs(req.docsBytes)),
  };
  if (req.targetExecutor) body.targetExecutor = req.targetExecutor;
  return body;
}

/**
 * Reads a response written by {@link dataRequestToJson} (or by the original Gateway) back into a
 * DataRequest. Accepts snake_case and camelCase keys.
 *
 * @throws FlowgateError InvalidArgument when the JSON is not a response.
 */
export function dataRequestFromJson(obj: unknown): DataRequest {
  if (!isJsonObject(obj))
    throw new FlowgateError(Code.InvalidArgument, `a response must be a JSON object, got ${typeOf(obj)}`);
  const h = isJsonObject(obj.header) ? obj.header : {};
  const str = (v: JsonValue | undefined) => (typeof v === 'string' ? v : undefined);
  const req = DataRequest.create({
    requestId: str(pick(h, 'request_id', 'requestId')) ?? '',
    endpoint: str(pick(h, 'exec_endpoint', 'execEndpoint')),
    targetExecutor: str(pick(h, 'target_executor', 'targetExecutor')),
    parameters: isJsonObject(obj.parameters) ? obj.parameters : undefined,
    docsBytes: encodeDocs(docsFromJson(obj.data ?? null)),
  });
  const status = statusFromJson(h.status);
  if (status) req.header.status = status;
  if (Array.isArray(obj.routes)) {
    req.routes = obj.routes.filter(isJsonObject).map((r) => ({
      executor: str(r.executor) ?? '',
      startTime: timestampFromJson(pick(r, 'start_time', 'startTime')),
      endTime: timestampFromJson(pick(r, 'end_time', 'endTime')),
      status: statusFromJson(r.status),
    }));
  }
  return req;
}
