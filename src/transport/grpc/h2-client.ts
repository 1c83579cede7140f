import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { H2Call, type H2CallHost, type PartsSerialize } from './h2-call.js';
import type { Compression } from './link.js';

/** Options of {@link H2Client}. */
export interface H2ClientOptions {
  /** `grpc-encoding` of the messages sent (and accepted back). Default none. */
  compression?: Compression;
  /** Largest message accepted, bytes; -1 (default) = no limit. */
  maxMessageBytes?: number;
  /** The `:authority` sent (a host name standing for this address). Default the address. */
  authority?: string;
  /** Keepalive ping interval, ms (default 9999, as flowgate's grpc-js channels). */
  keepaliveTimeMs?: number;
  /** How long a ping's answer may take before the connection is dropped, ms (default 20 s). */
  keepaliveTimeoutMs?: number;
  /** HTTP/2 receive window of the session and of each stream, bytes (default 1 GiB). */
  windowBytes?: number;
}

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = grpc.connectivityState;
/** First wait before connecting again after a failed attempt, ms (grpc-js: 1 s). */
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
/** The largest HTTP/2 frame (2^24 - 1): a 1 MiB message arrives in one DATA frame. */
const MAX_FRAME_SIZE = 2 ** 24 - 1;

function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`a gRPC address is host:port, got '${address}'`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * A gRPC client channel to one `host:port` on a plain `node:http2` session (no TLS), for the
 * Gateway's data calls to Executors: large flow-control windows and frames, Nagle off, messages
 * written in parts and read into one buffer each (see `h2-frames.ts`). It offers the part of
 * grpc-js's `Client` and `Channel` that `ReplicaConnection` uses (connectivity state and its watch,
 * unary, server-streaming and bidi calls, `close`), with grpc-js's semantics: IDLE until a call or
 * `getConnectivityState(true)`, TRANSIENT_FAILURE for a backoff after a failed connect, back to IDLE
 * when the connection drops or the server sends GOAWAY (calls in flight on it finish there).
 * Keepalive pings drop a connection whose peer stopped answering. It talks to any standard gRPC
 * server (grpc-js, grpcio).
 *
 * @example
 * ```ts
 * const c = new H2Client('127.0.0.1:5555');
 * const call = c.makeBidiStreamRequest('/jina.JinaRPC/Call', (r) => r.encodeParts(), DataRequest.decode, new grpc.Metadata(), {});
 * ```
 */
export class H2Client extends EventEmitter implements H2CallHost {
  private session: http2.ClientHttp2Session | undefined;
  private state: grpc.connectivityState = IDLE;
  private retryAt = 0;
  private backoffMs = INITIAL_BACKOFF_MS;
  private active = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  readonly compression: Compression;
  readonly maxMessageBytes: number;
  private readonly authority: string;
  private readonly window: number;

  constructor(
    readonly address: string,
    private readonly options: H2ClientOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.compression = options.compression ?? 'none';
    this.maxMessageBytes = options.maxMessageBytes ?? -1;
    this.authority = options.authority ?? address;
    this.window = options.windowBytes ?? 2 ** 30;
  }

  /** grpc-js's `client.getChannel()`: this object is its own channel. */
  getChannel(): this {
    return this;
  }

  /** The channel's state; `tryConnect` starts connecting from IDLE (as grpc-js). */
  getConnectivityState(tryConnect: boolean): grpc.connectivityState {
    if (this.state === TRANSIENT_FAILURE && Date.now() >= this.retryAt) this.setState(IDLE);
    if (tryConnect && this.state === IDLE) this.connect();
    return this.state;
  }

  /** Calls `cb()` once the state is no longer `from`, or `cb(error)` at `deadline` (epoch ms). */
  watchConnectivityState(
    from: grpc.connectivityState,
    deadline: Date | number,
    cb: (err?: Error) => void,
  ): void {
    if (this.getConnectivityState(false) !== from) return process.nextTick(cb);
    const onChange = (): void => {
      clearTimeout(timer);
      cb();
    };
    const timer = setTimeout(
      () => {
        this.off('state', onChange);
        cb(new Error('Deadline passed without connectivity state change'));
      },
      Math.max(0, Number(deadline) - Date.now()),
    );
    this.once('state', onChange);
  }

