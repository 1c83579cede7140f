import * as grpc from '@grpc/grpc-js';
import type { AbortLike } from '../core/abort-like.js';
import { Code, FlowgateError } from '../core/errors.js';
import { DEFAULT_ENDPOINT } from '../executor/requests.js';
import type { DataRequest } from '../proto/request.js';
import { unary } from '../transport/grpc/link.js';
import { JinaDiscoverEndpointsRPCService } from '../transport/grpc/codec.js';
import { DnsReplicas, isStaticAddress, resolveIntervalFromEnv, type LookupFn } from './dns-replicas.js';
import type { RuntimeMetrics } from './monitoring.js';
import { sentBytes } from './sent-bytes.js';
import {
  createStreamClient,
  generatorEndpoints,
  replicaStream,
  type ReplicaStreamOptions,
} from './replica-stream.js';
import type { StreamDocRequest } from '../transport/grpc/stream-doc.js';
import {
  ReplicaConnection,
  wasDelivered,
  type ReplicaCallOptions,
  type ReplicaConnectionOptions,
} from './replica-connection.js';

/** Options of {@link ReplicaSet}. */
export interface ReplicaSetOptions extends ReplicaConnectionOptions {
  /** Per-call deadline in ms (the original's `timeout_send`); undefined = none. */
  timeoutSendMs?: number;
  /**
   * How failed calls are repeated on another replica.
   *
   * - Unset or negative (default -1): a call that never reached a replica (it could not connect)
   *   moves to another one, up to max(3, replicas) attempts. A call that failed after it was sent
   *   (the replica died while working on it, or `timeoutSend` expired) is reported, never repeated:
   *   it may have run.
   * - `N >= 0`: additionally, up to N calls that failed with UNAVAILABLE or DEADLINE_EXCEEDED after
   *   being sent are repeated on another replica. The Executor may then see a request twice: set it
   *   only for idempotent endpoints.
   */
  retries?: number;
  /**
   * How often a replica address that is a host name (not an IP literal or `localhost`) is resolved
   * again, ms. Default `FLOWGATE_RESOLVE_INTERVAL_MS` from the environment, else 5000.
   */
  resolveIntervalMs?: number;
  /** The resolver for host names (tests inject one); default the system's (`dns.lookup`). */
  lookup?: LookupFn;
  /** With monitoring: records `jina_sending_request_seconds` and the sizes of each call. */
  metrics?: RuntimeMetrics;
}

/** How many replicas of a deployment are serving, draining (stopping) or failing to connect. */
export interface ReplicaHealth {
  total: number;
  serving: number;
  draining: number;
  failing: number;
}

/** Per-call options of {@link ReplicaSet.send}. */
export type ReplicaSetCallOptions = Omit<ReplicaCallOptions, 'timeoutMs'>;

/**
 * The replicas of one deployment (or of one shard): balances each call over them, preferring the
 * replica with the fewest calls in flight and skipping broken and draining ones, and repeats failed
 * calls on another replica as `retries` allows. Learns the deployment's endpoints once.
 *
 * An address whose host is a name (`encoder.ns.svc.cluster.local:8080`, a Kubernetes headless
 * Service) stands for every address the name resolves to, one replica each: the name is resolved
 * before the first call, again every `resolveIntervalMs` and soon after a replica could not be
 * reached; new addresses get a connection, vanished ones stop getting calls and are closed once
 * their calls in flight are answered. IP literals and `localhost` are used as given.
 *
 * @example
 * ```ts
 * const set = new ReplicaSet('encoder', ['127.0.0.1:5001', '127.0.0.1:5002'], { timeoutSendMs: 5000 });
 * const response = await set.send(request);
 * ```
 */
