import type * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import type { DataRequest } from '../proto/request.js';
import { unary, type JinaClientOptions } from '../transport/grpc/client.js';
import { JinaDiscoverEndpointsRPCService } from '../transport/grpc/services.js';
import { ReplicaConnection } from './replica-connection.js';

/** Options of {@link ConnectionPool}. */
export interface ConnectionPoolOptions extends JinaClientOptions {
  /** Per-call deadline in ms (the original's `timeout_send`); undefined = none. */
  timeoutSendMs?: number;
  /**
   * Extra attempts on another replica after a failure to reach one; -1 (default) = as many as
   * there are replicas, at least 3 attempts in total... bounded by the replica count.
   */
  retries?: number;
}

/** The replicas of one deployment. */
class Deployment {
  private rr = 0;
  private endpoints: Promise<Set<string>> | undefined;
  constructor(
    readonly name: string,
    readonly replicas: ReplicaConnection[],
  ) {}

  /** The replica with the fewest requests in flight among the healthy ones (round-robin on ties). */
  pick(exclude: Set<ReplicaConnection>): ReplicaConnection | undefined {
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

  discover(deadlineMs: number): Promise<Set<string>> {
    this.endpoints ??= this.discoverOnce(deadlineMs).catch((err: unknown) => {
      this.endpoints = undefined;
      throw err;
    });
    return this.endpoints;
  }

  private async discoverOnce(deadlineMs: number): Promise<Set<string>> {
    let lastError: unknown;
    for (const r of this.replicas) {
      try {
        const { response } = await unary(
          r.client,
          JinaDiscoverEndpointsRPCService.endpoint_discovery,
          {},
          { deadlineMs },
        );
        return new Set(response.endpoints ?? []);
      } catch (err) {
        lastError = err;
      }
    }
    throw new FlowgateError(
      Code.Unavailable,
      `cannot discover the endpoints of Executor ${this.name} at ${this.replicas.map((r) => r.address).join(', ')}: ${(lastError as Error)?.message}`,
      { cause: lastError, details: { executor: this.name } },
    );
  }
}

function score(r: ReplicaConnection): number {
  return r.inFlight + (r.healthy ? 0 : 1e6);
}

/**
 * The Gateway's connections to every deployment: balances each request over the replicas (fewest in
 * flight first, skipping broken ones), retries on another replica when one cannot be reached, and
 * learns each deployment's endpoints once.
 *
 * @example
 * ```ts
 * const pool = new ConnectionPool({ encoder: ['127.0.0.1:5001', '127.0.0.1:5002'] });
 * const response = await pool.send('encoder', request);
 * ```
 */
export class ConnectionPool {
  private readonly deployments = new Map<string, Deployment>();
  private readonly options: ConnectionPoolOptions;

  constructor(addresses: Record<string, string[]>, options: ConnectionPoolOptions = {}) {
    this.options = options;
    for (const [name, list] of Object.entries(addresses)) {
      this.deployments.set(
        name,
        new Deployment(
          name,
          list.map((a) => new ReplicaConnection(stripScheme(a), name, options)),
        ),
      );
    }
  }

  /** Deployment names. */
  get names(): string[] {
    return [...this.deployments.keys()];
  }

  private get(name: string): Deployment {
    const d = this.deployments.get(name);
    if (!d) throw new FlowgateError(Code.NotFound, `no Executor named ${name} in this Flow`);
    return d;
  }

  /** The endpoints a deployment binds (asked once, then cached). */
  endpoints(name: string): Promise<Set<string>> {
    return this.get(name).discover(this.options.timeoutSendMs ?? 10_000);
  }

  /** Sends a request to one replica of a deployment, retrying on others when it cannot be reached. */
  async send(name: string, request: DataRequest, metadata?: grpc.Metadata): Promise<DataRequest> {
    const d = this.get(name);
    const retries = this.options.retries ?? -1;
    const attempts = retries < 0 ? Math.max(3, d.replicas.length) : retries + 1;
    const tried = new Set<ReplicaConnection>();
    let lastError: FlowgateError | undefined;
    for (let i = 0; i < attempts; i++) {
      if (tried.size >= d.replicas.length) tried.clear();
      const replica = d.pick(tried);
      if (!replica) break;
      tried.add(replica);
      try {
        return await replica.send(request, this.options.timeoutSendMs, metadata);
      } catch (err) {
        lastError = err as FlowgateError;
        // A timeout may have been processed: never repeat it silently.
        if (lastError.code !== Code.Unavailable) throw lastError;
        if (i + 1 < attempts) await delay(Math.min(50 * 2 ** i, 500));
      }
    }
    throw lastError ?? new FlowgateError(Code.Unavailable, `Executor ${name} has no replica`);
  }

  /** Closes every connection. */
  close(): void {
    for (const d of this.deployments.values()) for (const r of d.replicas) r.close();
  }
}

function stripScheme(address: string): string {
  return address.replace(/^grpcs?:\/\//, '');
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
