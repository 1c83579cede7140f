import type * as Undici from 'undici';
import type { Agent } from 'undici';
import { Code, FlowgateError } from '../../core/errors.js';
import { documentFromJson, documentToJson } from '../../document/index.js';
import { StatusCode } from '../../proto/request.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../proto/struct.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import { parseSse, SseEvent } from './sse.js';
import type { TransportStreamOptions } from '../shared/client-transport.js';

/** What the HTTP transport lends to {@link httpStreamDoc}. */
export interface HttpStreamContext {
  baseUrl: string;
  headers: Record<string, string>;
  agent: Agent;
  undici: typeof Undici;
  /** Aborts when the transport closes. */
  closing: AbortSignal;
}

/**
 * A stream over HTTP: `POST /<endpoint>` with the input document as the body (and `parameters`),
 * read as Server-Sent Events as they arrive. Returning early aborts the response (the Gateway
 * cancels the stream); `timeoutMs` bounds the whole stream. A non-200 answer throws; 499 (an
 * Executor error before the first item) and an `error` event are yielded as error items.
 */
export async function* httpStreamDoc(
  ctx: HttpStreamContext,
  request: StreamDocRequest,
  options: TransportStreamOptions,
): AsyncGenerator<StreamDocRequest> {
  const endpoint = request.header.execEndpoint ?? '/';
  const url = `${ctx.baseUrl}${endpoint.startsWith('/') ? endpoint : `/${endpoint}`}`;
  const abort = new AbortController();
  const signals = [abort.signal, ctx.closing];
  if (options.timeoutMs && options.timeoutMs > 0) signals.push(AbortSignal.timeout(options.timeoutMs));
  const body: JsonObject = request.document ? documentToJson(request.document) : {};
  if (Object.keys(request.parameters).length > 0) body.parameters = request.parameters;
  if (request.header.targetExecutor) body.targetExecutor = request.header.targetExecutor;
  const requestId = request.header.requestId ?? '';
  try {
    const res = await ctx.undici.fetch(url, {
      method: 'POST',
      headers: {
        ...ctx.headers,
        ...options.metadata,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body: JSON.stringify(body),
      signal: AbortSignal.any(signals),
      dispatcher: ctx.agent,
    });
    if (res.status !== 200) {
      const text = await res.text();
      const parsed = safeJson(text);
      const detail =
        isJsonObject(parsed) && typeof parsed.detail === 'string' ? parsed.detail : text.slice(0, 500);
      if (res.status === 499) {
        const executor = isJsonObject(parsed) && typeof parsed.executor === 'string' ? parsed.executor : '';
        yield errorItem(requestId, 'Error', detail, executor, detail);
        return;
      }
      const code =
        res.status === 404
          ? Code.NotFound
          : res.status === 400 || res.status === 422
            ? Code.InvalidArgument
            : Code.Unavailable;
      throw new FlowgateError(code, res.status === 404 ? `no streaming endpoint ${url}: ${detail}` : detail, {
        details: { httpStatus: res.status },
      });
    }
    if (!res.body) return;
    for await (const e of parseSse(res.body as AsyncIterable<Uint8Array>)) {
      if (e.event === SseEvent.End) return;
      const data = safeJson(e.data);
      if (e.event === SseEvent.Error) {
        const o = isJsonObject(data) ? data : {};
        const name = typeof o.name === 'string' ? o.name : 'Error';
        const message = typeof o.message === 'string' ? o.message : e.data;
        yield errorItem(requestId, name, message, typeof o.executor === 'string' ? o.executor : '');
        return;
      }
      if (e.event === SseEvent.Update)
        yield {
          header: { requestId, execEndpoint: endpoint },
          parameters: {},
          routes: [],
          document: documentFromJson(data),
        };
    }
  } catch (err) {
    if (err instanceof FlowgateError) throw err;
    const e = err as Error;
    if (e.name === 'TimeoutError')
      throw new FlowgateError(
        Code.DeadlineExceeded,
        `the stream from ${url} did not end within ${options.timeoutMs} ms`,
        { cause: err },
      );
    if (e.name === 'AbortError')
      throw new FlowgateError(Code.Cancelled, `the stream from ${url} was cancelled`, { cause: err });
    throw new FlowgateError(Code.Unavailable, `cannot reach the Gateway at ${ctx.baseUrl}: ${e.message}`, {
      cause: err,
    });
  } finally {
    abort.abort();
  }
}

function errorItem(
  requestId: string,
  name: string,
  message: string,
  executor: string,
  description?: string,
): StreamDocRequest {
  return {
    header: {
      requestId,
      status: {
        code: StatusCode.ERROR,
        description: description ?? `${name}('${message}')`,
        exception: { name, args: [message], stacks: [], executor },
      },
    },
    parameters: {},
    routes: [],
    document: undefined,
  };
}

function safeJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}
