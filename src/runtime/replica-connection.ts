import * as grpc from '@grpc/grpc-js';
import type { AbortLike } from '../core/abort-like.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { DataRequest } from '../proto/request.js';
import { H2Client } from '../transport/grpc/h2-client.js';
import type { HopCall, HopClient, HopDuplex } from '../transport/grpc/hop-client.js';
import { createJinaClient, type JinaClientOptions } from '../transport/grpc/link.js';
import {
  JinaDataRequestRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
} from '../transport/grpc/codec.js';

/** Options of one call to a replica. */
export interface ReplicaCallOptions {
  /** The call's deadline in ms (`timeoutSend`); undefined or <= 0 = none. */
  timeoutMs?: number;
  /** Aborting drops the call: it rejects with Cancelled and its answer, if any, is ignored. */
  signal?: AbortLike;
  /** gRPC metadata for this call; when given, the call goes alone (unary) instead of on the shared stream. */
  metadata?: grpc.Metadata;
}

/** Options of {@link ReplicaConnection}. */
export interface ReplicaConnectionOptions extends JinaClientOptions {
  /** How long a call waits for the channel to connect, in ms. Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * Send every request as its own unary `process_single_data` call instead of on the shared
   * stream, so that each failure comes back as a gRPC status (used for heads).
   */
  unary?: boolean;
  /**
   * Watch the replica's `grpc.health.v1.Health/Watch` (service `""`) and mark it draining while it
   * reports NOT_SERVING. Default true.
   */
  watchHealth?: boolean;
  /**
   * The client under the calls: `h2` (default; a plain `node:http2` session, see `H2Client`) or
   * `grpc-js`. Calls with `credentials` (TLS) always use grpc-js. Default from the environment's
   * `FLOWGATE_HOP_TRANSPORT`, else `h2`.
   */
  transport?: 'h2' | 'grpc-js';
}

/** The client of one replica: grpc-js for TLS or when asked, else the `node:http2` client. */
function createHopClient(address: string, options: ReplicaConnectionOptions): HopClient {
  const transport =
    options.transport ?? (process.env.FLOWGATE_HOP_TRANSPORT === 'grpc-js' ? 'grpc-js' : 'h2');
  if (transport === 'grpc-js' || options.credentials) return createJinaClient(address, options);
  const authority = options.channelOptions?.['grpc.default_authority'];
  return new H2Client(address, {
    compression: options.compression,
    maxMessageBytes: options.maxMessageBytes,
    authority,
  });
}

/** A data request as the parts of its encoding (large documents not copied; see `encodeParts`). */
const encodeInParts = (r: DataRequest): Uint8Array[] => r.encodeParts();

/** `grpc.health.v1.Health/Watch` on raw bytes: `{service: ""}` encodes to nothing. */
const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';
const NOT_SERVING = 2;
/** How long to wait before watching a replica's health again after the watch broke, ms. */
const REWATCH_DELAY_MS = 1000;

/** One request on the shared stream, waiting for its answer (no closure per request but `onAbort`). */
class Pending {
  timer: NodeJS.Timeout | undefined;
  readonly onAbort: () => void;

  constructor(
    readonly conn: ReplicaConnection,
    readonly id: string,
    readonly originalId: string,
    readonly resolveFn: (r: DataRequest) => void,
    readonly rejectFn: (e: FlowgateError) => void,
    readonly signal: AbortLike | undefined,
  ) {
    this.onAbort = () => this.reject(conn.cancelled());
  }

