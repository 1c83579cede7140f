import type { FastifyInstance } from 'fastify';
import { environmentInfo } from '../../runtime/info.js';
import type { FlowStats } from '../../gateway/flow-stats.js';
import type { GatewayOptions } from '../../gateway/gateway.js';
import { createHttpApp, httpServerOptions, type HttpServerOptions } from '../shared/server-app.js';
import { discoverEndpoints, registerDataRoutes, type ExposeEndpointOptions } from './server-data-routes.js';
import { FastifyGateway } from '../shared/server-fastify-gateway.js';
import { registerFlowPage } from './server-flow-page.js';
import { registerInfoRoutes } from '../shared/server-info-routes.js';
import { registerOpenApi } from './server-openapi.js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';

/** What registers the GraphQL routes on an app (the GraphQL server's `registerGraphqlRoutes`). */
export type RegisterGraphqlRoutes = (app: FastifyInstance, options: { streamer: GatewayStreamer }) => void;
import { discoverStreamingEndpoints, registerStreamRoutes } from './server-stream-routes.js';

/** Options of {@link HttpGateway} (the HTTP part of `configGateway`). */
export interface HttpGatewayOptions extends GatewayOptions, HttpServerOptions {
  /** No `/post`, `/status`, `/dry_run`, `/flow`. */
  noDebugEndpoints?: boolean;
  /** No `/index`, `/search`, `/update`, `/delete`. */
  noCrudEndpoints?: boolean;
  /** Executor endpoint -> HTTP path, methods and docs, e.g. `{ '/foo': { methods: ['GET'], path: '/bar' } }`. */
  exposeEndpoints?: Record<string, ExposeEndpointOptions>;
  /** Also serve GraphQL at `/graphql` (with the routes {@link HttpGatewayOptions.loadGraphqlRoutes} gives). */
  exposeGraphqlEndpoint?: boolean;
  /**
   * Loads the GraphQL routes `exposeGraphqlEndpoint` serves. The HTTP server imports no other
   * protocol: the Gateway runtime gives the GraphQL server's `registerGraphqlRoutes` here.
   */
  loadGraphqlRoutes?: () => Promise<RegisterGraphqlRoutes>;
  /** OpenAPI title; default 'My flowgate Service'. */
  title?: string;
  /** OpenAPI description. */
  description?: string;
  /** The numbers of the live page at `/flow` (the runtime gives them; without them, no page). */
  flowStats?: FlowStats;
  /** The Flow's picture on that page (SVG text, rendered by the Flow). */
  flowchartSvg?: string;
}

/**
 * The built-in HTTP Gateway (Fastify), the original's DocArray v1 HTTP API:
 * - `GET /` health (`{}`), `GET /status`, `GET /dry_run` (see `info-routes.ts`);
 * - `POST /post`, `POST /index`, `POST /search`, `PUT /update`, `DELETE /delete`,
 *   `exposeEndpoints`, and `POST /<endpoint>` for every endpoint the Executors bind
 *   (see `data-routes.ts`);
 * - `GET /openapi.json` and Swagger UI at `/docs`; `/graphql` with `exposeGraphqlEndpoint`;
 * - `GET /flow`, a live page of the graph with each Executor's health, rate and latency
 *   (see `flow-page.ts`).
 *
 * @example
 * ```ts
 * const flow = new Flow().configGateway({ protocol: 'http', port: 8080, cors: true }).add({ uses: MyExecutor });
 * await flow.start();
 * await fetch('http://127.0.0.1:8080/post', { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ data: [{ text: 'hi' }], execEndpoint: '/' }) });
 * ```
 */
export class HttpGateway extends FastifyGateway {
  private readonly options: HttpGatewayOptions;

  constructor(options: HttpGatewayOptions = {}) {
    super(options);
    this.options = options;
  }

  protected override async buildApp(): Promise<FastifyInstance> {
    const o = this.options;
    const tags = [
      ...(o.noDebugEndpoints
        ? []
        : [
            {
              name: 'Debug',
              description: 'Debugging interface. In production, hide it with `noDebugEndpoints`.',
            },
          ]),
      ...(o.noCrudEndpoints
        ? []
        : [
            {
              name: 'CRUD',
              description:
                'CRUD interface. Hide it with `noCrudEndpoints` if your Executors do not serve it.',
            },
          ]),
    ];
    const app = await createHttpApp({
      ...httpServerOptions(o),
      logger: this.logger,
      protocol: 'http',
    });
    registerOpenApi(app, {
      title: o.title,
      description: o.description,
      version: environmentInfo().jina.flowgate ?? '',
      tags,
    });
    registerInfoRoutes(app, { streamer: this.streamer, noDebugEndpoints: o.noDebugEndpoints });
    if (o.exposeGraphqlEndpoint) {
      if (!o.loadGraphqlRoutes)
        throw new FlowgateError(
          Code.FailedPrecondition,
          'exposeGraphqlEndpoint needs loadGraphqlRoutes (the Gateway runtime gives it)',
        );
      (await o.loadGraphqlRoutes())(app, { streamer: this.streamer });
    }
    // Streaming endpoints first: their POST route is SSE, so the data routes leave it alone.
    registerStreamRoutes(app, {
      streamer: this.streamer,
      logger: this.logger,
      endpoints: await discoverStreamingEndpoints(this.streamer),
    });
    registerDataRoutes(app, {
      streamer: this.streamer,
      logger: this.logger,
      noDebugEndpoints: o.noDebugEndpoints,
      noCrudEndpoints: o.noCrudEndpoints,
      exposeEndpoints: o.exposeEndpoints,
      endpoints: await discoverEndpoints(this.streamer, this.logger),
    });
    if (o.flowStats && !o.noDebugEndpoints)
      registerFlowPage(app, { stats: o.flowStats, svg: o.flowchartSvg, title: o.title });
    return app;
  }
}
