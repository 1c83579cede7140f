import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import { DEFAULT_ENDPOINT } from '../executor/requests.js';
import type { DataRequest } from '../proto/request.js';
import { unary } from '../transport/grpc/client.js';
import { JinaDiscoverEndpointsRPCService } from '../transport/grpc/services.js';
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
}

/** Per-call options of {@link ReplicaSet.send}. */
export type ReplicaSetCallOptions = Omit<ReplicaCallOptions, 'timeoutMs'>;

/**
 * The replicas of one deployment (or of one shard): balances each call over them, preferring the
 * replica with the fewest calls in flight and skipping broken ones, and repeats failed calls on
 * another replica as `retries` allows. Learns the deployment's endpoints once.
 *
 * @example
 * ```ts
 * const set = new ReplicaSet('encoder', ['127.0.0.1:5001', '127.0.0.1:5002'], { timeoutSendMs: 5000 });
 * const response = await set.send(request);
 * ```
 */
export class ReplicaSet {
  readonly replicas: ReplicaConnection[];
  private rr = 0;
  private endpointsPromise: Promise<Set<string>> | undefined;

  constructor(
    readonly name: string,
    addresses: string[],
    private readonly options: ReplicaSetOptions = {},
  ) {
    if (addresses.length === 0)
      throw new FlowgateError(Code.InvalidArgument, `Executor ${name} has no replica address`);
    this.replicas = addresses.map((a) => new ReplicaConnection(stripScheme(a), name, options));
  }

  /** The replicas' addresses. */
  get addresses(): string[] {
    return this.replicas.map((r) => r.address);
  }

  /** Calls in flight over all replicas. */
  get inFlight(): number {
    return this.replicas.reduce((n, r) => n + r.inFlight, 0);
  }

  /** True when at least one replica's channel is usable. */
  get healthy(): boolean {
    return this.replicas.some((r) => r.healthy);
  }

  /** The replica with the fewest calls in flight among the healthy ones (round-robin on ties). */
  pick(exclude: Set<ReplicaConnection> = new Set()): ReplicaConnection | undefined {
    const n = this.replicas.length;
    let best: ReplicaConnection | undefined;
    for (let i = 0; i < n; i++) {
      const r = this.replicas[(this.rr + i) % n]!;
      if (exclude.has(r)) continue;
      if (!best || score(r) < score(best)) best = r;
    }
    this.rr = (this.rr + 1) % Math.max(n, 1);
    return best;
  }

  /** Sends one request to one replica. */
  send(request: DataRequest, options: ReplicaSetCallOptions = {}): Promise<DataRequest> {
    return this.withRetries((r) => r.send(request, this.callOptions(options)), options.signal);
  }

  /** Sends the parts of one request (`process_data`) to one replica. */
  sendParts(parts: DataRequest[], options: ReplicaSetCallOptions = {}): Promise<DataRequest> {
    if (parts.length === 1) return this.send(parts[0]!, options);
    return this.withRetries((r) => r.sendParts(parts, this.callOptions(options)), options.signal);
  }

  private callOptions(options: ReplicaSetCallOptions): ReplicaCallOptions {
    return { ...options, timeoutMs: this.options.timeoutSendMs };
  }

  private async withRetries(
    call: (r: ReplicaConnection) => Promise<DataRequest>,
    signal: AbortSignal | undefined,
  ): Promise<DataRequest> {
    const retries = this.options.retries ?? -1;
    const maxUndelivered = Math.max(3, this.replicas.length, retries + 1);
    const maxDeliveredRetries = Math.max(0, retries);
    let undelivered = 0;
    let deliveredRetries = 0;
    const tried = new Set<ReplicaConnection>();
    const addresses = new Set<string>();
    for (let round = 0; ;) {
      if (signal?.aborted)
        throw new FlowgateError(Code.Cancelled, `the call to Executor ${this.name} was cancelled`);
      if (tried.size >= this.replicas.length) {
        tried.clear();
        await pause(Math.min(50 * 2 ** round++, 500), signal);
      }
      const replica = this.pick(tried)!;
      tried.add(replica);
      addresses.add(replica.address);
      try {
        return await call(replica);
      } catch (err) {
        if (!(err instanceof FlowgateError) || err.code === Code.Cancelled) throw err;
        const retriable = err.code === Code.Unavailable || err.code === Code.DeadlineExceeded;
        if (!wasDelivered(err) && ++undelivered < maxUndelivered) continue;
        if (wasDelivered(err) && retriable && deliveredRetries++ < maxDeliveredRetries) continue;
        throw addresses.size > 1 ? withTried(err, [...addresses]) : err;
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
        return new Set(response.endpoints ?? []);
      } catch (err) {
        // An Executor that cannot tell its endpoints is sent every request.
        if ((err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) return new Set([DEFAULT_ENDPOINT]);
        lastError = err;
      }
    }
    throw new FlowgateError(
      Code.Unavailable,
      `cannot discover the endpoints of Executor ${this.name} at ${this.addresses.join(', ')}: ${(lastError as Error)?.message}`,
      { cause: lastError, details: { executor: this.name, addresses: this.addresses } },
    );
  }

  /** Closes every connection. */
  close(): void {
    for (const r of this.replicas) r.close();
  }
}

function score(r: ReplicaConnection): number {
  return r.inFlight + (r.healthy ? 0 : 1e6);
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

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
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