  private settle(): void {
    this.conn.forget(this.id);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  resolve(r: DataRequest): void {
    this.settle();
    this.resolveFn(r);
  }

  reject(e: FlowgateError): void {
    this.settle();
    this.rejectFn(e);
  }
}

/**
 * True when a failed call may have reached the replica (it was written to a connected channel), so
 * repeating it could run the request twice. False when the call never left this process.
 */
export function wasDelivered(err: unknown): boolean {
  return !(err instanceof FlowgateError && err.details.delivered === false);
}

/**
 * One replica of a deployment. Single requests travel over one long-lived `JinaRPC/Call` stream
 * that carries many at once, each with a connection-unique id on the way out (so two clients
 * reusing an id cannot collide) and its own id back on the way in. Several parts of one request (a
 * join without reduce) go as one unary `process_data` call.
 *
 * A request is only written once the channel is connected: a failure to connect rejects with
 * `details.delivered === false` (safe to send elsewhere), any later failure with `delivered: true`.
 *
 * Draining: once connected, the replica's health is watched; while it reports NOT_SERVING (it got
 * SIGTERM) it is {@link draining} and the balancer sends it new requests only when no other replica
 * can take them. A flowgate runtime that stops ends the stream with status OK only after answering
 * every request it accepted from it, so requests still unanswered then never ran: they reject as
 * not delivered and move to another replica.
 */
export class ReplicaConnection {
  readonly address: string;
  /** The replica's client channel (a grpc-js `Client` or an `H2Client`). */
  readonly client: HopClient;
  private stream: HopDuplex<DataRequest> | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private active = 0;
  private readonly prefix: string;
  private readonly connectTimeoutMs: number;
  private closed = false;
  private readonly unary: boolean;
  private readonly watchHealth: boolean;
  private watch: HopCall | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;
  private isDraining = false;
  private closeWhenIdle = false;
  private onClosed: (() => void) | undefined;
  /** Called when the replica starts or stops draining, or its stream ended (for the balancer). */
  onChange: (() => void) | undefined;

  constructor(
    address: string,
    private readonly deployment: string,
    options: ReplicaConnectionOptions = {},
  ) {
    this.address = address;
    this.client = createHopClient(address, options);
    this.prefix = `${Math.random().toString(36).slice(2, 8)}-`;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.unary = options.unary ?? false;
    this.watchHealth = options.watchHealth ?? true;
  }

  /** True while the replica reports NOT_SERVING or after it ended its stream: it is stopping. */
  get draining(): boolean {
    return this.isDraining;
  }

  private setDraining(draining: boolean): void {
    if (this.isDraining === draining) return;
    this.isDraining = draining;
    this.onChange?.();
  }

  /** Calls started and not yet settled: the balancer prefers the replica with fewest. */
  get inFlight(): number {
    return this.active;
  }

  /** Whether the channel is currently usable (not in TRANSIENT_FAILURE or SHUTDOWN). */
  get healthy(): boolean {
    const state = this.client.getChannel().getConnectivityState(false);
    return state !== grpc.connectivityState.TRANSIENT_FAILURE && state !== grpc.connectivityState.SHUTDOWN;
  }

  /** Whether the channel is connected (READY) and the replica is not draining: it takes requests now. */
  get serving(): boolean {
    if (this.closed || this.isDraining) return false;
    return this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
  }

  /**
   * Sends one request and resolves to the Executor's response. Rejects with a FlowgateError:
   * Unavailable when the replica cannot be reached or the stream broke, DeadlineExceeded after
   * `timeoutMs`, Cancelled when `signal` aborts.
   */
  send(request: DataRequest, options: ReplicaCallOptions = {}): Promise<DataRequest> {
    if (options.signal?.aborted) return Promise.reject(this.cancelled());
    if (this.unary || (options.metadata && Object.keys(options.metadata.getMap()).length > 0)) {
      return this.unaryCall(JinaSingleDataRequestRPCService.process_single_data, request, options);
    }
    this.active++;
    // Connected and watched already (every call but the first): straight onto the stream.
    if (this.stream !== undefined && this.isReady()) {
      const sent = this.onStream(request, options);
      sent.then(this.releaseFn, this.releaseFn);
      return sent;
    }
    return this.connectAndSend(request, options);
  }

  private async connectAndSend(request: DataRequest, options: ReplicaCallOptions): Promise<DataRequest> {
    try {
      await this.connected(options);
      if (options.signal?.aborted) throw this.cancelled();
      return await this.onStream(request, options);
    } finally {
      this.release();
    }
  }

  /** The channel is READY and its health watch runs (or needs no start). */
  private isReady(): boolean {
    if (this.client.getChannel().getConnectivityState(false) !== grpc.connectivityState.READY) return false;
    if (!this.watch && this.watchHealth && !this.closed && !this.rewatchTimer) this.startWatch();
    return true;
  }

  private readonly releaseFn = (): void => this.release();

  private release(): void {
    this.active--;
    if (this.closeWhenIdle && this.active === 0) this.close();
  }

  /** Sends several parts of one request (`process_data`): the Executor sees `docsMatrix`/`docsMap`. */
  sendParts(parts: DataRequest[], options: ReplicaCallOptions = {}): Promise<DataRequest> {
    return this.unaryCall(JinaDataRequestRPCService.process_data, parts, options);
  }

