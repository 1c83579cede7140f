import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import { Code, FlowgateError } from '../../core/errors.js';
import { Document, DocumentArray, encodeDocs } from '../../document/index.js';
import { DRY_RUN_ENDPOINT } from '../../executor/requests.js';
import { DataRequest, StatusCode, statusFromError } from '../../proto/request.js';
import type { jina } from '../../proto/wire.js';
import { encodeStatusFrame } from './codec.js';
import {
  chooseSubprotocol,
  DEFAULT_WS_SUBPROTOCOL,
  WsCloseCode,
  WsPath,
  type WsSubprotocol,
} from './frames.js';
import { headerRecord, metadataToForward, type Authenticator } from '../../gateway/auth.js';
import { Gateway, type GatewayOptions } from '../../gateway/gateway.js';
import { peerOf, registerAuthHook } from '../shared/server-auth-hook.js';
import { DEFAULT_SLOW_CLIENT_TIMEOUT_MS, slowClientOptions } from '../shared/server-app.js';
import { registerInfoRoutes } from '../shared/server-info-routes.js';
import { describeOnlySchemaController } from '../shared/server-schema-compilers.js';
import type { TlsKeyPair } from '../../gateway/security.js';
import { sendFrame, serveDataStream } from './server-data-stream.js';
import { isNetworkError, networkCloseReason } from './status.js';
import { forwardedHeaders, type Headers } from '../../core/headers.js';

/** Options of {@link WebSocketGateway}. */
export interface WebSocketGatewayOptions extends GatewayOptions {
  /** Leave out `GET /status`, `GET /dry_run` and WebSocket `/dry_run`. */
  noDebugEndpoints?: boolean;
  /**
   * The largest frame a client may send or the Gateway may answer; a larger one closes the socket
   * with 1009 and a reason naming the limit. Default 64 MiB.
   */
  maxMessageBytes?: number;
  /** Serve `wss://` and `https://` with this key and certificate (PEM). */
  tls?: TlsKeyPair;
  /** Checks every handshake and HTTP request but `GET /`: the upgrade is refused with 401. */
  authenticator?: Authenticator;
  /** Handshake header names sent on to Executors as `metadata`. */
  forwardMetadata?: string[];
  /**
   * ms a client may leave responses unread (the send buffer full) before the socket is cut, and may
   * take to send an HTTP request; 0 = no limit. Default 60 s.
   */
  slowClientTimeout?: number;
}

/** The default of {@link WebSocketGatewayOptions.maxMessageBytes}. */
export const DEFAULT_WS_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Makes the close that `ws` sends for a frame over `maxPayload` (1009, without a reason) name the
 * limit: ws calls `close(1009)` on the socket itself, so this wraps that one socket's `close`.
 */
function limitCloseReason(ws: WebSocket, limit: number): void {
  const close = ws.close.bind(ws);
  ws.close = (code?: number, reason?: string | Buffer) =>
    close(
      code,
      code === WsCloseCode.MessageTooBig && reason === undefined
        ? `a frame is larger than the limit of ${limit} bytes (maxMessageBytes)`
        : reason,
    );
}

/** How long `shutdown()` lets open streams finish before cutting them. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * The built-in WebSocket Gateway, as the original's: WebSocket `/` streams requests and responses
 * (subprotocol `json`, the default, or `bytes`), WebSocket `/dry_run` answers one status, and the
 * HTTP routes `GET /`, `/status` and `/dry_run` are served on the same port.
 *
 * @example
 * ```ts
 * const flow = new Flow().configGateway({ protocol: 'websocket', port: 12345 }).add({ uses: MyExec });
 * await flow.start();
 * const client = new Client({ host: 'ws://127.0.0.1:12345' });
 * ```
 */
export class WebSocketGateway extends Gateway {
  private app: FastifyInstance | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sessions = new Set<Promise<void>>();
  private stopped: (() => void) | undefined;
  private readonly noDebugEndpoints: boolean;
  private readonly maxMessageBytes: number;
  private readonly tls: WebSocketGatewayOptions['tls'];
  private readonly authenticator: Authenticator | undefined;
  private readonly forwardMetadata: string[] | undefined;
  private readonly slowClientTimeout: number;

  constructor(options: WebSocketGatewayOptions = {}) {
    super(options);
    this.noDebugEndpoints = options.noDebugEndpoints ?? false;
    const max = options.maxMessageBytes;
    this.maxMessageBytes = max !== undefined && max > 0 ? max : DEFAULT_WS_MAX_MESSAGE_BYTES;
    this.tls = options.tls;
    this.authenticator = options.authenticator;
    this.forwardMetadata = options.forwardMetadata;
    this.slowClientTimeout = options.slowClientTimeout ?? DEFAULT_SLOW_CLIENT_TIMEOUT_MS;
  }

  /** The app, once set up: the one-port front routes requests and upgrades to it (see `attached`). */
  get fastifyApp(): FastifyInstance | undefined {
    return this.app;
  }

