import type { Logger } from '../core/logger.js';
import { consoleLogger } from '../core/logger.js';
import type { ExecutorStreamer } from './executor-streamer.js';
import type { GatewayStreamer } from './streamer.js';

/** A protocol a Gateway can serve. */
export type Protocol = 'grpc' | 'http' | 'websocket' | 'graphql';

/** What the runtime injects into every Gateway (and what a subclass constructor passes to `super`). */
export interface GatewayOptions {
  name?: string;
  host?: string;
  port?: number;
  ports?: number[];
  protocols?: Protocol[];
  streamer?: GatewayStreamer;
  executor?: Record<string, ExecutorStreamer>;
  logger?: Logger;
  runtimeArgs?: Record<string, unknown>;
  /**
   * Served through the runtime's one-port front (several protocols on one port, see
   * `serve/one-port.ts`): `runServer` binds no port of its own and hands its server to the front.
   */
  attached?: boolean;
}

/**
 * The base class of every Gateway, built-in or custom. Implement `setupServer` (build the server,
 * bound to `this.host` / `this.port`), `runServer` (serve until shut down) and `shutdown`.
 *
 * @example
 * ```ts
 * class MyGateway extends Gateway {
 *   private server?: http.Server;
 *   async setupServer() {
 *     this.server = http.createServer(async (req, res) => {
 *       for await (const docs of this.streamer.streamDocs({ docs: new DocumentArray([{ text: 'hi' }]) })) {
 *         res.end(JSON.stringify(docs.texts));
 *       }
 *     });
 *   }
 *   async runServer() { await new Promise((r) => this.server!.listen(this.port, this.host, () => r(undefined))); }
 *   async shutdown() { this.server?.close(); }
 * }
 * ```
 */
export abstract class Gateway {
  name: string;
  host: string;
  port: number;
  ports: number[];
  protocols: Protocol[];
  streamer!: GatewayStreamer;
  executor: Record<string, ExecutorStreamer>;
  logger: Logger;
  runtimeArgs: Record<string, unknown>;
  /** See {@link GatewayOptions.attached}. */
  readonly attached: boolean;
  private reportBound: ((port: number) => void) | undefined;
  /**
   * Resolves with the port the server is bound to, once it listens (see {@link reportListening}):
   * how the runtime learns the port of a server it started on port 0.
   */
  readonly listening: Promise<number> = new Promise((resolve) => (this.reportBound = resolve));

  constructor(options: GatewayOptions = {}) {
    this.name = options.name ?? 'gateway';
    this.host = options.host ?? '127.0.0.1';
    this.ports = options.ports ?? (options.port !== undefined ? [options.port] : []);
    this.port = options.port ?? this.ports[0] ?? 0;
    this.protocols = options.protocols ?? ['grpc'];
    if (options.streamer) this.streamer = options.streamer;
    this.executor = options.executor ?? {};
    this.logger = options.logger ?? consoleLogger(this.name);
    this.runtimeArgs = options.runtimeArgs ?? {};
    this.attached = options.attached ?? false;
  }

  /** Builds the server (and anything it needs). Called after injection. */
  abstract setupServer(): Promise<void>;
  /** Serves until `shutdown()`. */
  abstract runServer(): Promise<void>;
  /** Stops the server and frees its resources. */
  abstract shutdown(): Promise<void>;

  /**
   * Called by `runServer` once the server listens: records the bound port (the one the OS chose
   * for port 0) and resolves {@link listening}. The built-in Gateways and `FastifyBaseGateway` call
   * it; a custom Gateway that does not is given a free port chosen beforehand instead.
   *
   * @example
   * ```ts
   * this.server.listen(this.port, this.host, () => this.reportListening((this.server.address() as AddressInfo).port));
   * ```
   */
  reportListening(port: number): void {
    this.port = port;
    this.reportBound?.(port);
  }

  /** Copies the runtime's values onto this instance (used when a subclass constructor dropped them). */
  inject(options: GatewayOptions): void {
    if (options.name !== undefined) this.name = options.name;
    if (options.host !== undefined) this.host = options.host;
    if (options.ports !== undefined) this.ports = options.ports;
    if (options.port !== undefined) this.port = options.port;
    if (options.protocols !== undefined) this.protocols = options.protocols;
    if (options.streamer !== undefined) this.streamer = options.streamer;
    if (options.executor !== undefined) this.executor = options.executor;
    if (options.logger !== undefined) this.logger = options.logger;
    if (options.runtimeArgs !== undefined) this.runtimeArgs = options.runtimeArgs;
  }
}

/** A class that builds a Gateway. */
export type GatewayClass = new (options: GatewayOptions & Record<string, unknown>) => Gateway;
