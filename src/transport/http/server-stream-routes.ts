import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { documentFromJson, documentToJson, type Document } from '../../document/index.js';
import { DEFAULT_ENDPOINT, DRY_RUN_ENDPOINT } from '../../executor/requests.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../proto/struct.js';
import {
  createStreamDocRequest,
  isStreamError,
  type StreamDocRequest,
} from '../../document/stream-request.js';
import { encodeSseEvent, SseEvent } from './sse.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import { httpStatusOfError } from './status.js';
import { firstEvent } from '../../core/events.js';

/** Options of {@link registerStreamRoutes}. */
export interface StreamRoutesOptions {
  streamer: GatewayStreamer;
  logger: Logger;
  /** The Flow's streaming endpoints (generator methods), from endpoint discovery. */
  endpoints: Iterable<string>;
}

/** The status of an error before the first item, as the original answers it. */
export const STREAM_ERROR_STATUS = 499;

const PLAIN_PATH = /^\/[A-Za-z0-9._~\-/]*$/;

/**
 * The SSE routes of the streaming endpoints, as the original's DocArray v2 app has them: for each,
 * `GET /<endpoint>?text=...&tags__k=v` (the query builds the input document; `parameters__k=v`
 * sets parameters) and `POST /<endpoint>` (the body is the input document itself; a `parameters`
 * key holds parameters) answer `text/event-stream`: an event `update` per item (the document's
 * JSON), then `end`. An Executor error before the first item answers 499 `{"detail": ...}`; after
 * it, an event `error` (`{name, message, executor}`) ends the stream. The routes are decided by
 * endpoint discovery (`is_generator`), as the original does: normal endpoints keep `POST`.
 *
 * Back-pressure: the next item is read only once the socket took the last one (Node's 16 KiB
 * writable buffer, then the kernel's socket buffers); the client closing the response cancels the
 * stream up to the Executor's generator.
 */
export function registerStreamRoutes(app: FastifyInstance, options: StreamRoutesOptions): string[] {
  const served: string[] = [];
  for (const endpoint of new Set(options.endpoints)) {
    if (endpoint === DRY_RUN_ENDPOINT || endpoint === DEFAULT_ENDPOINT) continue;
    const url = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
    if (
      !PLAIN_PATH.test(url) ||
      app.hasRoute({ method: 'POST', url }) ||
      app.hasRoute({ method: 'GET', url })
    )
      continue;
    const handler = (from: 'query' | 'body') => (request: FastifyRequest, reply: FastifyReply) =>
      serveSse(request, reply, options, endpoint, from);
    app.get(url, { schema: sseSchema(endpoint, 'query') }, handler('query'));
    app.post(url, { schema: sseSchema(endpoint, 'body') }, handler('body'));
    served.push(endpoint);
  }
  refuseStreamsToNormalRoutes(app, served);
  return served;
}

/**
 * A `POST` that asks only for `text/event-stream` (as the Client's `streamDoc` does) to a route
 * that does not stream is refused before it runs: 400 `{"detail": "endpoint /x is not a streaming
 * endpoint ..."}`, so a stream to a normal endpoint never runs that endpoint.
 */
function refuseStreamsToNormalRoutes(app: FastifyInstance, streaming: readonly string[]): void {
  const urls = new Set(streaming.map((e) => (e.startsWith('/') ? e : `/${e}`)));
  app.addHook('onRequest', async (request, reply) => {
    const url = request.routeOptions.url;
    if (request.method !== 'POST' || url === undefined || urls.has(url)) return;
    if (request.headers.accept?.trim().toLowerCase() !== 'text/event-stream') return;
    await reply.code(400).send({
      detail: `endpoint ${url} is not a streaming endpoint (no Executor of this Flow serves it with a generator): call it with post`,
    });
  });
}

/**
 * The input document, parameters and `targetExecutor` (`targetExecutor` or `target_executor`, in
 * the body or the query) of a GET (query) or POST (body).
 */
export function streamInput(
  source: unknown,
  from: 'query' | 'body',
): { doc: Document; parameters: JsonObject; targetExecutor?: string } {
  const obj: JsonObject = isJsonObject(source) ? { ...source } : {};
  const target = takeTarget(obj);
  const targetExecutor = target ? { targetExecutor: target } : {};
  if (from === 'body') {
    const parameters = obj.parameters;
    delete obj.parameters;
    if (parameters !== undefined && !isJsonObject(parameters))
      throw new FlowgateError(Code.InvalidArgument, 'parameters must be an object', {
        details: { httpStatus: 422 },
      });
    return { doc: documentFromJson(obj, 'body'), parameters: parameters ?? {}, ...targetExecutor };
  }
  const fields: JsonObject = {};
  const tags: JsonObject = {};
  const parameters: JsonObject = {};
  for (const [key, raw] of Object.entries(obj)) {
    const value = Array.isArray(raw) ? raw.at(-1)! : raw;
    if (key.startsWith('tags__')) tags[key.slice(6)] = value;
    else if (key.startsWith('parameters__')) parameters[key.slice(12)] = queryValue(value);
    else fields[key] = value;
  }
  if (Object.keys(tags).length > 0) fields.tags = tags;
  return { doc: documentFromJson(fields, 'query'), parameters, ...targetExecutor };
}

