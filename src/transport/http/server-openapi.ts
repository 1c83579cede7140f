import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { DescribedRoute, OpenApiApp, OpenApiOptions } from './server-openapi-app.js';

export type { DescribedRoute, OpenApiApp, OpenApiOptions };

/**
 * The OpenAPI description of the HTTP Gateway: shared JSON schemas for documents, requests and
 * responses (the shapes of docs/wire-json.md), `/openapi.json`, and Swagger UI at `/docs` served
 * from the locally installed assets. The schemas only describe: `parseJsonRequest` validates bodies
 * and responses are written with `JSON.stringify` (see `app.ts`).
 */

/** Default OpenAPI title, as the original's `'My Jina Service'`. */
export const DEFAULT_TITLE = 'My flowgate Service';
/** Default OpenAPI description. */
export const DEFAULT_DESCRIPTION =
  'This is my awesome service. You can set `title` and `description` in `configGateway()` to customize them.';

const nullable = (type: string) => ({ type: [type, 'null'] });

const namedScore = {
  type: 'object',
  properties: {
    value: nullable('number'),
    op_name: nullable('string'),
    description: nullable('string'),
    ref_id: nullable('string'),
  },
};

/** A document as `Document.to_dict()` writes it (every key present, `null` when empty). */
const documentSchema = {
  $id: 'Document',
  type: 'object',
  description:
    'A document (docarray < 0.30 JSON). Requests may omit any key and use camelCase; responses carry every key.',
  properties: {
    id: { type: 'string', description: '32 hex characters when generated' },
    parent_id: nullable('string'),
    granularity: nullable('integer'),
    adjacency: nullable('integer'),
    blob: { type: ['string', 'null'], description: 'bytes, standard base64' },
    tensor: {
      description:
        'nested lists of numbers, or base64 bytes with dtype and shape: {"dense": {"buffer": "<base64>", "shape": [2, 3], "dtype": "<f4"}} (answered in the form the request used)',
      nullable: true,
    },
    mime_type: nullable('string'),
    text: nullable('string'),
    weight: nullable('number'),
    uri: nullable('string'),
    tags: { type: ['object', 'null'], additionalProperties: true },
    offset: nullable('number'),
    location: { type: ['array', 'null'], items: { type: 'number' } },
    embedding: {
      description:
        'nested lists of numbers, or base64 bytes with dtype and shape: {"dense": {"buffer": "<base64>", "shape": [2, 3], "dtype": "<f4"}} (answered in the form the request used)',
      nullable: true,
    },
    modality: nullable('string'),
    evaluations: { type: ['object', 'null'], additionalProperties: namedScore },
    scores: { type: ['object', 'null'], additionalProperties: namedScore },
    chunks: { type: ['array', 'null'], items: { $ref: 'Document#' } },
    matches: { type: ['array', 'null'], items: { $ref: 'Document#' } },
  },
};

const statusSchema = {
  $id: 'Status',
  type: 'object',
  description: 'A `jina.StatusProto`: code 0 = SUCCESS, 1 = ERROR.',
  properties: {
    code: { type: 'integer', enum: [0, 1] },
    description: { type: 'string' },
    exception: {
      type: ['object', 'null'],
      properties: {
        name: { type: 'string' },
        args: { type: 'array', items: { type: 'string' } },
        stacks: { type: 'array', items: { type: 'string' } },
        executor: { type: 'string' },
      },
    },
  },
};

const responseSchema = {
  $id: 'DataResponse',
  type: 'object',
  description: 'A `jina.DataRequestProto` as JSON; `data` holds the returned documents.',
  properties: {
    header: {
      type: 'object',
      properties: {
        request_id: { type: 'string' },
        exec_endpoint: { type: 'string' },
        target_executor: { type: 'string' },
        status: { $ref: 'Status#' },
      },
    },
    parameters: { type: 'object', additionalProperties: true },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          executor: { type: 'string' },
          start_time: { type: 'string', format: 'date-time' },
          end_time: { type: 'string', format: 'date-time' },
          status: { $ref: 'Status#' },
        },
      },
    },
    data: { type: 'array', items: { $ref: 'Document#' } },
  },
};

const dataProperty = {
  description: 'The documents: a list, or `{"docs": [...]}`.',
  anyOf: [
    { type: 'array', items: { $ref: 'Document#' } },
    { type: 'object', properties: { docs: { type: 'array', items: { $ref: 'Document#' } } } },
    { type: 'null' },
  ],
};

const commonRequestProperties = {
  data: dataProperty,
  targetExecutor: {
    type: ['string', 'null'],
    description: 'A regular expression: only Executors whose name matches are called.',
  },
  parameters: { type: ['object', 'null'], additionalProperties: true },
};