export class ReplicaSet {
  /** The current replicas (it changes as host names resolve to other addresses). */
  replicas: ReplicaConnection[] = [];
  private rr = 0;
  private endpointsPromise: Promise<Set<string>> | undefined;
  private readonly staticAddresses: string[];
  private readonly names: DnsReplicas[] = [];
  private firstResolution: Promise<void> | undefined;
  /** Replicas whose address vanished, closing once their calls in flight are answered. */
  private readonly retired = new Set<ReplicaConnection>();
  private closed = false;
  /** The generator endpoints, learnt with the endpoints (see `replica-stream.ts`). */
  private streaming = new Set<string>();
  /** One channel per replica address for streams (a small HTTP/2 window: `STREAM_WINDOW_BYTES`). */
  private readonly streamClients = new Map<string, grpc.Client>();

  constructor(
    readonly name: string,
    addresses: string[],
    private readonly options: ReplicaSetOptions = {},
  ) {
    if (addresses.length === 0)
      throw new FlowgateError(Code.InvalidArgument, `Executor ${name} has no replica address`);
    const stripped = addresses.map(stripScheme);
    this.staticAddresses = stripped.filter(isStaticAddress);
    for (const a of stripped.filter((x) => !isStaticAddress(x))) {
      this.names.push(
        new DnsReplicas(a, {
          intervalMs: options.resolveIntervalMs ?? resolveIntervalFromEnv(),
          lookup: options.lookup,
          onChange: () => this.reconcile(),
        }),
      );
    }
    this.reconcile();
  }

  /** Makes {@link replicas} match the static addresses plus every name's resolved addresses. */
  private reconcile(): void {
    if (this.closed) return;
    const wanted = [...new Set([...this.staticAddresses, ...this.names.flatMap((n) => n.addresses)])];
    const byAddress = new Map(this.replicas.map((r) => [r.address, r]));
    const next = wanted.map((a) => byAddress.get(a) ?? this.connect(a));
    const keep = new Set(next);
    for (const r of this.replicas) {
      if (keep.has(r)) continue;
      this.retired.add(r);
      r.drainAndClose(() => this.retired.delete(r));
    }
    this.replicas = next;
  }

  private connect(address: string): ReplicaConnection {
    const name = this.names.find((n) => n.addresses.includes(address));
    const options: ReplicaSetOptions = name
      ? {
          ...this.options,
          // Connected by IP: keep the name as the authority (and for TLS, the name checked).
          channelOptions: {
            'grpc.default_authority': name.address,
            ...(this.options.credentials ? { 'grpc.ssl_target_name_override': name.host } : {}),
            ...this.options.channelOptions,
          },
        }
      : this.options;
    const r = new ReplicaConnection(address, this.name, options);
    r.onChange = () => {
      if (r.draining) this.refresh();
    };
    return r;
  }

  /** Resolves the host names once, before the first call (a no-op without names). */
  private resolved(): Promise<void> {
    if (this.names.length === 0) return Promise.resolve();
    this.firstResolution ??= Promise.all(this.names.map((n) => n.start())).then(() => undefined);
    return this.firstResolution;
  }

  /** Resolves the host names again soon (a replica could not be reached, or is stopping). */
  refresh(): void {
    if (this.firstResolution) for (const n of this.names) void n.refresh();
  }

  /** The replicas' addresses. */
  get addresses(): string[] {
    return this.replicas.map((r) => r.address);
  }

  /** Calls in flight over all replicas. */
  get inFlight(): number {
    return this.replicas.reduce((n, r) => n + r.inFlight, 0);
  }

  /** True when at least one replica's channel is usable (or the names are not resolved yet). */
  get healthy(): boolean {
    if (this.replicas.length === 0) return this.names.length > 0 && !this.firstResolution;
    return this.replicas.some((r) => r.healthy);
  }

  /**
   * The replicas' state now, as the Gateway sees it: connected and serving, draining (reported
   * NOT_SERVING by its health watch), or failing (the channel cannot connect). Replicas not
   * connected yet (the Gateway connects on the first call) are in none of these.
   */
  health(): ReplicaHealth {
    const h: ReplicaHealth = { total: this.replicas.length, serving: 0, draining: 0, failing: 0 };
    for (const r of this.replicas) {
      if (r.serving) h.serving++;
      else if (r.draining) h.draining++;
      else if (!r.healthy) h.failing++;
    }
    return h;
  }