/** Removes `targetExecutor` / `target_executor` from `obj`; the pattern, when one is a string. */
function takeTarget(obj: JsonObject): string | undefined {
  let found: string | undefined;
  for (const key of ['targetExecutor', 'target_executor']) {
    const v = obj[key];
    const s = Array.isArray(v) ? v.at(-1) : v;
    if (typeof s === 'string' && s && found === undefined) found = s;
    delete obj[key];
  }
  return found;
}

/** A query value as JSON when it reads as JSON (numbers, booleans), else the string. */
function queryValue(v: JsonValue): JsonValue {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as JsonValue;
  } catch {
    return v;
  }
}

async function serveSse(
  request: FastifyRequest,
  reply: FastifyReply,
  options: StreamRoutesOptions,
  endpoint: string,
  from: 'query' | 'body',
): Promise<FastifyReply | undefined> {
  const { doc, parameters, targetExecutor } = streamInput(
    from === 'query' ? request.query : (request.body ?? {}),
    from,
  );
  const abort = new AbortController();
  const raw = reply.raw;
  let done = false;
  raw.on('close', () => {
    if (!done) abort.abort();
  });
  const items = options.streamer.streamItems(
    createStreamDocRequest({ endpoint, doc, parameters, targetExecutor }),
    {
      signal: abort.signal,
      headers: request.forwardedHeaders,
    },
  );
  let first: IteratorResult<StreamDocRequest>;
  try {
    first = await items.next();
  } catch (err) {
    done = true;
    const status = httpStatusOfError(err);
    options.logger.warn('a stream failed before its first item', { endpoint, error: (err as Error).message });
    return reply.code(status).send({ detail: (err as Error).message });
  }
  if (!first.done && isStreamError(first.value)) {
    done = true;
    const status = first.value.header.status;
    // `executor` is flowgate's addition to the original's body: which Executor failed.
    return reply
      .code(STREAM_ERROR_STATUS)
      .send({ detail: status?.description ?? 'error', executor: status?.exception?.executor ?? '' });
  }
  reply.hijack();
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  const write = async (chunk: string) => {
    if (!raw.write(chunk) && !raw.destroyed) await firstEvent(raw, 'drain', 'close');
  };
  try {
    for (let next = first; !next.done && !raw.destroyed; next = await items.next()) {
      const item = next.value;
      if (isStreamError(item)) {
        const ex = item.header.status?.exception;
        await write(
          encodeSseEvent(SseEvent.Error, {
            name: ex?.name ?? 'Error',
            message: ex?.args?.[0] ?? item.header.status?.description ?? '',
            executor: ex?.executor ?? '',
          }),
        );
        return undefined; // the error event ends the stream: no `end`
      }
      if (item.document) await write(encodeSseEvent(SseEvent.Update, documentToJson(item.document)));
    }
    if (!raw.destroyed) await write(encodeSseEvent(SseEvent.End, {}));
  } catch (err) {
    if (!abort.signal.aborted) {
      const e = err as FlowgateError;
      const executor = typeof e.details?.executor === 'string' ? e.details.executor : '';
      await write(encodeSseEvent(SseEvent.Error, { name: e.name, message: e.message, executor }));
    }
  } finally {
    done = true;
    await items.return(undefined);
    raw.end();
  }
  return undefined;
}

function sseSchema(endpoint: string, from: 'query' | 'body'): FastifySchema {
  const schema: FastifySchema = {
    summary: `${from === 'query' ? 'GET' : 'POST'} ${endpoint} (Server-Sent Events)`,
    description:
      from === 'query'
        ? `Streams what the streaming endpoint \`${endpoint}\` yields. Query parameters build the input document (\`text=...\`, \`tags__<key>=...\`; \`parameters__<key>=...\` sets parameters). Answers \`text/event-stream\`: an event \`update\` per document (its JSON), then \`end\`; \`error\` (\`{name, message, executor}\`) when it fails after the first document.`
        : `Streams what the streaming endpoint \`${endpoint}\` yields for the input document in the body (a \`parameters\` key holds parameters). Answers \`text/event-stream\` as the GET route.`,
    tags: ['Streaming endpoints'],
    response: {
      200: {
        description: 'A stream of Server-Sent Events: `update` (a document), then `end` (or `error`)',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      499: {
        description: 'An Executor failed before the first document',
        content: {
          'application/json': { schema: { type: 'object', properties: { detail: { type: 'string' } } } },
        },
      },
    },
  };
  if (from === 'query')
    schema.querystring = {
      type: 'object',
      additionalProperties: true,
      properties: { text: { type: 'string' } },
    };
  else
    schema.body = {
      type: 'object',
      additionalProperties: true,
      properties: { text: { type: 'string' }, parameters: { type: 'object' } },
    };
  return schema;
}

/** The streaming endpoints of the Flow's Executors (those that cannot be asked are skipped). */
export async function discoverStreamingEndpoints(streamer: GatewayStreamer): Promise<string[]> {
  const { pool } = streamer;
  const results = await Promise.allSettled(pool.names.map((name) => pool.streamingEndpoints(name)));
  const out = new Set<string>();
  for (const r of results) if (r.status === 'fulfilled') for (const e of r.value) out.add(e);
  return [...out];
}
