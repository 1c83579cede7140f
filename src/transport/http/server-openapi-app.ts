import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { registerResponseHook } from '../shared/server-response-hook.js';
import { describeOnlySchemaController } from '../shared/server-schema-compilers.js';

/** Options of `registerOpenApi` (in `server-openapi.ts`). */
export interface OpenApiOptions {
  title?: string;
  description?: string;
  version: string;
  /** Tags in display order, with their descriptions. */
  tags?: { name: string; description: string }[];
}

/** A route as the description needs it. */
export interface DescribedRoute {
  method: RouteOptions['method'];
  url: string;
  schema?: FastifySchema;
  constraints?: RouteOptions['constraints'];
}

/** The app that describes the routes (built on first use). */
export interface OpenApiApp {
  /** The OpenAPI document. */
  document(): unknown;
  /** Serves a request for `/docs` or below (Swagger UI). */
  route(req: IncomingMessage, res: ServerResponse): void;
}

/** Options of {@link buildOpenApiApp}. */
export interface OpenApiAppOptions extends OpenApiOptions {
  title: string;
  description: string;
  /** The Gateway's routes, as they were registered. */
  routes: readonly DescribedRoute[];
  /** Shared schemas (with an `$id`) the routes' schemas refer to. */
  schemas: readonly Record<string, unknown>[];
}

/**
 * The description of a Gateway's routes, built when it is first asked for (see `registerOpenApi`):
 * an app of its own with @fastify/swagger (OpenAPI 3), the same routes (their handlers are never
 * called) and Swagger UI at `/docs`, from the locally installed assets. It listens on nothing: the
 * Gateway hands it the requests for `/docs`.
 *
 * @example
 * ```ts
 * const docs = await buildOpenApiApp({ title: 'T', description: 'D', version: '1', routes, schemas: [] });
 * docs.document(); // { openapi: '3.0.3', info: { title: 'T', ... }, paths: { ... } }
 * ```
 */
export async function buildOpenApiApp(options: OpenApiAppOptions): Promise<OpenApiApp> {
  const [{ default: Fastify }, { default: fastifySwagger }, { default: fastifySwaggerUi }] =
    await Promise.all([import('fastify'), import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  const app: FastifyInstance = Fastify({ logger: false, schemaController: describeOnlySchemaController() });
  registerResponseHook(app, { maxMessageBytes: 0 });
  for (const s of options.schemas) app.addSchema(s);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: options.title, description: options.description, version: options.version },
      tags: options.tags ?? [],
    },
    // Name shared schemas after their $id (components.schemas.Document), not def-0.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
  });
  for (const r of options.routes)
    app.route({
      method: r.method,
      url: r.url,
      ...(r.schema ? { schema: r.schema } : {}),
      ...(r.constraints ? { constraints: r.constraints } : {}),
      exposeHeadRoute: false,
      handler: notServed,
    });
  await app.ready();
  const document = app.swagger();
  return { document: () => document, route: (req, res) => app.routing(req, res) };
}

/** The routes are described here and served by the Gateway's own app. */
function notServed(): never {
  throw new Error('described only');
}
