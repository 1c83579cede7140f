import { randomBytes } from 'node:crypto';
import { google, jina } from './wire.js';
import {
  decodeRequestWire,
  encodeRequestWire,
  encodeRequestWireParts,
  structFieldBytes,
  type RequestWireOut,
} from './request-wire.js';
import { jsonToStruct, structToJson, valueToJson, type JsonObject, type JsonValue } from './struct.js';
import { ExecutorError } from '../core/errors.js';

type IHeader = jina.IHeaderProto;
type IRoute = jina.IRouteProto;
type IStatus = jina.IStatusProto;

/** `StatusProto.StatusCode` values. */
export const StatusCode = { SUCCESS: 0, ERROR: 1 } as const;

/** A new request id: 32 lowercase hex characters, like Python's `uuid4().hex`. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A `jina.DataRequestProto` whose documents, parameters and routes stay encoded until someone asks
 * for them.
 *
 * The Gateway only reads the header (and looks for `__results__` in the parameters), and forwards
 * the rest as the bytes it came as: decoding reads only the top fields (see `request-wire.ts`), and
 * encoding splices the untouched fields back in. An Executor decodes the documents with
 * `decodeDocs(req.docsBytes)`.
 *
 * @example
 * ```ts
 * const req = DataRequest.create({ endpoint: '/index', docsBytes: encodeDocs(docs) });
 * const bytes = req.encode();
 * const back = DataRequest.decode(bytes);
 * back.endpoint; // '/index'
 * ```
 */
export class DataRequest {
  header: IHeader;
  /** The parameters as a plain object (decoded from `google.protobuf.Struct` on first access). */
  private _parameters: JsonObject | undefined;
  /** The parameters still encoded (a `google.protobuf.Struct`), while nobody has read them. */
  private _parametersBytes: Uint8Array | undefined;
  /** The routes as objects, once read or set; before that, {@link _routesBytes}. */
  private _routes: IRoute[] | undefined;
  private _routesBytes: readonly Uint8Array[];
  /** The encoded `docarray.DocumentArrayProto`, or an empty array when the request has none. */
  docsBytes: Uint8Array;
  /** True when the documents came in `docs_bytes` (field 2) rather than `docs` (field 1). */
  docsInBytesField: boolean;

  private constructor(header: IHeader, routes: IRoute[] | undefined, routesBytes: readonly Uint8Array[]) {
    this.header = header;
    this._routes = routes;
    this._routesBytes = routesBytes;
    this.docsBytes = EMPTY;
    this.docsInBytesField = false;
  }

  /** Builds a request. `requestId` defaults to a fresh id. */
  static create(init: {
    requestId?: string;
    endpoint?: string;
    targetExecutor?: string;
    parameters?: JsonObject;
    docsBytes?: Uint8Array;
  }): DataRequest {
    const header: IHeader = { requestId: init.requestId ?? newRequestId() };
    if (init.endpoint !== undefined) header.execEndpoint = init.endpoint;
    if (init.targetExecutor) header.targetExecutor = init.targetExecutor;
    const req = new DataRequest(header, [], NO_ROUTES);
    if (init.parameters) req.parameters = init.parameters;
    if (init.docsBytes) req.docsBytes = init.docsBytes;
    return req;
  }

  /**
   * Decodes a serialised `DataRequestProto`: the header only; parameters, routes and documents are
   * kept as their bytes. Throws on malformed bytes.
   */
  static decode(bytes: Uint8Array): DataRequest {
    const wire = decodeRequestWire(bytes);
    const req = new DataRequest(wire.header, undefined, wire.routesBytes);
    req._parametersBytes = wire.parametersBytes;
    req.docsBytes = wire.docsBytes;
    req.docsInBytesField = wire.docsInBytesField;
    return req;
  }

  /** Serialises to a `DataRequestProto` (fields nobody changed are copied as they came). */
  encode(): Uint8Array {
    return encodeRequestWire(this.wireOut());
  }

  /** The routes (decoded on first access; the Gateway replaces them without reading them). */
  get routes(): IRoute[] {
    if (this._routes === undefined) {
      this._routes = this._routesBytes.map((b) => jina.RouteProto.decode(b));
      this._routesBytes = NO_ROUTES;
    }
    return this._routes;
  }

  set routes(routes: IRoute[]) {
    this._routes = routes;
    this._routesBytes = NO_ROUTES;
  }

  /** The name of the Executor of the last route, without decoding the others. */
  get lastRouteExecutor(): string | undefined {
    if (this._routes !== undefined) return this._routes.at(-1)?.executor ?? undefined;
    const last = this._routesBytes.at(-1);
    return last === undefined ? undefined : (jina.RouteProto.decode(last).executor ?? undefined);
  }

  /**
   * The bytes of {@link encode} in two pieces when the documents take at least `minSplitBytes`:
   * everything but the document bytes, then the document bytes themselves (this request's view,
   * not a copy). A transport that can send one message in parts (a fragmented WebSocket message)
   * sends MB-sized documents without copying them; below the threshold, one piece.
   *
   * @example
   * ```ts
   * const [head, docs] = res.encodeParts(); // docs === res.docsBytes when they are large
   * ```
   */
  encodeParts(minSplitBytes = 64 * 1024): Uint8Array[] {
    const wire = this.wireOut();
    if (this.docsBytes.length < minSplitBytes || this.docsBytes.length === 0)
      return [encodeRequestWire(wire)];
    return encodeRequestWireParts(wire);
  }

