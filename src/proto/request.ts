import { randomBytes } from 'node:crypto';
import type { jina } from './wire.js';
import { flowgate } from './wire.js';
import { jsonToStruct, structToJson, type JsonObject, type JsonValue } from './struct.js';
import { ExecutorError } from '../core/errors.js';

type IHeader = jina.IHeaderProto;
type IRoute = jina.IRouteProto;
type IStatus = jina.IStatusProto;
type RawProto = flowgate.passthrough.IRawDataRequestProto;

/** `StatusProto.StatusCode` values. */
export const StatusCode = { SUCCESS: 0, ERROR: 1 } as const;

/** A new request id: 32 lowercase hex characters, like Python's `uuid4().hex`. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A `jina.DataRequestProto` whose documents stay encoded until someone asks for them.
 *
 * The Gateway only reads the header, parameters and routes, and forwards `docsBytes` untouched;
 * an Executor decodes the documents with `decodeDocs(req.docsBytes)`. Both encode and decode through
 * the passthrough view of the message, which is identical on the wire.
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
  private _parametersProto: RawProto['parameters'];
  routes: IRoute[];
  /** The encoded `docarray.DocumentArrayProto`, or an empty array when the request has none. */
  docsBytes: Uint8Array;
  /** True when the documents came in `docs_bytes` (field 2) rather than `docs` (field 1). */
  docsInBytesField: boolean;

  private constructor(proto: RawProto) {
    this.header = proto.header ?? {};
    this._parametersProto = proto.parameters;
    this.routes = proto.routes ?? [];
    const data = proto.data;
    this.docsInBytesField = data?.docsBytes != null && data.docs == null;
    this.docsBytes = data?.docs ?? data?.docsBytes ?? EMPTY;
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
    const req = new DataRequest({ header, routes: [] });
    if (init.parameters) req.parameters = init.parameters;
    if (init.docsBytes) req.docsBytes = init.docsBytes;
    return req;
  }

  /** Decodes a serialised `DataRequestProto`. Throws on malformed bytes. */
  static decode(bytes: Uint8Array): DataRequest {
    return new DataRequest(flowgate.passthrough.RawDataRequestProto.decode(bytes));
  }

  /** Serialises to a `DataRequestProto`. */
  encode(): Uint8Array {
    const proto = this.protoWithoutData();
    if (this.docsBytes.length > 0) {
      proto.data = this.docsInBytesField ? { docsBytes: this.docsBytes } : { docs: this.docsBytes };
    } else {
      proto.data = { docs: EMPTY };
    }
    return flowgate.passthrough.RawDataRequestProto.encode(proto).finish();
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
    const docs = this.docsBytes;
    if (docs.length < minSplitBytes || docs.length === 0) return [this.encode()];
    const writer = flowgate.passthrough.RawDataRequestProto.encode(this.protoWithoutData());
    // data = 4 { docs = 1 | docs_bytes = 2 : bytes }, written last as encode() does; lengths only.
    const field = this.docsInBytesField ? 2 : 1;
    const inner = 1 + varintSize(docs.length) + docs.length;
    writer
      .uint32((4 << 3) | 2)
      .uint32(inner)
      .uint32((field << 3) | 2)
      .uint32(docs.length);
    return [writer.finish(), docs];
  }

  /** Header, parameters (still encoded unless read) and routes: the message but its documents. */
  private protoWithoutData(): RawProto {
    const proto: RawProto = {
      header: this.header,
      routes: this.routes,
    };
    const params = this._parameters !== undefined ? jsonToStruct(this._parameters) : this._parametersProto;
    if (params) proto.parameters = params;
    return proto;
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
      this._parameters = structToJson(this._parametersProto);
      this._parametersProto = undefined;
    }
    return this._parameters;
  }

  set parameters(p: JsonObject) {
    this._parameters = p;
    this._parametersProto = undefined;
  }

  /**
   * One parameter; reading it decodes only that one (the Gateway looks for the Executors'
   * `__results__` in every response without decoding the rest).
   */
  parameter(key: string): JsonValue | undefined {
    if (this._parameters !== undefined) return this._parameters[key];
    const value = this._parametersProto?.fields?.[key];
    return value == null ? undefined : structToJson({ fields: { [key]: value } })[key];
  }

  /**
   * Gives this request the parameters of `from`, sharing them as they are: still encoded when
   * nobody has read them, so that a Gateway forwarding them never decodes nor re-encodes them.
   */
  copyParameters(from: DataRequest): void {
    this._parameters = from._parameters;
    this._parametersProto = from._parametersProto;
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
    const c = new DataRequest({ header: { ...this.header, requestId }, routes: this.routes });
    c._parameters = this._parameters;
    c._parametersProto = this._parametersProto;
    c.docsBytes = this.docsBytes;
    c.docsInBytesField = this.docsInBytesField;
    return c;
  }

  /** A shallow copy sharing the document bytes (they are never mutated in place). */
  clone(): DataRequest {
    const c = new DataRequest({ header: { ...this.header }, routes: [...this.routes] });
    c._parameters = this._parameters === undefined ? undefined : structuredClone(this._parameters);
    c._parametersProto = this._parametersProto;
    c.docsBytes = this.docsBytes;
    c.docsInBytesField = this.docsInBytesField;
    return c;
  }
}

const EMPTY = new Uint8Array(0);

/** Bytes of `n` as a protobuf varint. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

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
