import type { FastifyInstance, HTTPMethods } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { DEFAULT_ENDPOINT, DRY_RUN_ENDPOINT } from '../../executor/requests.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import { dataHandler, registerProtobufParser } from './server-data-handler.js';
import { dataRouteSchema } from './server-openapi.js';

/** How to serve one Executor endpoint over HTTP (`configGateway({ exposeEndpoints })`). */
export interface ExposeEndpointOptions {
  /** HTTP methods; default `['POST']`. */
  methods?: string[];
  /** The HTTP path; default the endpoint itself. */
  path?: string;
  summary?: string;
  description?: string;
  /** OpenAPI tags; default `['Customized']`. */
  tags?: string[];
}

/** Options of {@link registerDataRoutes}. */
export interface DataRoutesOptions {
  streamer: GatewayStreamer;
  logger: Logger;
  /** Leave out `POST /post` (the original's `no_debug_endpoints`). */
  noDebugEndpoints?: boolean;
  /** Leave out `/index`, `/search`, `/update`, `/delete` (`no_crud_endpoints`). */
  noCrudEndpoints?: boolean;
  /** Executor endpoint -> how to serve it. */
  exposeEndpoints?: Record<string, ExposeEndpointOptions>;
  /** Endpoints the Executors bind: each gets `POST /<endpoint>` unless its path is taken. */
  endpoints?: Iterable<string>;
}

const CRUD: [endpoint: string, method: HTTPMethods][] = [
  ['/index', 'POST'],
  ['/search', 'POST'],
  ['/update', 'PUT'],
  ['/delete', 'DELETE'],
];

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Paths an Executor endpoint never gets a route of its own on, even when the fixed route is
 * switched off (`noDebugEndpoints`, `noCrudEndpoints` hide them; they stay hidden).
 */
const FIXED_PATHS = new Set([
  '/',
  '/post',
  '/status',
  '/dry_run',
  '/docs',
  '/openapi.json',
  '/graphql',
  ...CRUD.map(([endpoint]) => endpoint),
]);

/** Paths find-my-way would read as parameters or wildcards are not served as endpoint routes. */
const PLAIN_PATH = /^\/[A-Za-z0-9._~\-/]*$/;

/**
 * The routes that send requests through the Flow, as the original's DocArray v1 app has them:
 * `POST /post` (the body names the endpoint), the CRUD group (`POST /index`, `POST /search`,
 * `PUT /update`, `DELETE /delete`), the `exposeEndpoints` routes, and, as the DocArray v2 app does,
 * `POST /<endpoint>` for every endpoint an Executor binds (not `/default`, so that a client that
 * looks for `/<on>` in `/openapi.json` falls back to `/post` for the others; not on the fixed
 * paths above, even when they are switched off).
 *
 * Every route sends the whole body as ONE request. The body is JSON or, with
 * `Content-Type: application/x-protobuf`, a serialised `DataRequestProto`; the answer is JSON
 * (`dataRequestToJson`) or a `DataRequestProto` as `Accept` asks (default: the body's format; see
 * `server-data-handler.ts`): HTTP 200 even when an Executor raised (status code 1 in
 * `header.status`), 503/504 with the request echoed back when an Executor could not be reached
 * (also for non-POST routes: the original answers 500 there, a quirk not kept).
 */
export function registerDataRoutes(app: FastifyInstance, options: DataRoutesOptions): void {
  const { logger } = options;
  registerProtobufParser(app);
  const handler = (endpoint: string | undefined) => dataHandler(options, endpoint);
  const taken = (path: string) => ALL_METHODS.some((method) => app.hasRoute({ method, url: path }));

  if (!options.noDebugEndpoints) {
    app.post(
      '/post',
      {
        schema: dataRouteSchema({
          summary: 'Post a data request to any Executor endpoint',
          description: 'The body names the endpoint in `execEndpoint` (default `/`).',
          tags: ['Debug'],
          endpointInBody: true,
        }),
      },
      handler(undefined),
    );
  }
  if (!options.noCrudEndpoints) {
    for (const [endpoint, method] of CRUD) {
      app.route({
        method,
        url: endpoint,
        schema: dataRouteSchema({
          summary: `${method} ${endpoint}`,
          description: `Post data requests to the Flow. Executors with \`@requests({ on: '${endpoint}' })\` will respond.`,
          tags: ['CRUD'],
        }),
        handler: handler(endpoint),
      });
    }
  }
  for (const [endpoint, expose] of Object.entries(options.exposeEndpoints ?? {})) {
    const methods = (expose.methods ?? ['POST']).map((m) => m.toUpperCase());
    const bad = methods.find((m) => !ALL_METHODS.includes(m));
    if (bad)
      throw new FlowgateError(
        Code.InvalidArgument,
        `exposeEndpoints['${endpoint}'].methods has '${bad}': use ${ALL_METHODS.join(', ')}`,
      );
    const url = expose.path ?? withSlash(endpoint);
    // One route per method: a GET/HEAD route may not declare a body schema. GET brings its HEAD.
    const own = methods.filter((m) => !(m === 'HEAD' && methods.includes('GET')));
    for (const method of own as HTTPMethods[]) {
      app.route({
        method,
        url,
        schema: dataRouteSchema({
          summary: expose.summary ?? `${method} ${url}`,
          description: expose.description ?? `Calls the Executor endpoint \`${endpoint}\`.`,
          tags: expose.tags ?? ['Customized'],
          noBody: method === 'GET' || method === 'HEAD',
        }),
        handler: handler(endpoint),
      });
    }
  }
  for (const endpoint of new Set(options.endpoints ?? [])) {
    if (endpoint === DRY_RUN_ENDPOINT || endpoint === DEFAULT_ENDPOINT) continue;
    const url = withSlash(endpoint);
    if (!PLAIN_PATH.test(url)) {
      logger.warn(`endpoint ${endpoint} has no HTTP route of its own (reach it through POST /post)`);
      continue;
    }
    if (FIXED_PATHS.has(url) || taken(url)) continue;
    app.post(
      url,
      {
        schema: dataRouteSchema({
          summary: `POST ${url}`,
          description: `Calls the Executor endpoint \`${endpoint}\`, bound by an Executor of this Flow.`,
          tags: ['Executor endpoints'],
        }),
      },
      handler(endpoint),
    );
  }
}

function withSlash(endpoint: string): string {
  return endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
}

/**
 * Every endpoint bound by the Executors of the Flow (asked once per Executor). An Executor that
 * cannot be asked is logged and skipped: the Gateway still starts, its endpoints stay reachable
 * through `POST /post`.
 */
export async function discoverEndpoints(streamer: GatewayStreamer, logger: Logger): Promise<string[]> {
  const { pool } = streamer;
  const out = new Set<string>();
  const results = await Promise.allSettled(pool.names.map((name) => pool.endpoints(name)));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') for (const e of r.value) out.add(e);
    else
      logger.warn(`cannot learn the endpoints of Executor ${pool.names[i]}: ${(r.reason as Error).message}`);
  });
  return [...out];
}
