import { setMaxListeners } from 'node:events';
import { gunzipSync, inflateSync } from 'node:zlib';
import type * as Undici from 'undici';
import type { Agent, Dispatcher } from 'undici';
import { Code, FlowgateError } from '../../core/errors.js';
import { codeOfHttpStatus } from './status.js';
import { DataRequest } from '../../proto/request.js';
import { mediaType, PROTOBUF_TYPE } from './codec.js';
import { isJsonObject, type JsonValue } from '../../proto/struct.js';
import type { jina } from '../../proto/wire.js';
import { dataRequestFromJson, dataRequestToRequestJson, statusFromJson } from '../shared/request-json.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { inFlightLimit, mapInFlight } from '../../core/in-flight.js';
import { tlsFailure } from '../shared/tls-errors.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import { httpStreamDoc } from './client-stream.js';
import type {
  ClientTransport,
  TransportCallOptions,
  TransportStreamOptions,
} from '../shared/client-transport.js';

/** undici, loaded with the first HTTP request (not with flowgate: every Executor imports it). */
const loadUndici = lazyRequire<typeof Undici>(import.meta.url, 'undici');

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** `https://` instead of `http://`. */
  tls?: boolean;
  /** PEM of the CA that signed the Gateway's certificate; default: the system's CAs. */
  rootCertificates?: Buffer;
  /** Headers sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** The `Accept-Encoding` asked for: `gzip`, `deflate`, or `none` (the default: `identity`). */
  compression?: 'none' | 'gzip' | 'deflate';
  /**
   * The body format of data requests: `protobuf` (the default: a serialised `DataRequestProto`,
   * `application/x-protobuf`; a Gateway that does not take it, such as the original's, answers
   * 415/400/422 and the transport falls back to JSON for good) or `json` (the `/post` JSON body).
   */
  format?: HttpBodyFormat;
}

/** The body format of the HTTP transport's data requests. */
export type HttpBodyFormat = 'protobuf' | 'json';

/** Statuses with which a Gateway refuses a protobuf body it does not read (the JSON fallback). */
const REFUSES_PROTOBUF = new Set([400, 415, 422]);

/** `headers` with the content type and `Accept` of a protobuf data request. */
function withProtobufTypes(headers: Record<string, string>): Record<string, string> {
  return { ...headers, 'content-type': PROTOBUF_TYPE, accept: `${PROTOBUF_TYPE}, application/json;q=0.5` };
}

/** One answer: status, content type and the whole body. */
interface Answer {
  status: number;
  type: string;
  body: Buffer;
}

/** A body as sent, decompressed when the Gateway compressed it (`compression`). */
function decompress(body: Buffer, headers: Record<string, string | string[] | undefined>): Buffer {
  const enc = mediaType(headers['content-encoding']);
  if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(body);
  if (enc === 'deflate') return inflateSync(body);
  return body;
}

/** The error for a non-200 answer: `header.status.description` (503/504), `detail`, or the text. */
function errorOfResponse(status: number, text: string, url: string): FlowgateError {
  let body: JsonValue | undefined;
  try {
    body = JSON.parse(text) as JsonValue;
  } catch {
    body = undefined;
  }
  let reason = text.slice(0, 500) || `HTTP ${status}`;
  if (isJsonObject(body)) {
    const header = body.header;
    const st = isJsonObject(header) ? header.status : undefined;
    if (isJsonObject(st) && typeof st.description === 'string' && st.description) reason = st.description;
    else if (typeof body.detail === 'string') reason = body.detail;
  }
  const code = codeOfHttpStatus(status);
  const msg = status === 404 ? `no such endpoint ${url}: ${reason}` : reason;
  return new FlowgateError(code, msg, { details: { httpStatus: status, body: body ?? text } });
}

/**
 * The HTTP transport: every DataRequest is one `POST /post` (a serialised `DataRequestProto` by
 * default, `application/x-protobuf`, falling back to the JSON body of `dataRequestToRequestJson`
 * for good when the Gateway refuses protobuf; either way the Gateway keeps the request id;
 * `POST /<endpoint>` when the Gateway has no `/post`), several in flight at once
 * (`prefetch`, default 1000, `0` = unlimited), answered in completion order unless `resultsInOrder`.
 * Uses undici's lower-level `request` on its own pooled `Agent` (keep-alive connections are reused,
 * no `fetch` machinery per request; a private CA is trusted through `connect.ca`). A non-200 answer
 * ends the stream with a
 * FlowgateError: 503 Unavailable and 504 DeadlineExceeded carry the Gateway's description naming
 * the Executor.
 *
 * @example
 * ```ts
 * const t = new HttpTransport('127.0.0.1', 8080);
 * for await (const res of t.stream(requests, {})) console.log(res.requestId);
 * ```
 */
