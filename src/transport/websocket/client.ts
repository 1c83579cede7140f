import { request as httpGet } from 'node:http';
import { request as httpsGet } from 'node:https';
import type WebSocket from 'ws';
import { AsyncQueue } from '../../core/async-queue.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { DataRequest } from '../../proto/request.js';
import { isJsonObject } from '../../proto/struct.js';
import type { jina } from '../../proto/wire.js';
import {
  decodeResponseFrame,
  decodeStatusFrame,
  encodeRequestFrame,
  endOfInputFrame,
  type Frame,
} from './codec.js';
import { WsCloseCode, WsPath, type WsSubprotocol } from './frames.js';
import { closeError } from './status.js';
import { tlsFailure } from '../shared/tls-errors.js';
import type { ClientTransport, TransportCallOptions } from '../shared/client-transport.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import type { TransportStreamOptions } from '../shared/client-transport.js';
import { wsStreamDoc } from './client-stream.js';

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

/** Responses waiting for the caller before the socket stops being read. */
const RECEIVE_HIGH_WATER = 256;
/** Bytes waiting in the send buffer before the next request waits for them. */
const SEND_HIGH_WATER_BYTES = 4 * 1024 * 1024;

function frameOf(data: WebSocket.RawData, isBinary: boolean): Frame {
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return isBinary ? buf : buf.toString('utf8');
}

/**
 * The WebSocket transport: every `stream()` is one socket to `/` that sends every request without
 * waiting (at most `prefetch` unanswered, when given), yields responses as they arrive (matched by
 * request id, reordered when `resultsInOrder`), sends the end-of-input marker after the last request
 * and ends when every request has been answered. A close with 1011 rejects with `Unavailable` and the
 * Gateway's reason. `dryRun` uses WebSocket `/dry_run`, `status` uses `GET /status`.
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

  async *stream(
    requests: AsyncIterable<DataRequest>,
    options: TransportCallOptions,
  ): AsyncIterable<DataRequest> {
    const mode = this.subprotocol;
    const { ws: socket, url, opened } = this.connect(WsPath.Data, mode, options.metadata);
    const what = `the stream to ${url}`;
    const out = new AsyncQueue<DataRequest>();
    const deadline = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : undefined;
    let expire: ((err: Error) => void) | undefined;
    const expired = new Promise<never>((_, reject) => (expire = reject));
    expired.catch(() => undefined);
    const timer = deadline
      ? setTimeout(() => {
          const err = new FlowgateError(Code.DeadlineExceeded, `${what} timed out after ${deadline} ms`);
          out.fail(err);
          expire?.(err);
        }, deadline)
      : undefined;
    const prefetch = options.prefetch && options.prefetch > 0 ? options.prefetch : Infinity;
    const pending = new Map<string, number>(); // request id -> send order
    const ordered = new Map<number, DataRequest>();
    let nextOut = 0;
    let sent = 0;
    let inputDone = false;
    let wake: (() => void) | undefined;
    const wakeWriter = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const finishIfDone = () => {
      if (inputDone && pending.size === 0) out.end();
    };
    const deliver = (res: DataRequest) => {
      const idx = pending.get(res.requestId);
      if (idx === undefined) return out.fail(unexpectedResponse(res));
      pending.delete(res.requestId);
      if (!options.resultsInOrder) out.push(res);
      else {
        ordered.set(idx, res);
        while (ordered.has(nextOut)) {
          out.push(ordered.get(nextOut)!);
          ordered.delete(nextOut++);
        }
      }
      if (out.size >= RECEIVE_HIGH_WATER && !socket.isPaused) socket.pause();
      wakeWriter();
      finishIfDone();
    };
    socket.on('message', (data, isBinary) => {
      try {
        deliver(decodeResponseFrame(frameOf(data, isBinary)));
      } catch (err) {
        out.fail(err);
      }
    });
    socket.on('close', (code, reason) => {
      wakeWriter();
      if (!inputDone || pending.size > 0) out.fail(closeError(code, reason.toString(), url, pending.size));
    });
    socket.on('error', (err) =>
      out.fail(new FlowgateError(Code.Unavailable, `${what} failed: ${err.message}`, { cause: err })),
    );
    const isOpen = () => socket.readyState === socket.OPEN;
    const writer = async () => {
      try {
        for await (const req of requests) {
          while (pending.size >= prefetch && isOpen()) await new Promise<void>((r) => (wake = r));
          if (!isOpen()) return;
          pending.set(req.requestId, sent++);
          await send(socket, encodeRequestFrame(req, mode));
        }
        if (!isOpen()) return;
        inputDone = true;
        await send(socket, endOfInputFrame(mode));
        finishIfDone();
      } catch (err) {
        out.fail(err);
      }
    };
    try {
      // A deadline or a failed handshake ends the wait for the socket too.
      await Promise.race([opened, expired]);
      // Not awaited at the end: a caller that stops early must not wait for a slow input source.
      void writer();
      for (;;) {
        const r = await out.next();
        if (r.done) break;
        yield r.value;
        if (socket.isPaused && out.size < RECEIVE_HIGH_WATER / 2) socket.resume();
      }
    } finally {
      clearTimeout(timer);
      // Every answer is in (the Gateway closes too), or the caller stopped early, or it failed.
      if (isOpen()) socket.close(WsCloseCode.Normal);
      else if (socket.readyState !== socket.CLOSED) socket.terminate();
    }
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
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
  }
}

/** The error for a response that answers no request of this stream. */
function unexpectedResponse(res: DataRequest): FlowgateError {
  const ex = res.status?.exception;
  if (res.isError && ex?.name === 'InvalidArgument')
    return new FlowgateError(
      Code.InvalidArgument,
      `the Gateway rejected a frame: ${ex.args?.[0] ?? res.status?.description ?? ''}`,
    );
  return new FlowgateError(
    Code.Internal,
    `the Gateway answered request id '${res.requestId}', which is not waiting for an answer`,
  );
}

/** Sends a frame; waits only when the send buffer is full. */
function send(ws: WebSocket, frame: Frame): Promise<void> {
  if (ws.bufferedAmount < SEND_HIGH_WATER_BYTES) {
    ws.send(frame);
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => ws.send(frame, (err) => (err ? reject(err) : resolve())));
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
