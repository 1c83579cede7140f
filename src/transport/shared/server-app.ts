import type { FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Authenticator } from '../../gateway/auth.js';
import type { Protocol } from '../../gateway/gateway.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type TlsKeyPair } from '../../gateway/security.js';
import { registerAuthHook } from './server-auth-hook.js';
import { registerErrorHandlers } from '../http/status.js';
import { registerResponseHook } from './server-response-hook.js';
import { describeOnlySchemaController } from './server-schema-compilers.js';

export { DEFAULT_MAX_MESSAGE_BYTES };

/**
 * The server options every HTTP-family Gateway takes (HTTP, GraphQL): they go to
 * {@link createHttpApp} as they are.
 */
export interface HttpServerOptions {
  /** Largest request or response body in bytes (413 above it); 0 or less = no limit. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Serve HTTPS with this key pair (`configGateway({ sslCertfile, sslKeyfile })`). */
  tls?: TlsKeyPair;
  /** Checks every request but `GET /` (401 when it fails). */
  authenticator?: Authenticator;
  /** Header names sent on to Executors as `metadata`. */
  forwardMetadata?: string[];
  /** Allow cross-origin requests from any origin (the original's `cors=True`). */
  cors?: boolean;
  /** ms a client may take to send a whole request (a trickled body is cut off with 408); 0 = none. Default 60 s. */
  slowClientTimeout?: number;
}

/** The {@link HttpServerOptions} of a Gateway's options (which hold more). */
export function httpServerOptions(o: HttpServerOptions): HttpServerOptions {
  const { maxMessageBytes, tls, authenticator, forwardMetadata, cors, slowClientTimeout } = o;
  return { maxMessageBytes, tls, authenticator, forwardMetadata, cors, slowClientTimeout };
}

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions extends HttpServerOptions {
  logger: Logger;
  /** The protocol named to the authenticator; default `http`. */
  protocol?: Protocol;
}

/** The default of `slowClientTimeout`: a minute to send one request, or to read a response. */
export const DEFAULT_SLOW_CLIENT_TIMEOUT_MS = 60_000;

/**
 * Fastify options that cut off a client taking longer than `timeoutMs` to send a request (Node's
 * `requestTimeout`, answered 408). Node checks it every 30 s by default: far too coarse for a
 * short limit, so the check runs at a quarter of the limit (at most once a second).
 */
export function slowClientOptions(timeoutMs = DEFAULT_SLOW_CLIENT_TIMEOUT_MS): {
  requestTimeout: number;
  http: { connectionsCheckingInterval: number; requestTimeout: number; headersTimeout: number };
} {
  const interval = timeoutMs > 0 ? Math.max(100, Math.min(1000, Math.floor(timeoutMs / 4))) : 30_000;
  // Node applies requestTimeout only with a headersTimeout no longer than it (set at construction).
  const headersTimeout = timeoutMs > 0 ? Math.min(60_000, timeoutMs) : 60_000;
  return {
    requestTimeout: timeoutMs,
    http: { connectionsCheckingInterval: interval, requestTimeout: timeoutMs, headersTimeout },
  };
}

/**
 * A Fastify app set up the way every HTTP-family Gateway needs it: HTTPS when given a key pair,
 * authentication (`auth-hook.ts`), the body limit in both directions and `Accept-Encoding`
 * (`response-hook.ts`), a JSON parser whose 400 answers say what is wrong, JSON error bodies for
 * every failure (see `errors.ts`), optional CORS and OpenAPI. Route schemas only describe (for OpenAPI): request bodies are checked
 * by `parseJsonRequest` (422 naming the field) and responses are written with `JSON.stringify`, so
 * a schema can never drop or coerce a field of a response.
 *
 * @example
 * ```ts
 * const app = await createHttpApp({ logger, cors: true });
 * registerInfoRoutes(app, { streamer });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 * ```
 */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const limit = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const bodyLimit = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
  // With `https` Fastify is typed over https.Server; the routes use nothing specific to either.
  const timeouts = slowClientOptions(options.slowClientTimeout);
  const { default: Fastify } = await import('fastify'); // loaded by HTTP-family Gateways only
  // Schemas only describe: no Ajv, no fast-json-stringify (not even loaded).
  const schemaController = describeOnlySchemaController();
  const app = (
    options.tls
      ? Fastify({
          logger: false,
          bodyLimit,
          schemaController,
          ...timeouts,
          https: { ...options.tls, ...timeouts.http },
        })
      : Fastify({ logger: false, bodyLimit, schemaController, ...timeouts })
  ) as FastifyInstance;
  registerAuthHook(app, {
    protocol: options.protocol ?? 'http',
    authenticator: options.authenticator,
    forwardMetadata: options.forwardMetadata,
  });
  registerResponseHook(app, { maxMessageBytes: limit });
  registerJsonParser(app);
  registerErrorHandlers(app, { logger: options.logger, bodyLimit });
  if (options.cors) {
    const { default: fastifyCors } = await import('@fastify/cors');
    await app.register(fastifyCors, {
      origin: '*',
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    });
    options.logger.warn('CORS is enabled: this service is accessible from any website');
  }
  return app;
}

/**
 * Replaces Fastify's JSON parser with one that keeps its protection against prototype poisoning
 * but answers 400 with the parser's reason (`Unexpected token ... in JSON at position 7`).
 */
function registerJsonParser(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (cannotPoison(text)) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        done(invalidJson(text), undefined);
        return;
      }
      done(null, value);
      return;
    }
    void secureParse(request, text, (err, value) => {
      if (!err) {
        done(null, value);
        return;
      }
      done(invalidJson(text), undefined);
    });
  });
}

/**
 * A text without `__proto__`, `constructor` or a `\u` escape (which could spell them) cannot
 * poison a prototype: plain `JSON.parse` is enough, without secure-json-parse's scan of the text.
 */
function cannotPoison(text: string): boolean {
  return !text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u');
}

function invalidJson(body: string): FlowgateError {
  let reason: string;
  if (body.trim().length === 0) reason = 'the body is empty';
  else {
    try {
      JSON.parse(body);
      reason = 'it sets __proto__ or constructor.prototype, which is not allowed';
    } catch (e) {
      reason = (e as Error).message;
    }
  }
  return new FlowgateError(Code.InvalidArgument, `the request body is not valid JSON: ${reason}`, {
    details: { httpStatus: 400 },
  });
}