  private setState(state: grpc.connectivityState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private connect(): http2.ClientHttp2Session {
    const { host, port } = splitAddress(this.address);
    this.setState(CONNECTING);
    const session = http2.connect(`http://${this.authority}`, {
      createConnection: () => net.connect({ host, port, noDelay: true }),
      settings: { initialWindowSize: this.window, maxFrameSize: MAX_FRAME_SIZE, enablePush: false },
      maxSessionMemory: 1 << 20,
    });
    this.session = session;
    session.on('connect', () => {
      if (this.session !== session) return;
      session.setLocalWindowSize(this.window);
      this.backoffMs = INITIAL_BACKOFF_MS;
      if (this.active === 0) session.unref();
      this.keepalive(session);
      this.setState(READY);
    });
    session.on('error', () => undefined); // its streams end UNAVAILABLE; 'close' follows
    session.on('goaway', () => this.drop(session));
    session.on('close', () => this.drop(session));
    return session;
  }

  /** The session ended or is ending: new calls go to a new one. */
  private drop(session: http2.ClientHttp2Session): void {
    if (this.session !== session) return;
    this.session = undefined;
    clearTimeout(this.pingTimer);
    if (this.state === SHUTDOWN) return;
    if (this.state === CONNECTING) {
      this.retryAt = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 1.6, MAX_BACKOFF_MS);
      this.setState(TRANSIENT_FAILURE);
    } else this.setState(IDLE);
  }

  private keepalive(session: http2.ClientHttp2Session): void {
    const every = this.options.keepaliveTimeMs ?? 9999;
    const timeout = this.options.keepaliveTimeoutMs ?? 20_000;
    const tick = (): void => {
      if (this.session !== session || session.destroyed) return;
      const dead = setTimeout(() => session.destroy(), timeout);
      dead.unref();
      const sent = session.ping((err) => {
        clearTimeout(dead);
        if (err) session.destroy();
      });
      if (!sent) clearTimeout(dead);
      this.pingTimer = setTimeout(tick, every);
      this.pingTimer.unref();
    };
    this.pingTimer = setTimeout(tick, every);
    this.pingTimer.unref();
  }

  /** Opens a stream on the current session, connecting one first when there is none. */
  request(headers: http2.OutgoingHttpHeaders): http2.ClientHttp2Stream {
    if (this.state === SHUTDOWN) throw new Error('the channel is closed');
    let session = this.session;
    if (session === undefined || session.closed || session.destroyed) session = this.connect();
    return session.request(headers, { endStream: false });
  }

  callStarted(): void {
    if (this.active++ === 0) this.session?.ref();
  }

  callEnded(): void {
    if (--this.active === 0) this.session?.unref();
  }

  private headers(path: string, metadata: grpc.Metadata): http2.OutgoingHttpHeaders {
    const h: http2.OutgoingHttpHeaders = metadata.toHttp2Headers();
    h[':method'] = 'POST';
    h[':path'] = path;
    h['content-type'] = 'application/grpc';
    h.te = 'trailers';
    h['grpc-accept-encoding'] = 'identity,deflate,gzip';
    if (this.compression !== 'none') h['grpc-encoding'] = this.compression;
    return h;
  }

  /** A unary call (grpc-js's argument list). */
  makeUnaryRequest<Req, Res>(
    path: string,
    serialize: PartsSerialize<Req>,
    deserialize: (b: Buffer) => Res,
    request: Req,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, res?: Res) => void,
  ): H2Call<Req, Res> {
    const call = this.start(path, serialize, deserialize, metadata, options, callback);
    call.write(request);
    call.end();
    return call;
  }

  /** A server-streaming call: `data` per message. */
  makeServerStreamRequest<Req, Res>(
    path: string,
    serialize: PartsSerialize<Req>,
    deserialize: (b: Buffer) => Res,
    request: Req,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): H2Call<Req, Res> {
    const call = this.start(path, serialize, deserialize, metadata, options);
    call.write(request);
    call.end();
    return call;
  }

  /** A bidirectional call: `write` messages, `data` per answer. */
  makeBidiStreamRequest<Req, Res>(
    path: string,
    serialize: PartsSerialize<Req>,
    deserialize: (b: Buffer) => Res,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): H2Call<Req, Res> {
    return this.start(path, serialize, deserialize, metadata, options);
  }

  private start<Req, Res>(
    path: string,
    serialize: PartsSerialize<Req>,
    deserialize: (b: Buffer) => Res,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback?: (err: grpc.ServiceError | null, res?: Res) => void,
  ): H2Call<Req, Res> {
    const d = options.deadline;
    const deadline = d === undefined ? undefined : d instanceof Date ? d.getTime() : d;
    return new H2Call(this, this.headers(path, metadata), serialize, deserialize, deadline, callback);
  }

  /** The channel is SHUTDOWN: no new calls; the session closes once the calls on it ended (as grpc-js). */
  close(): void {
    this.setState(SHUTDOWN);
    clearTimeout(this.pingTimer);
    const s = this.session;
    this.session = undefined;
    s?.close();
  }
}