  /** What {@link encode} writes: the fields nobody changed as the bytes they came in. */
  private wireOut(): RequestWireOut {
    return {
      header: this.header,
      parameters: this._parameters !== undefined ? jsonToStruct(this._parameters) : this._parametersBytes,
      routes: this._routes ?? this._routesBytes,
      docsBytes: this.docsBytes,
      docsInBytesField: this.docsInBytesField,
    };
  }

  get requestId(): string {
    return this.header.requestId ?? '';
  }

  set requestId(id: string) {
    this.header.requestId = id;
  }

  /** The endpoint; `'/'` when the header has none (the Go client sends no header). */
  get endpoint(): string {
    return this.header.execEndpoint ?? '/';
  }

  set endpoint(endpoint: string) {
    this.header.execEndpoint = endpoint;
  }

  get targetExecutor(): string | undefined {
    return this.header.targetExecutor ?? undefined;
  }

  get parameters(): JsonObject {
    if (this._parameters === undefined) {
      const raw = this._parametersBytes;
      this._parameters = raw === undefined ? {} : structToJson(google.protobuf.Struct.decode(raw));
      this._parametersBytes = undefined;
    }
    return this._parameters;
  }

  set parameters(p: JsonObject) {
    this._parameters = p;
    this._parametersBytes = undefined;
  }

  /**
   * One parameter; reading it decodes only that one (the Gateway looks for the Executors'
   * `__results__` in every response without decoding the rest).
   */
  parameter(key: string): JsonValue | undefined {
    if (this._parameters !== undefined) return this._parameters[key];
    const raw = this._parametersBytes;
    const value = raw === undefined ? undefined : structFieldBytes(raw, key);
    return value === undefined ? undefined : valueToJson(google.protobuf.Value.decode(value));
  }

  /**
   * Gives this request the parameters of `from`, sharing them as they are: still encoded when
   * nobody has read them, so that a Gateway forwarding them never decodes nor re-encodes them.
   */
  copyParameters(from: DataRequest): void {
    this._parameters = from._parameters;
    this._parametersBytes = from._parametersBytes;
  }

  get status(): IStatus | undefined {
    return this.header.status ?? undefined;
  }

  /** True when the header carries an ERROR status. */
  get isError(): boolean {
    return Number(this.header.status?.code ?? 0) === StatusCode.ERROR;
  }

  /** Marks this request as failed by `err`, raised in `executor`. */
  setError(err: unknown, executor: string): void {
    this.header.status = statusFromError(err, executor);
  }

  /** A copy with another request id that shares everything else (for multiplexing on one stream). */
  withRequestId(requestId: string): DataRequest {
    const c = new DataRequest({ ...this.header, requestId }, this._routes, this._routesBytes);
    c._parameters = this._parameters;
    c._parametersBytes = this._parametersBytes;
    c.docsBytes = this.docsBytes;
    c.docsInBytesField = this.docsInBytesField;
    return c;
  }

  /** A shallow copy sharing the document bytes (they are never mutated in place). */
  clone(): DataRequest {
    const routes = this._routes === undefined ? undefined : [...this._routes];
    const c = new DataRequest({ ...this.header }, routes, this._routesBytes);
    c._parameters = this._parameters === undefined ? undefined : structuredClone(this._parameters);
    c._parametersBytes = this._parametersBytes;
    c.docsBytes = this.docsBytes;
    c.docsInBytesField = this.docsInBytesField;
    return c;
  }
}

const EMPTY = new Uint8Array(0);
const NO_ROUTES: readonly Uint8Array[] = [];

/** Builds a `StatusProto` with code ERROR from any thrown value. */
export function statusFromError(err: unknown, executor: string): IStatus {
  const e = err instanceof Error ? err : new Error(String(err));
  const name = e.name || 'Error';
  const args = e.message ? [e.message] : [];
  const stacks = (e.stack ?? `${name}: ${e.message}`).split('\n').map((l) => l + '\n');
  return {
    code: StatusCode.ERROR,
    description: `${name}(${pyRepr(e.message)})`,
    exception: { name, args, stacks, executor },
  };
}

/** Python's `repr()` of a str, so descriptions read as the original's `ValueError('boom')`. */
function pyRepr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/**
 * The ExecutorError carried by an ERROR response, if any: how the Gateway's streamer and the
 * Client both surface an Executor's exception.
 *
 * @example
 * ```ts
 * const err = executorErrorOf(response);
 * if (err) throw err;
 * ```
 */
export function executorErrorOf(res: DataRequest): ExecutorError | undefined {
  return res.isError ? executorErrorOfStatus(res.status) : undefined;
}

/** The ExecutorError of an ERROR status (a data request's or a streamed item's). */
export function executorErrorOfStatus(s: jina.IStatusProto | null | undefined): ExecutorError {
  const ex = s?.exception;
  return new ExecutorError({
    name: ex?.name ?? 'Error',
    args: ex?.args ?? [],
    stacks: ex?.stacks ?? [],
    executor: ex?.executor ?? '',
    description: s?.description ?? '',
  });
}