export class HttpTransport implements ClientTransport {
  readonly baseUrl: string;
  private readonly closing = new AbortController();
  /** Set once the Gateway answered 404 for `/post`. */
  private noPostRoute = false;
  /** undici's connection pool: keep-alive, and the private CA when one is given. */
  private agentInstance: Agent | undefined;
  private readonly ca: Buffer | undefined;
  /** Headers of every request: the transport's own and `Accept-Encoding`. */
  private readonly headers: Record<string, string>;
  private format: HttpBodyFormat;
  /** {@link headers} with the protobuf content type and `Accept`, built once. */
  private readonly protobufHeaders: Record<string, string>;

  /** The body format data requests use now: `json` once a Gateway refused protobuf. */
  get bodyFormat(): HttpBodyFormat {
    return this.format;
  }

  private get agent(): Agent {
    this.agentInstance ??= new (loadUndici().Agent)(this.ca ? { connect: { ca: this.ca } } : {});
    return this.agentInstance;
  }

  constructor(host: string, port: number, options: HttpTransportOptions = {}) {
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    this.baseUrl = `${options.tls ? 'https' : 'http'}://${h}:${port}`;
    this.ca = options.rootCertificates;
    const encoding = options.compression && options.compression !== 'none' ? options.compression : 'identity';
    this.headers = { ...options.headers, 'accept-encoding': encoding };
    this.format = options.format ?? 'protobuf';
    this.protobufHeaders = withProtobufTypes(this.headers);
    // Every post of one request listens on this signal while it runs (undici removes the listener).
    setMaxListeners(0, this.closing.signal);
  }

  /** A stream as Server-Sent Events (see `client-stream.ts`). */
  streamDoc(request: StreamDocRequest, options: TransportStreamOptions): AsyncIterable<StreamDocRequest> {
    const ctx = {
      baseUrl: this.baseUrl,
      headers: this.headers,
      agent: this.agent,
      undici: loadUndici(),
      closing: this.closing.signal,
    };
    return httpStreamDoc(ctx, request, options);
  }

  async *stream(
    requests: AsyncIterable<DataRequest>,
    options: TransportCallOptions,
  ): AsyncIterable<DataRequest> {
    const abort = new AbortController();
    const signals = [abort.signal, this.closing.signal];
    if (options.timeoutMs && options.timeoutMs > 0) signals.push(AbortSignal.timeout(options.timeoutMs));
    const signal = AbortSignal.any(signals);
    const headers: Record<string, string> = { ...this.headers, ...options.metadata };

    let finished = false;
    try {
      yield* mapInFlight(
        requests,
        (req, _i, stop) => this.post(req, headers, AbortSignal.any([signal, stop]), options.timeoutMs),
        { limit: inFlightLimit(options.prefetch), ordered: options.resultsInOrder },
      );
      finished = true;
    } finally {
      // Stopped early (the consumer broke off, or a request failed): cancel what is still running.
      // (Not after a normal end: aborting builds a DOMException for nothing.)
      if (!finished) abort.abort();
    }
  }

