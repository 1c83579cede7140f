import type { FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import { Gateway } from '../../gateway/gateway.js';

/**
 * The lifecycle shared by the Fastify-based Gateways (HTTP, GraphQL): `setupServer` builds the app
 * (`buildApp`) and loads its plugins, `runServer` listens and serves until `shutdown`, which stops
 * accepting connections and waits for the requests in flight.
 */
export abstract class FastifyGateway extends Gateway {
  protected app: FastifyInstance | undefined;
  private stopped: (() => void) | undefined;
  private closed = false;

  /** Builds the Fastify app with every route (not listening yet). */
  protected abstract buildApp(): Promise<FastifyInstance>;

  override async setupServer(): Promise<void> {
    this.app = await this.buildApp();
    await this.app.ready();
  }

  override async runServer(): Promise<void> {
    if (!this.app)
      throw new FlowgateError(Code.FailedPrecondition, 'setupServer() must run before runServer()');
    await this.app.listen({ host: this.host, port: this.port });
    const addr = this.app.server.address();
    if (typeof addr === 'object' && addr) this.reportListening(addr.port);
    this.logger.debug(`${this.protocols.join(', ')} Gateway listening`, { host: this.host, port: this.port });
    if (this.closed) return;
    await new Promise<void>((r) => (this.stopped = r));
  }

  override async shutdown(): Promise<void> {
    this.closed = true;
    await this.app?.close();
    this.stopped?.();
  }
}