  /** Drops a request from the table of those waiting for an answer (it settled). */
  forget(id: string): void {
    this.pending.delete(id);
  }

  private onStream(request: DataRequest, options: ReplicaCallOptions): Promise<DataRequest> {
    const stream = this.ensureStream();
    const id = this.prefix + (this.seq++).toString(36);
    const { timeoutMs, signal } = options;
    return new Promise<DataRequest>((resolve, reject) => {
      const p = new Pending(this, id, request.requestId, resolve, reject, signal);
      if (timeoutMs !== undefined && timeoutMs > 0) {
        p.timer = setTimeout(() => p.reject(this.timedOut(timeoutMs)), timeoutMs);
      }
      signal?.addEventListener('abort', p.onAbort, { once: true });
      this.pending.set(id, p);
      stream.write(request.withRequestId(id));
    });
  }

  private ensureStream(): HopDuplex<DataRequest> {
    if (this.stream) return this.stream;
    const def = JinaRPCService.Call;
    const md = new grpc.Metadata();
    const stream =
      this.client instanceof H2Client
        ? this.client.makeBidiStreamRequest(def.path, encodeInParts, def.responseDeserialize, md, {})
        : this.client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, md, {});
    this.stream = stream;
    stream.on('data', (res: DataRequest) => {
      const p = this.pending.get(res.requestId);
      if (!p) return; // timed out or cancelled: drop
      res.requestId = p.originalId;
      p.resolve(res);
    });
    // A status OK ends the stream gracefully: the replica answered every request it accepted.
    let graceful = false;
    const fail = (err?: grpc.ServiceError) => {
      if (this.stream === stream) this.stream = undefined;
      if (this.pending.size === 0) return;
      const failure = graceful
        ? this.notDelivered('it ended the stream (shutting down) before accepting the request')
        : this.networkError(err, 'the stream to it ended');
      for (const p of [...this.pending.values()]) p.reject(failure);
    };
    stream.on('error', fail);
    stream.on('status', (s: grpc.StatusObject) => {
      if (s.code !== grpc.status.OK) return;
      graceful = true;
      if (this.stream === stream) this.stream = undefined;
      // A flowgate runtime reports NOT_SERVING before; without a health watch, assume it is stopping.
      if (!this.watch) this.setDraining(true);
    });
    // 'end' comes after every answer already received has been emitted.
    stream.on('end', () => fail());
    return stream;
  }

