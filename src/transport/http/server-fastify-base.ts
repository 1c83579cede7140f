import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import { Gateway } from '../../gateway/gateway.js';
import { registerAuthHook } from '../shared/server-auth-hook.js';
import { registerInfoRoutes } from '../shared/server-info-routes.js';
import type { GatewaySecurity } from '../../gateway/security.js';

/**
 * The base class of a custom Gateway built on a Fastify app (the original's `FastAPIBaseGateway`).
 * Implement only the `app` getter, returning a new Fastify instance with your routes: this class
 * adds the `GET /` health check the Flow and `flowgate ping` rely on (a `GET /` of your own is kept,
 * with a warning), listens on `this.host` / `this.port`, serves until `shutdown()`, and then waits
 * for the requests in flight.
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
export abstract class FastifyBaseGateway extends Gateway {
  /** The Fastify app to serve: build a new one on each call (it is read once, by `setupServer`). */
  abstract get app(): FastifyInstance;

  private server: FastifyInstance | undefined;
  private stopped: (() => void) | undefined;
  private closed = false;
  private security: GatewaySecurity = {};
  /** With TLS: the HTTPS server that hands every request to the app (`app.routing`). */
  private httpsServer: HttpsServer | undefined;

  /**
   * TLS and authentication from `configGateway` (`sslCertfile`/`sslKeyfile`, `authToken`,
   * `authenticate`), set by the runtime before `setupServer`. The app is built by user code with a
   * plain `Fastify()`, so with TLS this class serves it from its own HTTPS server.
   */
  useSecurity(security: GatewaySecurity): void {
    this.security = security;
  }

  override async setupServer(): Promise<void> {
    const app = this.app;
    if (app.hasRoute({ method: 'GET', url: '/' }))
      this.logger.warn('the custom Gateway already serves GET /: keeping it as the health check');
    registerAuthHook(app, {
      protocol: this.protocols[0] ?? 'http',
      authenticator: this.security.authenticator,
      forwardMetadata: this.security.forwardMetadata,
    });
    registerInfoRoutes(app, { streamer: this.streamer, noDebugEndpoints: true });
    await app.ready();
    this.server = app;
  }

  override async runServer(): Promise<void> {
    if (!this.server)
      throw new FlowgateError(Code.FailedPrecondition, 'setupServer() must run before runServer()');
    const tls = this.security.tls;
    if (tls) {
      const app = this.server;
      const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => app.routing(req, res));
      this.httpsServer = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } else await this.server.listen({ host: this.host, port: this.port });
    const addr = (this.httpsServer ?? this.server.server).address();
    if (typeof addr === 'object' && addr) this.reportListening(addr.port);
    this.logger.debug('custom Gateway listening', { host: this.host, port: this.port });
    if (this.closed) return;
    await new Promise<void>((r) => (this.stopped = r));
  }

  override async shutdown(): Promise<void> {
    this.closed = true;
    const https = this.httpsServer;
    if (https) {
      const closing = new Promise<void>((r) => https.close(() => r()));
      https.closeIdleConnections();
      await this.server?.close();
      await closing;
    } else await this.server?.close();
    this.stopped?.();
  }
}