  override async setupServer(): Promise<void> {
    const timeouts = slowClientOptions(this.slowClientTimeout);
    // no Ajv / fast-json-stringify: the routes' schemas only describe (see server-schema-compilers.ts)
    const schemaController = describeOnlySchemaController();
    // Fastify and ws load with the WebSocket Gateway, not with flowgate
    const [{ default: Fastify }, { WebSocketServer }] = await Promise.all([import('fastify'), import('ws')]);
    // With `https` Fastify is typed over https.Server; the routes use nothing specific to either.
    const app = (
      this.tls
        ? Fastify({ logger: false, schemaController, ...timeouts, https: { ...this.tls, ...timeouts.http } })
        : Fastify({ logger: false, schemaController, ...timeouts })
    ) as FastifyInstance;
    registerAuthHook(app, {
      protocol: 'websocket',
      authenticator: this.authenticator,
      forwardMetadata: this.forwardMetadata,
    });
    registerInfoRoutes(app, { streamer: this.streamer, noDebugEndpoints: this.noDebugEndpoints });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.maxMessageBytes,
      handleProtocols: (offered) => chooseSubprotocol(offered) ?? false,
    });
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.authorizeUpgrade(req, socket).then((headers) => {
        if (headers !== false) this.onUpgrade(req, socket, head, headers);
      });
    });
    this.app = app;
  }

  /**
   * Authenticates a handshake: false after refusing it with 401 (nothing else is read from that
   * socket), else the metadata its requests forward to Executors.
   */
  private async authorizeUpgrade(req: IncomingMessage, socket: Duplex): Promise<Headers | undefined | false> {
    socket.on('error', (err) => this.logger.debug('upgrade socket error', { error: err.message }));
    const headers = headerRecord(req.headers);
    let principal: Record<string, unknown> | undefined;
    if (this.authenticator) {
      const auth = await this.authenticator({
        protocol: 'websocket',
        headers,
        peer: peerOf(req.socket),
        method: req.method ?? 'GET',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
      });
      if (!auth.ok) {
        const body = JSON.stringify({ detail: auth.message });
        socket.end(
          `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        return false;
      }
      principal = auth.principal;
    }
    return forwardedHeaders(metadataToForward(headers, this.forwardMetadata, principal));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, headers: Headers | undefined): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route =
      path === WsPath.Data ? 'data' : path === WsPath.DryRun && !this.noDebugEndpoints ? 'dryRun' : undefined;
    if (!route || !this.wss) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const peer = peerOf(req.socket);
    const limit = this.maxMessageBytes;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      limitCloseReason(ws, limit);
      const mode: WsSubprotocol = chooseSubprotocol([ws.protocol]) ?? DEFAULT_WS_SUBPROTOCOL;
      this.logger.debug('client connected', { peer, path, subprotocol: mode });
      const session =
        route === 'data'
          ? serveDataStream(ws, {
              streamer: this.streamer,
              mode,
              logger: this.logger,
              peer,
              headers,
              maxMessageBytes: limit,
              slowClientTimeout: this.slowClientTimeout,
            })
          : this.serveDryRun(ws, mode);
      this.sessions.add(session);
      void session.finally(() => this.sessions.delete(session));
    });
  }

  /** WebSocket `/dry_run`: one dry run through the Flow, one status frame, then close. */
  private async serveDryRun(ws: WebSocket, mode: WsSubprotocol): Promise<void> {
    ws.on('error', (err) => this.logger.debug('WebSocket error', { error: err.message }));
    // The client may send a frame (the Python client sends b''); it is not read.
    ws.on('message', () => undefined);
    let status: jina.IStatusProto;
    try {
      const res = await this.streamer.process(
        DataRequest.create({
          endpoint: DRY_RUN_ENDPOINT,
          docsBytes: encodeDocs(new DocumentArray([new Document()])),
        }),
      );
      status = res.status ?? { code: StatusCode.SUCCESS };
    } catch (err) {
      if (isNetworkError(err)) {
        ws.close(WsCloseCode.InternalError, networkCloseReason(err));
        return;
      }
      status = statusFromError(err, '');
    }
    await sendFrame(ws, encodeStatusFrame(status, mode));
    if (ws.readyState === ws.OPEN) ws.close(WsCloseCode.Normal);
  }

  override async runServer(): Promise<void> {
    if (!this.app)
      throw new FlowgateError(Code.FailedPrecondition, 'setupServer() must run before runServer()');
    if (this.attached) this.reportListening(this.port);
    else {
      await this.app.listen({ host: this.host, port: this.port });
      const addr = this.app.server.address();
      if (addr && typeof addr === 'object') this.reportListening(addr.port);
    }
    await new Promise<void>((r) => (this.stopped = r));
  }

  override async shutdown(): Promise<void> {
    const wss = this.wss;
    if (wss) {
      for (const ws of wss.clients) ws.close(WsCloseCode.GoingAway, 'the Gateway is shutting down');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.sessions]),
        new Promise((r) => (timer = setTimeout(r, SHUTDOWN_GRACE_MS))),
      ]);
      clearTimeout(timer);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
    await this.app?.close();
    this.stopped?.();
  }
}
