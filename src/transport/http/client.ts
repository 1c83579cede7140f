import type * as Undici from 'undici';
import type { Agent, RequestInit as UndiciRequestInit } from 'undici';
import { Code, FlowgateError } from '../../core/errors.js';
import { codeOfHttpStatus } from './status.js';
import type { DataRequest } from '../../proto/request.js';
import { isJsonObject, type JsonValue } from '../../proto/struct.js';
import type { jina } from '../../proto/wire.js';
import { dataRequestFromJson, dataRequestToRequestJson, statusFromJson } from '../shared/request-json.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { tlsFailure } from '../shared/tls-errors.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import { httpStreamDoc } from './client-stream.js';
import type { TransportStreamOptions } from '../shared/client-transport.js';

/** undici, loaded with the first HTTP request (not with flowgate: every Executor imports it). */
const loadUndici = lazyRequire<typeof Undici>(import.meta.url, 'undici');
import type { ClientTransport, TransportCallOptions } from '../shared/client-transport.js';

/** What the stream loop waits for: the source's next request (or its end), or a response. */
type Step = { done: true } | { request: DataRequest } | { idx: number; response: DataRequest };

/** Requests in flight at once when the caller gives no `prefetch`. */
export const DEFAULT_HTTP_CONCURRENCY = 16;

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
 * The HTTP transport: every DataRequest is one `POST /post` (the body of
 * `dataRequestToRequestJson`, so the Gateway keeps the request id; `POST /<endpoint>` when the
 * Gateway has no `/post`), several in flight at once
 * (`prefetch`, default 16), answered in completion order unless `resultsInOrder`. Uses Node's global
 * undici's `fetch` with its own `Agent` (keep-alive connections are reused; a private CA is trusted
 * through `connect.ca`). A non-200 answer ends the stream with a
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
    const limit = options.prefetch && options.prefetch > 0 ? options.prefetch : DEFAULT_HTTP_CONCURRENCY;
    const abort = new AbortController();
    const signals = [abort.signal, this.closing.signal];
    if (options.timeoutMs && options.timeoutMs > 0) signals.push(AbortSignal.timeout(options.timeoutMs));
    const signal = AbortSignal.any(signals);
    const headers: Record<string, string> = {
      ...this.headers,
      ...options.metadata,
      'content-type': 'application/json',
    };

    const source = requests[Symbol.asyncIterator]();
    let sourceDone = false;
    /** The source's next request, while it is being produced: raced with the responses. */
    let pulling: Promise<Step> | undefined;
    let seq = 0;
    let next = 0;
    const inFlight = new Map<number, Promise<Step>>();
    const ready = new Map<number, DataRequest>();
    try {
      for (;;) {
        if (!sourceDone && !pulling && inFlight.size < limit) {
          pulling = source.next().then((r): Step => (r.done ? { done: true } : { request: r.value }));
          pulling.catch(() => undefined); // surfaces through the race, unless a response fails first
        }
        if (!pulling && inFlight.size === 0) break;
        const step = await Promise.race(pulling ? [pulling, ...inFlight.values()] : inFlight.values());
        if ('done' in step) {
          pulling = undefined;
          sourceDone = true;
        } else if ('request' in step) {
          pulling = undefined;
          const idx = seq++;
          const p = this.post(step.request, headers, signal, options.timeoutMs).then((response): Step => ({
            idx,
            response,
          }));
          // A rejection surfaces through the race; keep Node from reporting it before that.
          p.catch(() => undefined);
          inFlight.set(idx, p);
        } else {
          inFlight.delete(step.idx);
          if (!options.resultsInOrder) yield step.response;
          else {
            ready.set(step.idx, step.response);
            while (ready.has(next)) {
              const r = ready.get(next)!;
              ready.delete(next++);
              yield r;
            }
          }
        }
      }
    } finally {
      // Stopped early (the consumer broke off, or a request failed): cancel what is still running.
      abort.abort();
      if (!sourceDone) {
        const closed = source.return?.();
        // A source still producing its next item would hold this up: do not wait for it then.
        if (pulling) void closed?.catch(() => undefined);
        else await closed;
      }
    }
  }

  /**
   * One request: `POST /post`, the response parsed back into a DataRequest. A Gateway without
   * `/post` (`noDebugEndpoints`) is asked at `POST /<endpoint>` instead, from then on.
   */
  private async post(
    req: DataRequest,
    headers: Record<string, string>,
    signal: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<DataRequest> {
    const init: UndiciRequestInit = {
      method: 'POST',
      headers,
      body: JSON.stringify(dataRequestToRequestJson(req)),
      signal,
    };
    const own = req.endpoint.startsWith('/') ? req.endpoint : `/${req.endpoint}`;
    let text: string | undefined;
    for (const path of this.noPostRoute ? [own] : ['/post', own]) {
      try {
        text = await this.request(`${this.baseUrl}${path}`, init, timeoutMs);
        break;
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
    try {
      return dataRequestFromJson(JSON.parse(text ?? ''));
    } catch (err) {
      throw new FlowgateError(
        Code.Internal,
        `the Gateway at ${this.baseUrl} answered something that is not a response: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * `fetch` and read the body, with flowgate's errors: Unavailable when the Gateway cannot be
   * reached, DeadlineExceeded on timeout, Cancelled when aborted, and {@link errorOfResponse} for
   * any status but 200.
   */
  private async request(url: string, init: UndiciRequestInit, timeoutMs?: number): Promise<string> {
    let status: number;
    let text: string;
    try {
      const res = await loadUndici().fetch(url, { headers: this.headers, ...init, dispatcher: this.agent });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: Error & { code?: string } };
      if (e.name === 'TimeoutError')
        throw new FlowgateError(
          Code.DeadlineExceeded,
          `the request to ${url} timed out after ${timeoutMs} ms`,
          {
            cause: err,
          },
        );
      if (e.name === 'AbortError')
        throw new FlowgateError(Code.Cancelled, `the request to ${url} was cancelled`, { cause: err });
      const tls = tlsFailure(err, this.baseUrl);
      if (tls) throw new FlowgateError(Code.Unavailable, tls, { cause: err });
      const why = e.cause?.code ?? e.cause?.message ?? e.message;
      throw new FlowgateError(Code.Unavailable, `cannot reach the Gateway at ${this.baseUrl}: ${why}`, {
        cause: err,
      });
    }
    if (status !== 200) throw errorOfResponse(status, text, url);
    return text;
  }

  private async getJson(path: string, timeoutMs: number): Promise<JsonValue> {
    const url = `${this.baseUrl}${path}`;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.closing.signal]);
    const text = await this.request(url, { signal }, timeoutMs);
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