  /**
   * One request on its own (what a `post()` of one request sends): no stream, no per-request
   * AbortController; the transport's own `close()` signal is the only one unless a timeout is set.
   */
  postOne(req: DataRequest, options: TransportCallOptions): Promise<DataRequest> {
    const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : undefined;
    const signal =
      timeoutMs === undefined
        ? this.closing.signal
        : AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeoutMs)]);
    const meta = options.metadata;
    const headers = meta && Object.keys(meta).length > 0 ? { ...this.headers, ...meta } : this.headers;
    return this.post(req, headers, signal, timeoutMs);
  }

  /**
   * One request: `POST /post`, the response read back into a DataRequest. A Gateway without
   * `/post` (`noDebugEndpoints`) is asked at `POST /<endpoint>` instead, from then on.
   */
  private async post(
    req: DataRequest,
    headers: Record<string, string>,
    signal: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<DataRequest> {
    const own = req.endpoint.startsWith('/') ? req.endpoint : `/${req.endpoint}`;
    for (const path of this.noPostRoute ? [own] : ['/post', own]) {
      try {
        return await this.postTo(path, req, headers, signal, timeoutMs);
      } catch (err) {
        if (!(err instanceof FlowgateError && err.details.httpStatus === 404)) throw err;
        if (path === '/post') this.noPostRoute = true;
        else
          throw new FlowgateError(
            Code.NotFound,
            `the Gateway at ${this.baseUrl} serves neither POST /post nor POST ${own}`,
            { cause: err, details: { httpStatus: 404 } },
          );
      }
    }
    throw new FlowgateError(Code.Internal, 'unreachable');
  }

  /** One request to `path`, in protobuf while the Gateway takes it, else in JSON. */
  private async postTo(
    path: string,
    req: DataRequest,
    headers: Record<string, string>,
    signal: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<DataRequest> {
    const url = `${this.baseUrl}${path}`;
    if (this.format === 'protobuf') {
      const bytes = req.encode();
      const answer = await this.send(
        path,
        'POST',
        headers === this.headers ? this.protobufHeaders : withProtobufTypes(headers),
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        signal,
        timeoutMs,
      );
      if (answer.status === 200 && answer.type === PROTOBUF_TYPE) return this.readResponse(answer);
      if (answer.status !== 200 && !REFUSES_PROTOBUF.has(answer.status))
        throw errorOfResponse(answer.status, answer.body.toString('utf8'), url);
      if (answer.status === 200) {
        // A Gateway that read the body but answers JSON (it ignores the content type): JSON from now on.
        this.format = 'json';
        return this.readResponse(answer);
      }
      this.format = 'json'; // refused: the original's Gateway and others that read JSON only
    }
    const answer = await this.send(
      path,
      'POST',
      { ...headers, 'content-type': 'application/json' },
      JSON.stringify(dataRequestToRequestJson(req)),
      signal,
      timeoutMs,
    );
    if (answer.status !== 200) throw errorOfResponse(answer.status, answer.body.toString('utf8'), url);
    return this.readResponse(answer);
  }

  /** A 200 answer as a DataRequest: protobuf or JSON, by its content type. */
  private readResponse(answer: Answer): DataRequest {
    try {
      if (answer.type === PROTOBUF_TYPE) return DataRequest.decode(answer.body);
      return dataRequestFromJson(JSON.parse(answer.body.toString('utf8')));
    } catch (err) {
      throw new FlowgateError(
        Code.Internal,
        `the Gateway at ${this.baseUrl} answered something that is not a response: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * One call with undici's `request` on the pooled Agent, the whole body read, with flowgate's
   * errors: Unavailable when the Gateway cannot be reached, DeadlineExceeded on timeout, Cancelled
   * when aborted. The status is the caller's to judge.
   */
  private async send(
    path: string,
    method: Dispatcher.HttpMethod,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<Answer> {
    const url = `${this.baseUrl}${path}`;
    try {
      const res = await this.agent.request({ origin: this.baseUrl, path, method, headers, body, signal });
      const answer = Buffer.from(await res.body.arrayBuffer());
      const type = mediaType(res.headers['content-type']);
      return { status: res.statusCode, type, body: decompress(answer, res.headers) };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: Error & { code?: string } };
      if (e.name === 'TimeoutError')
        throw new FlowgateError(
          Code.DeadlineExceeded,
          `the request to ${url} timed out after ${timeoutMs} ms`,
          {
            cause: err,
          },
        );
      if (e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED')
        throw new FlowgateError(Code.Cancelled, `the request to ${url} was cancelled`, { cause: err });
      const tls = tlsFailure(err, this.baseUrl);
      if (tls) throw new FlowgateError(Code.Unavailable, tls, { cause: err });
      const why = e.cause?.code ?? e.code ?? e.cause?.message ?? e.message;
      throw new FlowgateError(Code.Unavailable, `cannot reach the Gateway at ${this.baseUrl}: ${why}`, {
        cause: err,
      });
    }
  }

  private async getJson(path: string, timeoutMs: number): Promise<JsonValue> {
    const url = `${this.baseUrl}${path}`;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.closing.signal]);
    const answer = await this.send(path, 'GET', this.headers, undefined, signal, timeoutMs);
    const text = answer.body.toString('utf8');
    if (answer.status !== 200) throw errorOfResponse(answer.status, text, url);
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      throw new FlowgateError(Code.Internal, `GET ${url} did not answer JSON: ${text.slice(0, 200)}`);
    }
  }

  /** `GET /dry_run`: the status of an empty request through the whole Flow. */
  async dryRun(timeoutMs = 5000): Promise<jina.IStatusProto> {
    const body = await this.getJson('/dry_run', timeoutMs);
    const status = statusFromJson(body);
    if (!status)
      throw new FlowgateError(Code.Internal, `GET ${this.baseUrl}/dry_run did not answer a status object`);
    return status;
  }

  /** `GET /status`. */
  async status(): Promise<{ jina: Record<string, string>; envs: Record<string, string> }> {
    const body = await this.getJson('/status', 5000);
    const strings = (v: JsonValue | undefined) =>
      Object.fromEntries(
        Object.entries(isJsonObject(v) ? v : {}).map(([k, x]) => [
          k,
          typeof x === 'string' ? x : JSON.stringify(x),
        ]),
      );
    return isJsonObject(body)
      ? { jina: strings(body.jina), envs: strings(body.envs) }
      : { jina: {}, envs: {} };
  }

  /** Cancels every request still running and closes the connections. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.agentInstance?.destroy().catch(() => undefined);
  }
}
