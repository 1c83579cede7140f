import { readFileSync } from 'node:fs';
import { Code, FlowgateError, type ExecutorError } from '../core/errors.js';
import {
  Document,
  DocumentArray,
  buildRequests,
  buildRequestsSync,
  docsPerRequest,
  type DocumentInit,
} from '../document/index.js';
import { executorErrorOf } from '../proto/request.js';
import { StatusCode, type DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import { GrpcTransport } from '../transport/grpc/client.js';
import { HttpTransport, type HttpBodyFormat } from '../transport/http/client.js';
import { ProgressBar } from './progress.js';
import { Response } from './response.js';
import { clientStreamDoc, type StreamDocClientOptions } from './stream.js';
import type { ClientTransport } from '../transport/shared/client-transport.js';
import { RequestList } from '../transport/shared/client-mux.js';
import { WebSocketTransport } from '../transport/websocket/client.js';

/** A protocol the Client speaks. */
export type ClientProtocol = 'grpc' | 'http' | 'websocket';

/** Options of {@link Client}. */
export interface ClientOptions {
  /**
   * A transport to use instead of the protocol's, e.g. `inMemoryTransport(streamer)` to reach a
   * Gateway's streamer in-process (tests without sockets). `host`/`port` are then only reported.
   */
  transport?: ClientTransport;
  /** Host name or address, optionally with a scheme: `grpc://h:p`, `grpcs://h:p`, `http://`, `ws://`... */
  host?: string;
  port?: number;
  /** Default `grpc`. */
  protocol?: ClientProtocol;
  /** Use TLS (implied by `grpcs://`, `https://`, `wss://`). */
  tls?: boolean;
  /** PEM of the CA that signed the Gateway's certificate, for private CAs (else the system's CAs). */
  rootCertificates?: Buffer | string;
  /** A PEM file with that CA (read once, when the Client is built). */
  caFile?: string;
  /**
   * Sent as `Authorization: Bearer <token>` (gRPC metadata `authorization`) on every request of
   * every protocol. Default: the environment variable `FLOWGATE_AUTH_TOKEN`, if set.
   */
  authToken?: string;
  /**
   * gRPC: compress the requests (`gzip`, `deflate`) and ask for compressed responses. HTTP: the
   * `Accept-Encoding` sent (`none`, the default, asks for none: on a fast network compression costs
   * more than it saves).
   */
  compression?: 'none' | 'gzip' | 'deflate';
  /** Largest response accepted, bytes (gRPC and WebSocket); default: gRPC unlimited, WebSocket 100 MiB. */
  maxMessageBytes?: number;
  /**
   * HTTP only: the body of data requests. `protobuf` (the default) posts a serialised
   * `DataRequestProto` as `application/x-protobuf`, and falls back to JSON for good when the
   * Gateway refuses it (the original's Gateway reads JSON only); `json` always posts the `/post`
   * JSON body.
   */
  format?: HttpBodyFormat;
}

/** The environment variable the Client reads its default `authToken` from. */
export const CLIENT_AUTH_TOKEN_ENV = 'FLOWGATE_AUTH_TOKEN';

/** What every transport gets from the Client's options. */
interface TransportSecurity {
  rootCertificates: Buffer | undefined;
  headers: Record<string, string>;
}

/** What `post()` accepts as inputs. */
export type PostInputs =
  Document | DocumentInit | Iterable<Document | DocumentInit> | AsyncIterable<Document | DocumentInit>;

/** Options of {@link Client.post}. */
export interface PostOptions {
  parameters?: JsonObject;
  /**
   * Documents per request; default 100 (`DEFAULT_REQUEST_SIZE`); `0` or less sends all inputs in
   * one request; a non-integer rejects with INVALID_ARGUMENT.
   */
  requestSize?: number;
  targetExecutor?: string;
  resultsInOrder?: boolean;
  /**
   * Requests in flight at most, on every protocol; default 1000 (`DEFAULT_PREFETCH`, the
   * original's `prefetch`); `0` means unlimited. A gRPC post on a call of its own (`timeout` or
   * `metadata` given) also sends it to the Gateway as `__prefetch__`.
   */
  prefetch?: number;
  onDone?: (response: Response) => void | Promise<void>;
  onError?: (response: Response) => void | Promise<void>;
  onAlways?: (response: Response) => void | Promise<void>;
  /** End-to-end timeout in ms. */
  timeout?: number;
  /** Extra headers / gRPC metadata. */
  metadata?: Record<string, string>;
  /**
   * A progress line on stderr (documents sent and received, requests/s, errors). `true`: always;
   * default: when stderr is a terminal and the post runs longer than a second; `false`: never.
   */
  showProgress?: boolean;
}

type ProtocolFactory = (
  address: { host: string; port: number; tls: boolean },
  options: Omit<ClientOptions, 'rootCertificates'> & TransportSecurity,
) => ClientTransport;

const transports: Partial<Record<ClientProtocol, ProtocolFactory>> = {
  grpc: (a, o) =>
    new GrpcTransport(`${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`, {
      tls: a.tls,
      rootCertificates: o.rootCertificates,
      compression: o.compression,
      headers: o.headers,
      maxMessageBytes: o.maxMessageBytes,
    }),
  http: (a, o) =>
    new HttpTransport(a.host, a.port, {
      tls: a.tls,
      rootCertificates: o.rootCertificates,
      headers: o.headers,
      compression: o.compression,
      format: o.format,
    }),
  websocket: (a, o) =>
    new WebSocketTransport(a, {
      tls: a.tls,
      rootCertificates: o.rootCertificates,
      headers: o.headers,
      maxMessageBytes: o.maxMessageBytes,
    }),
};

/** The CA and the headers every request carries, from the options and the environment. */
function transportSecurity(o: ClientOptions): TransportSecurity {
  let ca = typeof o.rootCertificates === 'string' ? Buffer.from(o.rootCertificates) : o.rootCertificates;
  if (o.caFile !== undefined) {
    try {
      ca = readFileSync(o.caFile);
    } catch (err) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `cannot read caFile ${o.caFile}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  const envToken = process.env[CLIENT_AUTH_TOKEN_ENV];
  const token = o.authToken ?? (envToken ? envToken : undefined);
  return { rootCertificates: ca, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

/** Registers the transport of a protocol (HTTP and WebSocket register themselves). */
export function registerClientTransport(protocol: ClientProtocol, factory: ProtocolFactory): void {
  transports[protocol] = factory;
}

const schemes: Record<string, { protocol: ClientProtocol; tls: boolean }> = {
  grpc: { protocol: 'grpc', tls: false },
  grpcs: { protocol: 'grpc', tls: true },
  http: { protocol: 'http', tls: false },
  https: { protocol: 'http', tls: true },
  ws: { protocol: 'websocket', tls: false },
  wss: { protocol: 'websocket', tls: true },
  websocket: { protocol: 'websocket', tls: false },
};

/** Resolves host/port/protocol/tls from the options, the scheme winning over defaults. */
export function resolveAddress(o: ClientOptions): {
  host: string;
  port: number;
  protocol: ClientProtocol;
  tls: boolean;
} {
  let host = o.host ?? '127.0.0.1';
  let port = o.port;
  let protocol = o.protocol ?? 'grpc';
  let tls = o.tls ?? false;
  const m = /^([a-z]+):\/\/(.*)$/i.exec(host);
  if (m) {
    const s = schemes[m[1]!.toLowerCase()];
    if (!s)
      throw new FlowgateError(
        Code.InvalidArgument,
        `unknown scheme '${m[1]}' in host ${host}: use grpc, grpcs, http, https, ws or wss`,
      );
    if (o.protocol && o.protocol !== s.protocol) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `host ${host} says ${s.protocol} but protocol is '${o.protocol}': give one of them`,
      );
    }
    protocol = s.protocol;
    tls = s.tls || tls;
    host = m[2]!.replace(/\/+$/, '');
    const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
    if (hp) {
      host = hp[1]!.replace(/^\[|\]$/g, '');
      if (hp[2]) {
        if (o.port !== undefined && o.port !== Number(hp[2])) {
          throw new FlowgateError(
            Code.InvalidArgument,
            `host ${o.host} carries port ${hp[2]} but port is ${o.port}: give one of them`,
          );
        }
        port = Number(hp[2]);
      }
    }
  }
  port ??= tls ? 443 : 80;
  return { host, port, protocol, tls };
}

/**
 * Talks to a Gateway over gRPC, HTTP or WebSocket with the same API.
 *
 * @example
 * ```ts
 * const client = new Client({ port: 12345 });           // gRPC on 127.0.0.1
 * const docs = await client.post('/', [new Document({ text: 'hi' })]);
 * console.log(docs.texts);
 * ```
 */
export class Client {
  readonly host: string;
  readonly port: number;
  readonly protocol: ClientProtocol;
  readonly tls: boolean;
  private transport: ClientTransport | undefined;
  private readonly security: TransportSecurity;

  constructor(private readonly options: ClientOptions = {}) {
    if (options.format !== undefined && options.format !== 'protobuf' && options.format !== 'json')
      throw new FlowgateError(
        Code.InvalidArgument,
        `format must be 'protobuf' or 'json', not ${JSON.stringify(options.format)}`,
      );
    this.security = transportSecurity(options);
    const a = resolveAddress(options);
    this.host = a.host;
    this.port = a.port;
    this.protocol = a.protocol;
    this.tls = a.tls;
  }

  private get t(): ClientTransport {
    this.transport ??= this.options.transport;
    if (!this.transport) {
      const f = transports[this.protocol];
      if (!f) throw new FlowgateError(Code.Unimplemented, `the ${this.protocol} client is not available`);
      this.transport = f(
        { host: this.host, port: this.port, tls: this.tls },
        { ...this.options, ...this.security },
      );
    }
    return this.transport;
  }

  /**
   * Sends `inputs` to endpoint `on` and resolves to all returned documents. Requests of
   * `requestSize` docs are streamed over one connection; concurrent posts of one Client share it
   * (one WebSocket, one gRPC `Call` stream; see docs/decisions.md). An Executor error rejects with
   * an ExecutorError, unless `onError` is given; the connection failing rejects the posts in flight
   * on it with `Unavailable`; `close()` rejects them with `Cancelled` (WebSocket) or lets them
   * finish (gRPC).
   */
  async post(
    on: string,
    inputs?: PostInputs,
    options?: PostOptions & { returnResponses?: false },
  ): Promise<DocumentArray>;
  async post(
    on: string,
    inputs: PostInputs | undefined,
    options: PostOptions & { returnResponses: true },
  ): Promise<Response[]>;
  async post(
    on: string,
    inputs?: PostInputs,
    options: PostOptions & { returnResponses?: boolean } = {},
  ): Promise<DocumentArray | Response[]> {
    docsPerRequest(options.requestSize); // an invalid requestSize rejects before anything is sent
    const bar = progressFor(on, inputs, options.showProgress);
    const requests = toRequests(on, inputs, options, (n) => bar?.sent(n));
    let docs: DocumentArray | undefined;
    const responses: Response[] = [];
    let firstError: ExecutorError | undefined;
    const hasCallbacks = !!(options.onDone || options.onError || options.onAlways);
    /** Handles one response; true when the post stops there (an Executor error, no callbacks). */
    const handle = async (raw: DataRequest): Promise<boolean> => {
      const res = new Response(raw);
      bar?.received(raw.isError ? 0 : res.docs.length, !raw.isError);
      if (raw.isError) {
        if (options.onError) await options.onError(res);
        else if (!hasCallbacks) firstError ??= executorErrorOf(raw);
      } else if (options.onDone) await options.onDone(res);
      if (options.onAlways) await options.onAlways(res);
      if (options.returnResponses) responses.push(res);
      else if (!raw.isError) {
        // the first answer's documents are the result unless more come (no copy for one request)
        if (docs === undefined && !hasCallbacks) docs = res.docs;
        else (docs ??= new DocumentArray()).extend(res.docs);
      }
      return firstError !== undefined && !options.returnResponses;
    };
    const callOptions = {
      resultsInOrder: options.resultsInOrder,
      prefetch: options.prefetch,
      timeoutMs: options.timeout,
      metadata: options.metadata,
    };
    const t = this.t;
    const one =
      requests instanceof RequestList && requests.items.length === 1
        ? t.postOne?.(requests.items[0]!, callOptions)
        : undefined;
    if (one) await handle(await one);
    else {
      for await (const raw of t.stream(requests, callOptions)) if (await handle(raw)) break;
    }
    bar?.done();
    if (firstError) throw firstError;
    return options.returnResponses ? responses : (docs ?? new DocumentArray());
  }

  /**
   * Streams what the streaming endpoint `on` yields for one input document, each document as soon
   * as the Executor yields it (gRPC `stream_doc`, HTTP Server-Sent Events, or WebSocket frames).
   * An Executor error throws its ExecutorError; `break` cancels the stream up to the Executor.
   *
   * @example
   * ```ts
   * for await (const token of client.streamDoc({ on: '/generate', inputs: { text: 'hello world' } }))
   *   process.stdout.write(token.text ?? '');
   * ```
   */
  streamDoc(options: StreamDocClientOptions): AsyncGenerator<Document> {
    return clientStreamDoc(this.t, options);
  }

  /** `post('/index', ...)`. */
  index(inputs?: PostInputs, options?: PostOptions): Promise<DocumentArray> {
    return this.post('/index', inputs, options);
  }
  /** `post('/search', ...)`. */
  search(inputs?: PostInputs, options?: PostOptions): Promise<DocumentArray> {
    return this.post('/search', inputs, options);
  }
  /** `post('/update', ...)`. */
  update(inputs?: PostInputs, options?: PostOptions): Promise<DocumentArray> {
    return this.post('/update', inputs, options);
  }
  /** `post('/delete', ...)`. */
  delete(inputs?: PostInputs, options?: PostOptions): Promise<DocumentArray> {
    return this.post('/delete', inputs, options);
  }

  /** True when a dry run through the whole Flow succeeds. */
  async isFlowReady(timeoutMs = 5000): Promise<boolean> {
    try {
      const s = await this.t.dryRun(timeoutMs);
      return (s.code ?? StatusCode.SUCCESS) === StatusCode.SUCCESS;
    } catch {
      return false;
    }
  }

  /** The Gateway's environment information (`_status` / `GET /status`). */
  status(): Promise<{ jina: Record<string, string>; envs: Record<string, string> }> {
    return this.t.status();
  }

  async close(): Promise<void> {
    await this.transport?.close();
    this.transport = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v != null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v != null && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/** The progress line of a post, or undefined when it is not wanted (see `showProgress`). */
function progressFor(
  on: string,
  inputs: PostInputs | undefined,
  show: boolean | undefined,
): ProgressBar | undefined {
  if (show === false || (show === undefined && !process.stderr.isTTY)) return undefined;
  const total = Array.isArray(inputs) || inputs instanceof DocumentArray ? inputs.length : undefined;
  return new ProgressBar({ label: on, total, delayMs: show ? 0 : 1000 });
}

function toRequests(
  on: string,
  inputs: PostInputs | undefined,
  options: PostOptions,
  onBatch?: (docs: number) => void,
): AsyncIterable<DataRequest> {
  const { targetExecutor, parameters } = options;
  // Documents in memory that make one request (the usual post): built at once, sent at once.
  const list = inputs instanceof Document ? [inputs] : inputs;
  if (
    (Array.isArray(list) || list instanceof DocumentArray) &&
    list.length <= docsPerRequest(options.requestSize)
  ) {
    const requests = buildRequestsSync(list, { endpoint: on, targetExecutor, parameters }, 0);
    onBatch?.(list.length);
    return new RequestList(requests);
  }
  const source: AsyncIterable<Document | DocumentInit> | Iterable<Document | DocumentInit> =
    inputs === undefined
      ? []
      : inputs instanceof Document || (!isIterable(inputs) && !isAsyncIterable(inputs))
        ? [inputs]
        : (inputs as AsyncIterable<Document | DocumentInit> | Iterable<Document | DocumentInit>);
  return buildRequests(source, { endpoint: on, targetExecutor, parameters }, options.requestSize, onBatch);
}
