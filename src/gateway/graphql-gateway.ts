import type { FastifyInstance } from 'fastify';
import type { Authenticator } from './auth.js';
import type { GatewayOptions } from './gateway.js';
import { createHttpApp } from './http/app.js';
import { FastifyGateway } from './http/fastify-gateway.js';
import { registerGraphqlRoutes } from './http/graphql-routes.js';
import { registerInfoRoutes } from './http/info-routes.js';
import type { TlsKeyPair } from './security.js';

/** Options of {@link GraphqlGateway}. */
export interface GraphqlGatewayOptions extends GatewayOptions {
  cors?: boolean;
  /** No `/status`, `/dry_run`. */
  noDebugEndpoints?: boolean;
  /** Serve HTTPS with this key pair (`configGateway({ sslCertfile, sslKeyfile })`). */
  tls?: TlsKeyPair;
  /** Checks every request but `GET /` (401 when it fails). */
  authenticator?: Authenticator;
  /** Header names sent on to Executors as `metadata`. */
  forwardMetadata?: string[];
  /** Largest request or response body in bytes; 0 or less = no limit. Default 64 MiB. */
  maxMessageBytes?: number;
  /** ms a client may take to send one request before it is cut off (408); 0 = no limit. Default 60 s. */
  slowClientTimeout?: number;
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
      logger: this.logger,
      maxMessageBytes: this.options.maxMessageBytes,
      slowClientTimeout: this.options.slowClientTimeout,
      tls: this.options.tls,
      authenticator: this.options.authenticator,
      forwardMetadata: this.options.forwardMetadata,
      protocol: 'graphql',
      cors: this.options.cors,
    });
    registerInfoRoutes(app, { streamer: this.streamer, noDebugEndpoints: this.options.noDebugEndpoints });
    registerGraphqlRoutes(app, { streamer: this.streamer });
    return app;
  }
}
