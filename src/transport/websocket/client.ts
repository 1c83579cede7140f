import { request as httpGet } from 'node:http';
import { request as httpsGet } from 'node:https';
import type WebSocket from 'ws';
import { lazyRequire } from '../../core/lazy-require.js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { DataRequest } from '../../proto/request.js';
import { isJsonObject } from '../../proto/struct.js';
import type { jina } from '../../proto/wire.js';
import { decodeStatusFrame } from './codec.js';
import { WsCloseCode, WsPath, type WsSubprotocol } from './frames.js';
import { closeError } from './status.js';
import { tlsFailure } from '../shared/tls-errors.js';
import type { ClientMux } from '../shared/client-mux.js';
import type { ClientTransport, TransportCallOptions } from '../shared/client-transport.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import type { TransportStreamOptions } from '../shared/client-transport.js';
import { wsStreamDoc } from './client-stream.js';
import { frameOf, wsMux } from './client-link.js';

/** ws, loaded with the first socket (not with flowgate: every Executor imports it). */
const loadWs = lazyRequire<typeof WebSocket>(import.meta.url, 'ws');

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** `wss://` and `https://` instead of `ws://` and `http://`. */
  tls?: boolean;
  /** PEM of the CA that signed the Gateway's certificate, for private CAs. */
  rootCertificates?: Buffer;
  /** Frames of the data stream: `bytes` (protobuf, the default and fastest) or `json`. */
  subprotocol?: WsSubprotocol;
  /** Headers of every handshake and HTTP request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Largest frame accepted from the Gateway, bytes; default 100 MiB (ws's default). */
  maxMessageBytes?: number;
}

/**
 * The WebSocket transport: one socket to `/`, opened with the first post, carries every post at
 * once (see `client-link.ts`): each sends its requests without waiting (at most `prefetch`
 * unanswered: default 1000, `0` = unlimited) and yields its responses as they arrive (matched by
 * request id, reordered when `resultsInOrder`). A close with 1011 rejects the posts in flight with
 * `Unavailable` and the Gateway's reason; the next post opens a new socket. `close()` rejects the
 * posts in flight with `Cancelled`. `dryRun` uses WebSocket `/dry_run`, `status` uses `GET /status`.
 *
 * @example
 * ```ts
 * const t = new WebSocketTransport({ host: '127.0.0.1', port: 12345 });
 * for await (const res of t.stream(requests, { resultsInOrder: true })) console.log(res.requestId);
 * ```
 */
export class WebSocketTransport implements ClientTransport {
  private readonly tls: boolean;
  private readonly subprotocol: WsSubprotocol;
  private readonly sockets = new Set<WebSocket>();
  /** Data streams open (the shared one and those of posts with their own headers). */
  private readonly muxes = new Set<ClientMux>();
  /** The socket concurrent posts share. */
  private shared: ClientMux | undefined;

  constructor(
    private readonly address: { host: string; port: number },
    private readonly options: WebSocketTransportOptions = {},
  ) {
    this.tls = options.tls ?? false;
    this.subprotocol = options.subprotocol ?? 'bytes';
  }

  private url(scheme: 'ws' | 'http', path: string): string {
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `${scheme}${this.tls ? 's' : ''}://${host}:${this.address.port}${path}`;
  }