  /**
   * The replica with the fewest calls in flight among the healthy ones that are not draining
   * (round-robin on ties); a draining replica only when every other is broken.
   */
  pick(exclude?: Set<ReplicaConnection>): ReplicaConnection | undefined {
    const n = this.replicas.length;
    let best: ReplicaConnection | undefined;
    for (let i = 0; i < n; i++) {
      const r = this.replicas[(this.rr + i) % n]!;
      if (exclude?.has(r)) continue;
      if (!best || score(r) < score(best)) best = r;
    }
    this.rr = (this.rr + 1) % Math.max(n, 1);
    return best;
  }

  /** Sends one request to one replica. */
  send(request: DataRequest, options: ReplicaSetCallOptions = {}): Promise<DataRequest> {
    const run = () => this.withRetries((r) => r.send(request, this.callOptions(options)), options.signal);
    const metrics = this.options.metrics;
    return metrics === undefined ? run() : metrics.observeSend(this.name, sentBytes(request), run);
  }

  /** Sends the parts of one request (`process_data`) to one replica. */
  sendParts(parts: DataRequest[], options: ReplicaSetCallOptions = {}): Promise<DataRequest> {
    if (parts.length === 1) return this.send(parts[0]!, options);
    const run = () => this.withRetries((r) => r.sendParts(parts, this.callOptions(options)), options.signal);
    const metrics = this.options.metrics;
    return metrics === undefined ? run() : metrics.observeSend(this.name, sentBytes(parts), run);
  }

  private callOptions(options: ReplicaSetCallOptions): ReplicaCallOptions {
    return { signal: options.signal, metadata: options.metadata, timeoutMs: this.options.timeoutSendMs };
  }

  /**
   * Calls one replica, moving the call to another when it could not be delivered (or, with
   * `retries`, when it failed on the way). With static addresses the first attempt starts at once,
   * without a promise of its own: the loop below only runs once a call failed.
   */
  private withRetries(
    call: (r: ReplicaConnection) => Promise<DataRequest>,
    signal: AbortLike | undefined,
  ): Promise<DataRequest> {
    if (this.names.length > 0 || this.replicas.length === 0 || signal?.aborted)
      return this.retryLoop(call, signal);
    const first = this.pick()!;
    return call(first).catch((err: unknown) => this.retryLoop(call, signal, { replica: first, err }));
  }

  private async retryLoop(
    call: (r: ReplicaConnection) => Promise<DataRequest>,
    signal: AbortLike | undefined,
    failed?: { replica: ReplicaConnection; err: unknown },
  ): Promise<DataRequest> {
    await this.resolved();
    if (this.replicas.length === 0) {
      await Promise.all(this.names.map((n) => n.refresh()));
      if (this.replicas.length === 0) throw this.unresolved();
    }
    const retries = this.options.retries ?? -1;
    const maxUndelivered = Math.max(3, this.replicas.length, retries + 1);
    const maxDeliveredRetries = Math.max(0, retries);
    let undelivered = 0;
    let deliveredRetries = 0;
    const tried = new Set<ReplicaConnection>();
    const addresses = new Set<string>();
    /** Throws `err` unless the call may be tried again. */
    const afterFailure = (err: unknown): void => {
      if (!(err instanceof FlowgateError) || err.code === Code.Cancelled) throw err;
      if (err.code === Code.Unavailable) this.refresh();
      const retriable = err.code === Code.Unavailable || err.code === Code.DeadlineExceeded;
      if (!wasDelivered(err) && ++undelivered < maxUndelivered) return;
      if (wasDelivered(err) && retriable && deliveredRetries++ < maxDeliveredRetries) return;
      throw addresses.size > 1 ? withTried(err, [...addresses]) : err;
    };
    if (failed) {
      tried.add(failed.replica);
      addresses.add(failed.replica.address);
      afterFailure(failed.err);
    }
    for (let round = 0; ;) {
      if (signal?.aborted)
        throw new FlowgateError(Code.Cancelled, `the call to Executor ${this.name} was cancelled`);
      if (tried.size >= this.replicas.length) {
        tried.clear();
        await pause(Math.min(50 * 2 ** round++, 500), signal);
      }
      const replica = this.pick(tried);
      if (!replica) throw this.unresolved();
      tried.add(replica);
      addresses.add(replica.address);
      try {
        return await call(replica);
      } catch (err) {
        afterFailure(err);
      }
    }
  }

