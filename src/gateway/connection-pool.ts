import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { AbortLike } from '../core/abort-like.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { Headers } from '../core/headers.js';
import type { DataRequest } from '../proto/request.js';
import type { StreamDocRequest } from '../transport/grpc/stream-doc.js';
import type { DeploymentCallOptions } from './graph-description.js';
import { headersToMetadata } from '../transport/grpc/headers.js';
import { ReplicaSet, type ReplicaHealth, type ReplicaSetOptions } from '../runtime/replica-set.js';

export type { DeploymentCallOptions };

/**
 * Options of {@link ConnectionPool}: `timeoutSendMs` (per-call deadline) and `retries` apply to
 * every deployment unless `calls` overrides them for one; see {@link ReplicaSetOptions} for exactly
 * which failures are repeated.
 */
export interface ConnectionPoolOptions extends ReplicaSetOptions {
  /** Deployment name -> its own `timeoutSendMs` / `retries` (the pool-wide ones are the default). */
  calls?: Record<string, DeploymentCallOptions>;
  /**
   * Deployments reached through a head (sharded ones): each request is its own unary call there, so
   * that the head's network errors come back as gRPC statuses.
   */
  heads?: string[];
  /**
   * Deployments reached over TLS (`add({ tls: true })`, for Executors that serve TLS, typically
   * external ones), trusting the system's CAs (and `NODE_EXTRA_CA_CERTS`).
   */
  tls?: string[];
  /** Called as each call to a deployment settles: its duration in ms and whether it succeeded. */
  onCall?: (name: string, ms: number, ok: boolean) => void;
}

/** Per-call options of {@link ConnectionPool.send}. */
export interface PoolSendOptions {
  /** Aborting cancels the call (the request's client went away or its deadline passed). */
  signal?: AbortLike;
  /** Headers for this call (sent to the Executor as gRPC metadata). */
  headers?: Headers;
}

/** Options of {@link ConnectionPool.streamDoc}. */
export interface PoolStreamOptions extends PoolSendOptions {
  /** Aborting cancels the stream. */
  signal?: AbortSignal;
  /** The whole stream's deadline (epoch ms). */
  deadline?: number;
}

/**
 * The Gateway's connections to every deployment (its replicas, or its head when it has shards):
 * balances each request over the replicas (fewest in flight first, skipping broken ones), moves a
 * request that could not be delivered to another replica, and learns each deployment's endpoints
 * once.
 *
 * @example
 * ```ts
 * const pool = new ConnectionPool({ encoder: ['127.0.0.1:5001', '127.0.0.1:5002'] });
 * const response = await pool.send('encoder', request);
 * ```
 */
export class ConnectionPool {
  private readonly deployments = new Map<string, ReplicaSet>();
  private readonly onCall: ConnectionPoolOptions['onCall'];

  constructor(addresses: Record<string, string[]>, options: ConnectionPoolOptions = {}) {
    this.onCall = options.onCall;
    const heads = new Set(options.heads ?? []);
    const tls = new Set(options.tls ?? []);
    for (const [name, list] of Object.entries(addresses)) {
      const own = options.calls?.[name];
      this.deployments.set(
        name,
        new ReplicaSet(name, list, {
          ...options,
          ...(own?.timeoutSendMs === undefined ? {} : { timeoutSendMs: own.timeoutSendMs }),
          ...(own?.retries === undefined ? {} : { retries: own.retries }),
          unary: heads.has(name),
          ...(tls.has(name) ? { credentials: executorTlsCredentials() } : {}),
        }),
      );
    }
  }

  /** Deployment names. */
  get names(): string[] {
    return [...this.deployments.keys()];
  }

  private get(name: string): ReplicaSet {
    const d = this.deployments.get(name);
    if (!d) throw new FlowgateError(Code.NotFound, `no Executor named ${name} in this Flow`);
    return d;
  }

  /** The endpoints a deployment binds (asked once, then cached). */
  endpoints(name: string): Promise<Set<string>> {
    return this.get(name).endpoints();
  }

  /** The streaming (generator) endpoints a deployment binds (learnt with its endpoints). */
  streamingEndpoints(name: string): Promise<Set<string>> {
    return this.get(name).streamingEndpoints();
  }

  /** Calls `stream_doc` on one replica of a deployment and yields its items (see `ReplicaSet.streamDoc`). */
  streamDoc(
    name: string,
    request: StreamDocRequest,
    options: PoolStreamOptions = {},
  ): AsyncGenerator<StreamDocRequest> {
    return this.get(name).streamDoc(request, {
      signal: options.signal,
      deadline: options.deadline,
      metadata: headersToMetadata(options.headers),
    });
  }

  /** Sends a request to one replica of a deployment. */
  send(name: string, request: DataRequest, options: PoolSendOptions = {}): Promise<DataRequest> {
    if (!this.onCall) return this.get(name).send(request, sendOptions(options));
    const start = performance.now();
    const send = this.get(name).send(request, sendOptions(options));
    return this.observe(name, start, send, request.isError);
  }

  /** Sends the parts of one request (a join without reduce) to one replica, as `process_data`. */
  sendParts(name: string, parts: DataRequest[], options: PoolSendOptions = {}): Promise<DataRequest> {
    if (!this.onCall) return this.get(name).sendParts(parts, sendOptions(options));
    const start = performance.now();
    const send = this.get(name).sendParts(parts, sendOptions(options));
    return this.observe(
      name,
      start,
      send,
      parts.some((p) => p.isError),
    );
  }

  /**
   * Reports the call to `onCall` as it settles: failed when it rejects (the network, a deadline)
   * or when the Executor raised (the response carries an ERROR status the request did not have).
   */
  private observe(
    name: string,
    start: number,
    call: Promise<DataRequest>,
    failedBefore: boolean,
  ): Promise<DataRequest> {
    const onCall = this.onCall!;
    return call.then(
      (response) => {
        onCall(name, performance.now() - start, failedBefore || !response.isError);
        return response;
      },
      (err: unknown) => {
        onCall(name, performance.now() - start, false);
        throw err;
      },
    );
  }

  /** Each deployment's replicas: how many are serving, draining, failing (see `ReplicaSet.health`). */
  health(): Record<string, ReplicaHealth> {
    const out: Record<string, ReplicaHealth> = {};
    for (const [name, d] of this.deployments) out[name] = d.health();
    return out;
  }

  /** Calls in flight to every deployment. */
  get inFlight(): number {
    let n = 0;
    for (const d of this.deployments.values()) n += d.inFlight;
    return n;
  }

  /** Closes every connection. */
  close(): void {
    for (const d of this.deployments.values()) d.close();
  }
}

/** The options of the call on the gRPC link: the headers become its metadata. */
function sendOptions(options: PoolSendOptions): { signal?: AbortLike; metadata?: grpc.Metadata } {
  return { signal: options.signal, metadata: headersToMetadata(options.headers) };
}

/**
 * TLS towards Executors: the system's CAs plus `NODE_EXTRA_CA_CERTS` (grpc-js alone reads only
 * Node's bundled list, not the extra CAs every other Node client honours).
 */
function executorTlsCredentials(): grpc.ChannelCredentials {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  let roots = rootCertificates.join('\n');
  if (extra) {
    try {
      roots += `\n${readFileSync(extra, 'utf8')}`;
    } catch (err) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `cannot read NODE_EXTRA_CA_CERTS ${extra}: ${(err as Error).message}`,
      );
    }
  }
  return grpc.credentials.createSsl(Buffer.from(roots));
}
