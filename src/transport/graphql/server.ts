import type { FastifyInstance } from 'fastify';
import type { GatewayOptions } from '../../gateway/gateway.js';
import { createHttpApp, httpServerOptions, type HttpServerOptions } from '../shared/server-app.js';
import { FastifyGateway } from '../shared/server-fastify-gateway.js';
import { registerGraphqlRoutes } from './server-routes.js';
import { registerInfoRoutes } from '../shared/server-info-routes.js';

/** Options of {@link GraphqlGateway}. */
export interface GraphqlGatewayOptions extends GatewayOptions, HttpServerOptions {
  /** No `/status`, `/dry_run`. */
  noDebugEndpoints?: boolean;
}

/**
 * The built-in GraphQL Gateway (protocol `graphql`, its own port): `/graphql` (queries and
 * mutations `docs(...)`, GraphiQL for browsers) plus `GET /`, `/status` and `/dry_run`. The same
 * `/graphql` can be served by the HTTP Gateway with `exposeGraphqlEndpoint: true`, as the original
 * does.
 *
 * @example
 * ```ts
 * const flow = new Flow().configGateway({ protocol: 'graphql' }).add({ uses: MyExecutor });
 * await flow.start();
 * await fetch(`http://127.0.0.1:${flow.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ query: 'mutation { docs(data: [{text: "hi"}], execEndpoint: "/") { text } }' }) });
 * ```
 */
export class GraphqlGateway extends FastifyGateway {
  private readonly options: GraphqlGatewayOptions;

  constructor(options: GraphqlGatewayOptions = {}) {
    super(options);
    this.options = options;
  }

  protected override async buildApp(): Promise<FastifyInstance> {
    const app = await createHttpApp({
      ...httpServerOptions(this.options),
      logger: this.logger,
      protocol: 'graphql',
    });
    registerInfoRoutes(app, { streamer: this.streamer, noDebugEndpoints: this.options.noDebugEndpoints });
    registerGraphqlRoutes(app, { streamer: this.streamer });
    return app;
  }
}