/** The body of `/post` (also accepts snake_case `exec_endpoint`, `target_executor`). */
const endpointRequestSchema = {
  type: 'object',
  properties: {
    ...commonRequestProperties,
    execEndpoint: { type: 'string', default: '/', description: 'The Executor endpoint to call' },
  },
  examples: [{ data: [{ text: 'hello, world' }], execEndpoint: '/', parameters: {} }],
};

/** The body of a route that fixes the endpoint (`/index`, exposed and discovered endpoints). */
const requestSchema = {
  type: 'object',
  properties: commonRequestProperties,
  examples: [{ data: [{ text: 'hello, world' }], parameters: {} }],
};

const detailSchema = (description: string) => ({
  description,
  type: 'object',
  properties: { detail: { type: 'string' } },
});

/** A serialised `jina.DataRequestProto` (the original's protos). */
const protobufBody = {
  type: 'string',
  format: 'binary',
  description: 'a serialised jina.DataRequestProto (header.exec_endpoint names the endpoint on /post)',
};

const errorResponses = {
  400: detailSchema('The body is not valid JSON'),
  413: detailSchema('The body is larger than the limit'),
  422: detailSchema('The body does not have the expected shape; `detail` names the field'),
  503: {
    description:
      'An Executor could not be reached: the request echoed back with `header.status` naming the Executor',
    type: 'object',
    additionalProperties: true,
  },
  504: {
    description: 'An Executor did not answer in time (`timeoutSend`): the request echoed back, as for 503',
    type: 'object',
    additionalProperties: true,
  },
};

/** Options of a data route's schema. */
export interface DataRouteSchemaOptions {
  summary: string;
  description?: string;
  tags: string[];
  /** `/post`: the body names the endpoint. */
  endpointInBody?: boolean;
  /** GET/HEAD routes take no body. */
  noBody?: boolean;
}

/** The schema (for OpenAPI only) of a route that sends a request through the Flow. */
export function dataRouteSchema(options: DataRouteSchemaOptions): FastifySchema {
  const schema: FastifySchema = {
    summary: options.summary,
    tags: options.tags,
    response: {
      200: {
        description:
          'The response of the Flow: JSON, or a serialised `jina.DataRequestProto` when `Accept` prefers `application/x-protobuf` (default: the format of the request body)',
        content: {
          'application/json': { schema: { $ref: 'DataResponse#' } },
          'application/x-protobuf': { schema: protobufBody },
        },
      },
      ...errorResponses,
    },
  };
  if (options.description) schema.description = options.description;
  if (!options.noBody)
    schema.body = {
      content: {
        'application/json': { schema: options.endpointInBody ? endpointRequestSchema : requestSchema },
        'application/x-protobuf': { schema: protobufBody },
      },
    };
  return schema;
}

/**
 * Serves `GET /openapi.json` and Swagger UI at `/docs` (and `/docs/*`), described from the routes
 * registered after this call: call it before adding routes.
 *
 * Nothing of it is built at start: an onRoute hook keeps each route's method, URL and schema, and
 * the first request for the description builds it (see `server-openapi-app.ts`: @fastify/swagger,
 * its YAML and JSON-schema libraries, Swagger UI's assets in an app of their own, about 150
 * modules and 3 MB an idle Gateway would otherwise hold). `/docs` is served by that app; the
 * request goes through this app's hooks (authentication) first.
 *
 * @example
 * ```ts
 * const app = await createHttpApp({ logger });
 * registerOpenApi(app, { title: 'Search', version: '1.0.0' });
 * app.post('/search', { schema: dataRouteSchema({ summary: 'Search', tags: ['CRUD'] }) }, handler);
 * ```
 */
export function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): void {
  const routes: DescribedRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' || isOwnRoute(route.url)) return;
    routes.push({
      method: route.method,
      url: route.url,
      schema: route.schema,
      constraints: route.constraints,
    });
  });
  let docs: Promise<OpenApiApp> | undefined;
  const load = (): Promise<OpenApiApp> => {
    if (docs) return docs;
    docs = import('./server-openapi-app.js').then((m) =>
      m.buildOpenApiApp({
        ...options,
        title: options.title || DEFAULT_TITLE,
        description: options.description || DEFAULT_DESCRIPTION,
        routes,
        schemas: [documentSchema, statusSchema, responseSchema],
      }),
    );
    // A failure is answered (500) and the next request tries again.
    docs.catch(() => (docs = undefined));
    return docs;
  };
  app.get('/openapi.json', { schema: { hide: true } }, async () => (await load()).document());
  const ui = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const served = await load();
    reply.hijack();
    served.route(request.raw, reply.raw);
  };
  app.get('/docs', { schema: { hide: true } }, ui);
  app.get('/docs/*', { schema: { hide: true } }, ui);
}

function isOwnRoute(url: string): boolean {
  return url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/');
}