  private unaryCall<Req>(
    def: grpc.MethodDefinition<Req, DataRequest>,
    request: Req,
    options: ReplicaCallOptions,
  ): Promise<DataRequest> {
    if (options.signal?.aborted) return Promise.reject(this.cancelled());
    this.active++;
    const run = async () => {
      await this.connected(options);
      if (options.signal?.aborted) throw this.cancelled();
      return new Promise<DataRequest>((resolve, reject) => {
        const { timeoutMs, signal } = options;
        const callOptions: grpc.CallOptions = {};
        if (timeoutMs !== undefined && timeoutMs > 0) callOptions.deadline = Date.now() + timeoutMs;
        let aborted = false;
        const onAbort = () => {
          aborted = true;
          call.cancel();
        };
        // Over node:http2 a single request goes in parts (large documents not copied).
        const serialize =
          this.client instanceof H2Client &&
          def.path === JinaSingleDataRequestRPCService.process_single_data.path
            ? (encodeInParts as unknown as (r: Req) => Buffer)
            : def.requestSerialize;
        const call = this.client.makeUnaryRequest(
          def.path,
          serialize,
          def.responseDeserialize,
          request,
          options.metadata ?? new grpc.Metadata(),
          callOptions,
          (err, res) => {
            signal?.removeEventListener('abort', onAbort);
            if (aborted) reject(this.cancelled());
            else if (err?.code === grpc.status.DEADLINE_EXCEEDED) reject(this.timedOut(timeoutMs ?? 0));
            else if (err) reject(this.networkError(err, 'the call failed'));
            else resolve(res!);
          },
        );
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    };
    return run().finally(() => this.release());
  }

  /** Waits until the channel is connected; rejects as not delivered when it cannot connect. */
  private async connected(options: ReplicaCallOptions): Promise<void> {
    const channel = this.client.getChannel();
    let state = channel.getConnectivityState(true);
    if (state === grpc.connectivityState.READY) return this.startWatch();
    const wait = Math.min(
      this.connectTimeoutMs,
      options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : Infinity,
    );
    const deadline = Date.now() + wait;
    const { signal } = options;
    while (state !== grpc.connectivityState.READY) {
      if (this.closed || state === grpc.connectivityState.SHUTDOWN)
        throw this.notDelivered('the connection is closed');
      if (state === grpc.connectivityState.TRANSIENT_FAILURE)
        throw this.notDelivered('it cannot be connected to');
      if (signal?.aborted) throw this.cancelled();
      const timedOut = await new Promise<boolean>((resolve) => {
        const onAbort = () => resolve(false);
        signal?.addEventListener('abort', onAbort, { once: true });
        channel.watchConnectivityState(state, deadline, (err) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(err !== undefined);
        });
      });
      if (timedOut) throw this.notDelivered(`it did not accept a connection within ${wait} ms`);
      state = channel.getConnectivityState(true);
    }
    this.startWatch();
  }

  /** Watches the replica's health (once connected), to learn when it starts draining. */
  private startWatch(): void {
    if (!this.watchHealth || this.watch || this.closed || this.rewatchTimer) return;
    const call = this.client.makeServerStreamRequest(
      HEALTH_WATCH_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      new grpc.Metadata(),
      {},
    );
    this.watch = call;
    call.on('data', (b: Buffer) => {
      // HealthCheckResponse{status}: field 1, varint.
      const status = b.length >= 2 && b[0] === 0x08 ? b[1] : 0;
      this.setDraining(status === NOT_SERVING);
    });
    let unimplemented = false;
    call.on('error', (err: grpc.ServiceError) => {
      unimplemented = err.code === grpc.status.UNIMPLEMENTED;
    });
    call.on('status', () => {
      if (this.watch !== call) return;
      this.watch = undefined;
      if (unimplemented || this.closed) return; // an Executor without health: nothing to watch
      // The connection broke (or the replica stopped): watch again, which also reconnects.
      this.rewatchTimer = setTimeout(() => {
        this.rewatchTimer = undefined;
        this.startWatch();
      }, REWATCH_DELAY_MS);
      this.rewatchTimer.unref();
    });
  }

  private where(): string {
    return `Executor ${this.deployment} at ${this.address}`;
  }

  /** The Cancelled error of a call whose signal aborted. */
  cancelled(): FlowgateError {
    return new FlowgateError(Code.Cancelled, `the call to ${this.where()} was cancelled`, {
      details: { executor: this.deployment, address: this.address },
    });
  }

  private timedOut(timeoutMs: number): FlowgateError {
    return new FlowgateError(
      Code.DeadlineExceeded,
      `${this.where()} did not answer within timeoutSend=${timeoutMs} ms; raise timeoutSend if it needs longer`,
      { details: { executor: this.deployment, address: this.address, delivered: true } },
    );
  }

  /**
   * Closes the connection once no call is in flight (now, if none is), then calls `onClosed`: a
   * replica that went away.
   */
  drainAndClose(onClosed?: () => void): void {
    this.setDraining(true);
    this.closeWhenIdle = true;
    this.onClosed = onClosed;
    if (this.active === 0) this.close();
  }

  private notDelivered(why: string): FlowgateError {
    return new FlowgateError(Code.Unavailable, `cannot reach ${this.where()}: ${why}; it may be down`, {
      details: { executor: this.deployment, address: this.address, delivered: false },
    });
  }

  private networkError(err: grpc.ServiceError | undefined, fallback: string): FlowgateError {
    const grpcCode = err?.code;
    const code =
      grpcCode === undefined || grpcCode === grpc.status.OK || grpcCode === grpc.status.CANCELLED
        ? Code.Unavailable
        : (grpcCode as Code);
    const reason = err?.details || err?.message || fallback;
    const message =
      code === Code.Unavailable
        ? `lost the connection to ${this.where()} (${reason}); it may be down`
        : `${this.where()} failed the call: ${reason}`;
    return new FlowgateError(code, message, {
      details: { executor: this.deployment, address: this.address, delivered: true },
      cause: err,
    });
  }

  /** Closes the stream and the channel; pending requests fail as Unavailable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.rewatchTimer);
    this.watch?.cancel();
    this.stream?.end();
    this.client.close();
    this.onClosed?.();
  }
}