  /** The endpoints this deployment binds (asked once, then cached; asked again after a failure). */
  endpoints(): Promise<Set<string>> {
    this.endpointsPromise ??= this.discover().catch((err: unknown) => {
      this.endpointsPromise = undefined;
      throw err;
    });
    return this.endpointsPromise;
  }

  private async discover(): Promise<Set<string>> {
    await this.resolved();
    if (this.replicas.length === 0) throw this.unresolved();
    const deadlineMs = this.options.timeoutSendMs ?? 10_000;
    let lastError: unknown;
    const ordered = [...this.replicas].sort((a, b) => Number(b.healthy) - Number(a.healthy));
    for (const r of ordered) {
      try {
        const { response } = await unary(
          r.client,
          JinaDiscoverEndpointsRPCService.endpoint_discovery,
          {},
          { deadlineMs },
        );
        this.streaming = generatorEndpoints(response.schemas);
        return new Set(response.endpoints ?? []);
      } catch (err) {
        // An Executor that cannot tell its endpoints is sent every request.
        if ((err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) return new Set([DEFAULT_ENDPOINT]);
        lastError = err;
      }
    }
    throw new FlowgateError(
      Code.Unavailable,
      `cannot reach Executor ${this.name} at ${this.addresses.join(', ')} to ask its endpoints (${(lastError as Error)?.message}); it may be down`,
      { cause: lastError, details: { executor: this.name, addresses: this.addresses } },
    );
  }

  /** The endpoints served by a generator method (streaming endpoints). */
  async streamingEndpoints(): Promise<Set<string>> {
    await this.endpoints();
    return this.streaming;
  }

  /**
   * Calls `stream_doc` on the replica with the fewest calls in flight; `timeoutSendMs` is the
   * deadline of the whole stream unless `options.deadline` is sooner.
   */
  async *streamDoc(
    request: StreamDocRequest,
    options: ReplicaStreamOptions = {},
  ): AsyncGenerator<StreamDocRequest> {
    await this.endpoints();
    const replica = this.pick();
    if (!replica) throw this.unresolved();
    let client = this.streamClients.get(replica.address);
    if (!client) {
      client = createStreamClient(replica.address, this.options);
      this.streamClients.set(replica.address, client);
    }
    const send = this.options.timeoutSendMs;
    const own = send !== undefined && send > 0 ? Date.now() + send : undefined;
    const deadline = own === undefined ? options.deadline : Math.min(own, options.deadline ?? Infinity);
    yield* replicaStream(client, { executor: this.name, address: replica.address }, request, {
      ...options,
      deadline,
    });
  }

  private unresolved(): FlowgateError {
    const why = this.names.map((n) => `${n.host}: ${n.error?.message ?? 'no address'}`).join('; ');
    return new FlowgateError(
      Code.Unavailable,
      `cannot reach Executor ${this.name}: no replica address (${why}); it may not be ready yet`,
      { details: { executor: this.name, delivered: false } },
    );
  }

  /** Stops resolving and closes every connection. */
  close(): void {
    this.closed = true;
    for (const n of this.names) n.close();
    for (const r of [...this.replicas, ...this.retired]) r.close();
    for (const c of this.streamClients.values()) c.close();
  }
}

function score(r: ReplicaConnection): number {
  return r.inFlight + (r.draining ? 1e5 : 0) + (r.healthy ? 0 : 1e6);
}

function withTried(err: FlowgateError, addresses: string[]): FlowgateError {
  return new FlowgateError(err.code, `${err.message} (tried ${addresses.join(', ')})`, {
    cause: err.cause,
    details: { ...err.details, addresses },
  });
}

function stripScheme(address: string): string {
  return address.replace(/^grpcs?:\/\//, '');
}

function pause(ms: number, signal: AbortLike | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