  /**
   * Starts opening a socket. The caller attaches its listeners at once (a frame may arrive with the
   * handshake's answer) and then awaits `opened`, which rejects with `Unavailable` when the Gateway
   * cannot be reached.
   */
  private connect(path: string, subprotocol: WsSubprotocol, headers?: Record<string, string>) {
    const url = this.url('ws', path);
    const ws = new (loadWs())(url, [subprotocol], {
      headers: { ...this.options.headers, ...headers },
      ...(this.options.rootCertificates ? { ca: this.options.rootCertificates } : {}),
      ...(this.options.maxMessageBytes && this.options.maxMessageBytes > 0
        ? { maxPayload: this.options.maxMessageBytes }
        : {}),
    });
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
    const opened = new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        ws.off('open', onOpen);
        reject(handshakeError(err, url, `${this.address.host}:${this.address.port}`));
      };
      const onOpen = () => {
        ws.off('error', onError);
        resolve();
      };
      ws.once('error', onError);
      ws.once('open', onOpen);
    });
    return { ws, url, opened };
  }

  /** A stream on a socket of its own (see `client-stream.ts`). */
  streamDoc(request: StreamDocRequest, options: TransportStreamOptions): AsyncIterable<StreamDocRequest> {
    const { ws, url, opened } = this.connect(WsPath.Data, 'json', options.metadata);
    return wsStreamDoc(ws, url, opened, request, options);
  }

  /**
   * Sends `requests` on the shared socket (opened on first use, again after it closed) and yields
   * their responses; a post with its own `metadata` (handshake headers) gets a socket of its own.
   */
  stream(requests: AsyncIterable<DataRequest>, options: TransportCallOptions): AsyncIterable<DataRequest> {
    const own = options.metadata && Object.keys(options.metadata).length > 0;
    if (own) return this.ownStream(requests, options);
    if (!this.shared || this.shared.failed) this.shared = this.openMux();
    return this.shared.stream(requests, options);
  }

  /** One request on the shared socket; `undefined` for a post with its own `metadata`. */
  postOne(req: DataRequest, options: TransportCallOptions): Promise<DataRequest> | undefined {
    if (options.metadata && Object.keys(options.metadata).length > 0) return undefined;
    if (!this.shared || this.shared.failed) this.shared = this.openMux();
    return this.shared.request(req, options);
  }

  private async *ownStream(
    requests: AsyncIterable<DataRequest>,
    options: TransportCallOptions,
  ): AsyncGenerator<DataRequest> {
    const mux = this.openMux(options.metadata);
    try {
      yield* mux.stream(requests, options);
    } finally {
      mux.close();
    }
  }

  private openMux(headers?: Record<string, string>): ClientMux {
    const { ws, url, opened } = this.connect(WsPath.Data, this.subprotocol, headers);
    const mux = wsMux(ws, url, opened, this.subprotocol);
    this.muxes.add(mux);
    ws.once('close', () => this.muxes.delete(mux));
    return mux;
  }

  async dryRun(timeoutMs = 5000): Promise<jina.IStatusProto> {
    const { ws, url, opened } = this.connect(WsPath.DryRun, this.subprotocol);
    const answer = new Promise<jina.IStatusProto>((resolve, reject) => {
      ws.once('message', (data, isBinary) => {
        try {
          resolve(decodeStatusFrame(frameOf(data, isBinary)));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      ws.once('close', (code, reason) => reject(closeError(code, reason.toString(), url, 1)));
      ws.on('error', (err) =>
        reject(new FlowgateError(Code.Unavailable, `the dry run at ${url} failed: ${err.message}`)),
      );
    });
    answer.catch(() => undefined); // when `opened` fails first, its error is the one reported
    try {
      const run = async () => {
        await opened;
        // As the Python client: one empty frame (the Gateway does not read it).
        ws.send(new Uint8Array(0));
        return answer;
      };
      return await withTimeout(run(), timeoutMs, `the dry run at ${url}`);
    } finally {
      if (ws.readyState === ws.OPEN) ws.close(WsCloseCode.Normal);
      else ws.terminate();
    }
  }

  async status(): Promise<{ jina: Record<string, string>; envs: Record<string, string> }> {
    const body = await getJson(
      this.url('http', '/status'),
      { ca: this.options.rootCertificates, headers: this.options.headers },
      5000,
    );
    if (!isJsonObject(body) || !isJsonObject(body.jina) || !isJsonObject(body.envs))
      throw new FlowgateError(
        Code.Internal,
        `GET ${this.url('http', '/status')} did not return {jina, envs}`,
      );
    const strings = (o: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
    return { jina: strings(body.jina), envs: strings(body.envs) };
  }

  async close(): Promise<void> {
    for (const mux of this.muxes)
      mux.close(
        new FlowgateError(
          Code.Cancelled,
          `the Client was closed while this post was in flight (${mux.what})`,
        ),
      );
    this.muxes.clear();
    this.shared = undefined;
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FlowgateError(Code.DeadlineExceeded, `${what} timed out after ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error for a handshake that failed: TLS, 401, or the Gateway not reachable. */
function handshakeError(err: Error, url: string, address: string): FlowgateError {
  const tls = tlsFailure(err, address);
  if (tls) return new FlowgateError(Code.Unavailable, tls, { cause: err });
  const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
  if (status === '401')
    return new FlowgateError(
      Code.Unauthenticated,
      `the Gateway at ${url} refused the WebSocket handshake with 401: authentication required or the token is not valid (authToken)`,
      { cause: err },
    );
  if (status === '413')
    return new FlowgateError(Code.ResourceExhausted, `the Gateway at ${url} refused the handshake with 413`, {
      cause: err,
    });
  return new FlowgateError(Code.Unavailable, `cannot reach the Gateway at ${url}: ${err.message}`, {
    cause: err,
  });
}

/** GET a JSON document. */
function getJson(
  url: string,
  o: { ca?: Buffer; headers?: Record<string, string> },
  timeoutMs: number,
): Promise<unknown> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const options = {
      method: 'GET',
      timeout: timeoutMs,
      headers: o.headers ?? {},
      ...(o.ca ? { ca: o.ca } : {}),
    };
    const req = get(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 401)
          return reject(
            new FlowgateError(Code.Unauthenticated, `GET ${url} answered 401: ${text.slice(0, 200)}`),
          );
        if ((res.statusCode ?? 0) >= 300)
          return reject(
            new FlowgateError(
              Code.Unavailable,
              `GET ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`,
            ),
          );
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(
            new FlowgateError(Code.Internal, `GET ${url} did not return JSON: ${(err as Error).message}`),
          );
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      const tls = tlsFailure(err, url);
      reject(
        new FlowgateError(Code.Unavailable, tls ?? `cannot reach the Gateway at ${url}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    req.end();
  });
}
