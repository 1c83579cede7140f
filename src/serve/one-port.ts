import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type {
  Http2Server,
  Http2ServerRequest,
  Http2ServerResponse,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { TlsKeyPair } from '../gateway/security.js';
import type { ConnectionInjector } from '../transport/grpc/rpc-server.js';
import { DEFAULT_SLOW_CLIENT_TIMEOUT_MS, slowClientOptions } from '../transport/shared/server-app.js';

/** The servers of the Gateways attached to one port (each optional). */
export interface OnePortTargets {
  /** gRPC: takes every HTTP/2 connection (prior knowledge, or ALPN `h2` over TLS). */
  grpc?: ConnectionInjector;
  /** REST routes: every HTTP/1.1 request not for another target. */
  http?: FastifyInstance;
  /** `/graphql` (and the other routes when there is no HTTP Gateway). */
  graphql?: FastifyInstance;
  /** The WebSocket upgrades (and the info routes when there is no HTTP or GraphQL Gateway). */
  websocket?: FastifyInstance;
}

/** Options of {@link OnePortServer}. */
export interface OnePortOptions {
  host: string;
  port: number;
  targets: OnePortTargets;
  /** Ends TLS here (ALPN `h2` for gRPC, `http/1.1` for the rest). */
  tls?: TlsKeyPair;
  slowClientTimeout?: number;
  logger: Logger;
  /** Serves a request before the routes (gRPC-Web): returns false to let the routes have it. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** The HTTP/2 connection preface a client with prior knowledge sends first. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Several protocols on ONE port: a TCP (or TLS) listener that looks at each new connection and
 * hands it over, without copying a byte afterwards. An HTTP/2 connection (its preface, or ALPN `h2`)
 * goes to grpc-js (`createConnectionInjector`); an HTTP/1.1 connection goes to an HTTP server whose
 * requests are routed to the Fastify app of the HTTP, GraphQL or WebSocket Gateway by path
 * (`/graphql` to GraphQL) and whose upgrades go to the WebSocket Gateway.
 *
 * @example
 * ```ts
 * const front = new OnePortServer({ host: '127.0.0.1', port: 0, targets: { grpc, http: app }, logger });
 * const port = await front.listen();
 * ```
 */
export class OnePortServer {
  private readonly listener: NetServer;
  private readonly http1: ReturnType<typeof createHttpServer>;
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly options: OnePortOptions) {
    const h2 = options.targets.grpc?.http2;
    if (h2) shareHttp2(h2, (req, res) => this.route(req, res));
    this.http1 = createHttpServer(
      slowClientOptions(options.slowClientTimeout ?? DEFAULT_SLOW_CLIENT_TIMEOUT_MS).http,
      (req, res) => this.route(req, res),
    );
    this.http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const ws = options.targets.websocket;
      if (ws) ws.server.emit('upgrade', req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const tls = options.tls;
    if (tls) {
      const server = createTlsServer({ key: tls.key, cert: tls.cert, ALPNProtocols: ['h2', 'http/1.1'] });
      server.on('secureConnection', (socket: TLSSocket) => {
        this.track(socket);
        if (socket.alpnProtocol === 'h2') this.toGrpc(socket);
        else this.http1.emit('connection', socket);
      });
      server.on('tlsClientError', (err) =>
        options.logger.debug('TLS handshake failed', { error: err.message }),
      );
      this.listener = server;
    } else {
      this.listener = createNetServer({ noDelay: true }, (socket) => {
        this.track(socket);
        this.sniff(socket);
      });
    }
  }

  /** Binds; resolves with the bound port. */
  listen(): Promise<number> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(
          new FlowgateError(
            err.code === 'EADDRINUSE' ? Code.AlreadyExists : Code.Unavailable,
            err.code === 'EADDRINUSE'
              ? `port ${port} on ${host} is already in use: pick another port or stop what is using it`
              : `cannot listen on ${host}:${port}: ${err.message}`,
            { cause: err },
          ),
        );
      this.listener.once('error', onError);
      this.listener.listen(port, host, () => {
        this.listener.off('error', onError);
        const addr = this.listener.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops accepting connections; the open ones are ended by their Gateways' own shutdown. */
  async close(): Promise<void> {
    await new Promise<void>((r) => this.listener.close(() => r()));
    this.http1.closeIdleConnections();
  }

  /** Cuts every connection still open (after the Gateways drained theirs). */
  destroy(): void {
    for (const s of this.sockets) s.destroy();
    this.options.targets.grpc?.destroy();
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.options.logger.debug('connection error', { error: err.message }));
  }

  /** Reads the first bytes of a plaintext connection: HTTP/2 preface or an HTTP/1.1 request line. */
  private sniff(socket: Socket): void {
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const h2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (h2 && n < H2_PREFACE.length) return; // not enough bytes to tell yet
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (h2) this.toGrpc(socket);
      else this.http1.emit('connection', socket);
      process.nextTick(() => socket.resume());
    };
    socket.on('data', onData);
  }

  private toGrpc(socket: Duplex): void {
    const grpc = this.options.targets.grpc;
    if (grpc) grpc.injectConnection(socket);
    else socket.destroy(); // no HTTP/2 service on this port
  }

  /** An HTTP/1.1 request: gRPC-Web first, then `/graphql`, then the REST routes. */
  private route(req: IncomingMessage, res: ServerResponse): void {
    if (this.options.intercept?.(req, res)) return;
    const { http, graphql, websocket } = this.options.targets;
    const url = req.url ?? '/';
    const isGraphql = url === '/graphql' || url.startsWith('/graphql?') || url.startsWith('/graphql/');
    const app = (isGraphql ? graphql : undefined) ?? http ?? graphql ?? websocket;
    if (app) app.routing(req, res);
    else {
      res.statusCode = 404;
      res.end();
    }
  }
}

/**
 * Makes the HTTP/2 server of grpc-js serve the requests that are not gRPC too (REST over h2,
 * gRPC-Web over h2, as browsers send over TLS): Node's compatibility layer (`'request'`) gets
 * every stream whose `content-type` is not `application/grpc[+...]`, grpc-js the others.
 */
function shareHttp2(h2: Http2Server, route: (req: IncomingMessage, res: ServerResponse) => void): void {
  const grpcListeners = h2.listeners('stream') as StreamListener[];
  h2.on('request', route as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
  const compat = (h2.listeners('stream') as StreamListener[]).filter((l) => !grpcListeners.includes(l));
  if (compat.length === 0) return; // no compatibility layer: gRPC only on HTTP/2
  h2.removeAllListeners('stream');
  h2.on(
    'stream',
    function (this: Http2Server, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest) {
      const ct = headers['content-type'] ?? '';
      const grpc = ct.startsWith('application/grpc') && !ct.startsWith('application/grpc-web');
      for (const l of grpc ? grpcListeners : compat) l.call(this, stream, headers, ...rest);
    },
  );
}

type StreamListener = (
  this: Http2Server,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  ...rest: unknown[]
) => void;
