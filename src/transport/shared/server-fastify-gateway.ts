import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import { Gateway } from '../../gateway/gateway.js';
import { setHttpServing } from '../../gateway/readiness.js';
import type { TlsKeyPair } from '../../gateway/security.js';

/**
 * The one lifecycle of every Fastify-based Gateway: the built-in HTTP and GraphQL Gateways and
 * the public `FastifyBaseGateway` for custom ones. `setupServer` builds the app (`buildApp`) and
 * loads its plugins; `runServer` listens, reports the bound port and serves until `shutdown`,
 * which stops accepting connections and waits for the requests in flight.
 *
 * An app built without TLS (a custom Gateway's plain `Fastify()`) is served over HTTPS by a server
 * of this class when `serveTls` is set; the built-in Gateways build their app with TLS instead.
 *
 * @example
 * ```ts
 * class MyGateway extends FastifyGateway {
 *   protected async buildApp() {
 *     const app = Fastify();
 *     app.get('/hello', async () => ({ hello: 'world' }));
 *     return app;
 *   }
 * }
 * ```
 */
export abstract class FastifyGateway extends Gateway {
  private fastify: FastifyInstance | undefined;
  private stopped: (() => void) | undefined;
  private closed = false;
  /** With `serveTls`: the HTTPS server that hands every request to the app (`app.routing`). */
  private httpsServer: HttpsServer | undefined;
  /** Serve the app (built without TLS) over HTTPS with this key pair. */
  protected serveTls: TlsKeyPair | undefined;

  /** The app, once set up: the one-port front routes requests to it (see `attached`). */
  get fastifyApp(): FastifyInstance | undefined {
    return this.fastify;
  }

  /** Builds the Fastify app with every route (not listening yet). */
  protected abstract buildApp(): Promise<FastifyInstance>;

  override async setupServer(): Promise<void> {
    const app = await this.buildApp();
    await app.ready();
    this.fastify = app;
  }

  override async runServer(): Promise<void> {
    const app = this.fastify;
    if (!app) throw new FlowgateError(Code.FailedPrecondition, 'setupServer() must run before runServer()');
    const tls = this.serveTls;
    if (this.attached) this.reportListening(this.port);
    else if (tls) {
      const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => app.routing(req, res));
      this.httpsServer = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } else await app.listen({ host: this.host, port: this.port });
    const addr = this.attached ? null : (this.httpsServer ?? app.server).address();
    if (typeof addr === 'object' && addr) this.reportListening(addr.port);
    this.logger.debug(`${this.protocols.join(', ')} Gateway listening`, { host: this.host, port: this.port });
    if (this.closed) return;
    await new Promise<void>((r) => (this.stopped = r));
  }

  /** Readiness (see `drainGateways`): `GET /` answers 503 while not serving. */
  setServing(serving: boolean): void {
    const server = this.httpsServer ?? this.fastify?.server;
    if (server) setHttpServing(server, serving);
  }

  override async shutdown(): Promise<void> {
    this.closed = true;
    const https = this.httpsServer;
    if (https) {
      const closing = new Promise<void>((r) => https.close(() => r()));
      https.closeIdleConnections();
      await this.fastify?.close();
      await closing;
    } else await this.fastify?.close();
    this.stopped?.();
  }
}
