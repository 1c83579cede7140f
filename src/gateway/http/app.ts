import fastifyCors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { registerErrorHandlers } from './errors.js';
import { registerOpenApi, type OpenApiOptions } from './openapi.js';

/** Default body limit of the HTTP-family Gateways: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  logger: Logger;
  /** Largest accepted request body in bytes; 0 or less = no limit. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Allow cross-origin requests from any origin (the original's `cors=True`). */
  cors?: boolean;
  /** Serve `/openapi.json` and Swagger UI at `/docs`, described by these options. */
  openapi?: OpenApiOptions;
}

/**
 * A Fastify app set up the way every HTTP-family Gateway needs it: the body limit, a JSON parser
 * whose 400 answers say what is wrong, JSON error bodies for every failure (see `errors.ts`),
 * optional CORS and OpenAPI. Route schemas only describe (for OpenAPI): request bodies are checked
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
  const app = Fastify({ logger: false, bodyLimit });
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerJsonParser(app);
  registerErrorHandlers(app, { logger: options.logger, bodyLimit });
  if (options.cors) {
    await app.register(fastifyCors, {
      origin: '*',
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    });
    options.logger.warn('CORS is enabled: this service is accessible from any website');
  }
  if (options.openapi) await registerOpenApi(app, options.openapi);
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
    void secureParse(request, text, (err, value) => {
      if (!err) {
        done(null, value);
        return;
      }
      done(invalidJson(text), undefined);
    });
  });
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
