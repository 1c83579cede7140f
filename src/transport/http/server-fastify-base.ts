import type { FastifyInstance } from 'fastify';
import type { GatewaySecurity } from '../../gateway/security.js';
import { registerAuthHook } from '../shared/server-auth-hook.js';
import { FastifyGateway } from '../shared/server-fastify-gateway.js';
import { registerInfoRoutes } from '../shared/server-info-routes.js';

/**
 * The base class of a custom Gateway built on a Fastify app (the original's `FastAPIBaseGateway`).
 * Implement only the `app` getter, returning a new Fastify instance with your routes: this class
 * adds the `GET /` health check the Flow and `flowgate ping` rely on (a `GET /` of your own is kept,
 * with a warning), and the lifecycle of every Fastify-based Gateway ({@link FastifyGateway}):
 * listens on `this.host` / `this.port`, serves until `shutdown()`, then waits for the requests in
 * flight.
 *
 * @example
 * ```ts
 * class MyGateway extends FastifyBaseGateway {
 *   get app() {
 *     const app = Fastify();
 *     app.get<{ Querystring: { text: string } }>('/endpoint', async (req) => {
 *       let result: string | undefined;
 *       for await (const docs of this.streamer.streamDocs({ docs: new DocumentArray([{ text: req.query.text }]), execEndpoint: '/' }))
 *         result = docs[0]?.text;
 *       return { result };
 *     });
 *     return app;
 *   }
 * }
 * ```
 */
export abstract class FastifyBaseGateway extends FastifyGateway {
  /** The Fastify app to serve: build a new one on each call (it is read once, by `setupServer`). */
  abstract get app(): FastifyInstance;

  private security: GatewaySecurity = {};

  /**
   * TLS and authentication from `configGateway` (`sslCertfile`/`sslKeyfile`, `authToken`,
   * `authenticate`), set by the runtime before `setupServer`. The app is built by user code with a
   * plain `Fastify()`, so with TLS it is served from an HTTPS server of the lifecycle's own.
   */
  useSecurity(security: GatewaySecurity): void {
    this.security = security;
  }

  protected override buildApp(): Promise<FastifyInstance> {
    const app = this.app;
    if (app.hasRoute({ method: 'GET', url: '/' }))
      this.logger.warn('the custom Gateway already serves GET /: keeping it as the health check');
    registerAuthHook(app, {
      protocol: this.protocols[0] ?? 'http',
      authenticator: this.security.authenticator,
      forwardMetadata: this.security.forwardMetadata,
    });
    registerInfoRoutes(app, { streamer: this.streamer, noDebugEndpoints: true });
    this.serveTls = this.security.tls;
    return Promise.resolve(app);
  }
}
