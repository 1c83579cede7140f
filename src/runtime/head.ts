import { setMaxListeners } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import { consoleLogger, type Logger } from '../core/logger.js';
import { DRY_RUN_ENDPOINT } from '../executor/requests.js';
import type { DataRequest } from '../proto/request.js';
import type { Compression } from '../transport/grpc/link.js';
import { createGrpcServer, type FlowgateGrpcServer } from '../transport/grpc/rpc-server.js';
import { toGrpcStatus } from '../transport/grpc/status.js';
import { GracefulStop, gracePeriodFromEnv } from './graceful-stop.js';
import { addHeadStreamDoc, headStreamingEndpoints } from './head-stream.js';
import { Observability, observeHeadCall, type ObservabilityOptions } from './observability.js';
import { addRuntimeServices } from './runtime-services.js';
import { concatRequests, reduceRequests } from './reduce.js';
import { ReplicaSet } from './replica-set.js';

/** How a head spreads a request over its shards: one of them (`ANY`) or all (`ALL`). */
export type PollingType = 'ANY' | 'ALL';

/**
 * `'ANY'`, `'ALL'`, or per endpoint, e.g. `{ '/search': 'ALL', '*': 'ANY' }` (`*`: every other
 * endpoint).
 */
export type Polling = PollingType | Record<string, PollingType>;

/**
 * The polling of one endpoint. As in the original, `/search` is `ALL` and `/index` is `ANY` unless
 * a per-endpoint map names them, whatever the default (`'ANY'`, `'ALL'` or the map's `*`) is.
 *
 * @example
 * ```ts
 * pollingFor('ANY', '/search');                  // 'ALL'
 * pollingFor({ '/search': 'ANY' }, '/search');   // 'ANY'
 * pollingFor('ALL', '/custom');                  // 'ALL'
 * ```
 */
export function pollingFor(polling: Polling | undefined, endpoint: string): PollingType {
  const map: Record<string, PollingType> = { '/search': 'ALL', '/index': 'ANY' };
  let fallback: PollingType = 'ANY';
  if (typeof polling === 'string') fallback = polling;
  else if (polling) {
    fallback = polling['*'] ?? 'ANY';
    Object.assign(map, polling);
  }
  return map[endpoint] ?? fallback;
}

/** Options of {@link HeadRuntime}. */
export interface HeadRuntimeOptions {
  /** The sharded deployment's name. */
  name: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The replica addresses (`host:port`) of each shard, in shard order. */
  shards: string[][];
  polling?: Polling;
  /** Replica addresses of the Executor that sees each request before the shards. */
  usesBefore?: string[];
  /** Replica addresses of the Executor that receives every shard's answer (as parts). */
  usesAfter?: string[];
  /** Concatenate the shards' documents instead of reducing them by id. */
  noReduce?: boolean;
  /** Per-call deadline to each shard, ms. */
  timeoutSendMs?: number;
  retries?: number;
  compression?: Compression;
  logger?: Logger;
  /** How long `close()` (SIGTERM) drains requests in flight, ms; default as the worker's. */
  gracePeriodMs?: number;
  /** How often shard addresses that are host names are resolved again, ms (see `ReplicaSet`). */
  resolveIntervalMs?: number;
  /** Prometheus metrics and OpenTelemetry tracing of this head (see `docs/observability.md`). */
  observability?: ObservabilityOptions;
}

/**
 * The head of a sharded deployment: receives each request (as the Gateway sends it to any
 * Executor), runs it through `usesBefore`, sends it to one shard or to all of them (by the
 * endpoint's polling), and answers with `usesAfter`'s result or the shards' answers reduced by
 * document id. Shards whose calls fail are left out (with a warning) while at least one answers.
 *
 * @example
 * ```ts
 * const head = new HeadRuntime({ name: 'indexer', shards: [['127.0.0.1:5001'], ['127.0.0.1:5002']], polling: 'ALL' });
 * const port = await head.start();
 * ```
 */
export class HeadRuntime {
  private readonly server: FlowgateGrpcServer;
  private readonly shards: ReplicaSet[];
  private readonly usesBefore: ReplicaSet | undefined;
  private readonly usesAfter: ReplicaSet | undefined;
  private readonly logger: Logger;
  private rr = 0;
  private inFlight = 0;
  private readonly stopper: GracefulStop;
  private closing: Promise<void> | undefined;
  /** Metrics and tracing; undefined when both are off. */
  private readonly observability: Observability | undefined;
  port = 0;

  constructor(private readonly options: HeadRuntimeOptions) {
    if (options.shards.length === 0)
      throw new FlowgateError(Code.InvalidArgument, `the head of ${options.name} has no shard`);
    this.observability = Observability.create(`${options.name}/head`, options.observability);
    const setOptions = {
      metrics: this.observability?.metrics,
      timeoutSendMs: options.timeoutSendMs,
      retries: options.retries,
      compression: options.compression,
      resolveIntervalMs: options.resolveIntervalMs,
    };
    this.shards = options.shards.map(
      (addrs, i) => new ReplicaSet(`${options.name}/shard-${i}`, addrs, setOptions),
    );
    const aux = (role: string, addrs: string[] | undefined) =>
      addrs && addrs.length > 0 ? new ReplicaSet(`${options.name}/${role}`, addrs, setOptions) : undefined;
    this.usesBefore = aux('uses-before', options.usesBefore);
    this.usesAfter = aux('uses-after', options.usesAfter);
    this.logger = options.logger ?? consoleLogger(`${options.name}/head`);
    this.server = createGrpcServer();
    this.stopper = new GracefulStop(
      {
        setServing: (serving) => this.server.setServing(serving),
        inFlight: () => this.inFlight,
        closeServer: (graceMs) => this.server.close(graceMs),
      },
      options.gracePeriodMs ?? gracePeriodFromEnv(),
    );
  }

  /** The port the Prometheus metrics are served on, when `observability.monitoring` is on. */
  get monitoringPort(): number | undefined {
    return this.observability?.monitoringPort;
  }

  /** Runs the parts of one request through the shards; network failures reject. */
  async handle(parts: DataRequest[], signal?: AbortSignal, md?: grpc.Metadata): Promise<DataRequest> {
    this.inFlight++;
    try {
      const obs = this.observability;
      if (obs === undefined) return await this.route(parts, signal);
      return await observeHeadCall(obs, `${this.options.name}/head`, parts, md, (metadata) =>
        this.route(parts, signal, metadata),
      );
    } finally {
      this.inFlight--;
    }
  }

  private async route(
    parts: DataRequest[],
    signal?: AbortSignal,
    metadata?: grpc.Metadata,
  ): Promise<DataRequest> {
    const endpoint = parts[0]!.endpoint;
    let input = parts;
    if (this.usesBefore) {
      const before = await this.usesBefore.sendParts(input, { signal, metadata });
      if (before.isError) return before;
      input = [before];
    }
    const all = endpoint === DRY_RUN_ENDPOINT || pollingFor(this.options.polling, endpoint) === 'ALL';
    const targets = all ? this.shards.map((s, i) => ({ s, i })) : [this.pickShard()];
    const settled = await Promise.allSettled(
      targets.map(({ s }) => s.sendParts(input, { signal, metadata })),
    );
    const answers: DataRequest[] = [];
    const failures: unknown[] = [];
    settled.forEach((r, k) => {
      if (r.status === 'fulfilled') {
        const a = r.value.clone();
        a.routes = [{ executor: `${this.options.name}/shard-${targets[k]!.i}` }];
        answers.push(a);
      } else failures.push(r.reason);
    });
    if (answers.length === 0) throw failures[0];
    if (failures.length > 0) {
      this.logger.warn(
        `${failures.length} of ${targets.length} shards failed; answering with the others: ${(failures[0] as Error).message}`,
      );
    }
    // An Executor error in any shard is the answer: it must not be hidden by the others' success.
    const error = answers.find((a) => a.isError);
    if (error) return error;
    if (this.usesAfter) return this.usesAfter.sendParts(answers, { signal, metadata });
    if (answers.length === 1) return answers[0]!;
    return this.options.noReduce ? concatRequests(answers) : reduceRequests(answers);
  }

  /** The next shard round-robin, skipping shards none of whose replicas can be reached. */
  private pickShard(): { s: ReplicaSet; i: number } {
    const n = this.shards.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      if (this.shards[i]!.healthy) {
        this.rr = (i + 1) % n;
        return { s: this.shards[i]!, i };
      }
    }
    const i = this.rr;
    this.rr = (i + 1) % n;
    return { s: this.shards[i]!, i };
  }

  /** The endpoints of the shards, `usesBefore` and `usesAfter`, together. */
  async endpoints(): Promise<string[]> {
    const aux = await Promise.all(
      [this.usesBefore, this.usesAfter].map((s) => s?.endpoints() ?? Promise.resolve(undefined)),
    );
    // Shards serve the same Executor: one that answers is enough.
    const shards = await Promise.allSettled(this.shards.map((s) => s.endpoints()));
    const known = shards.find((r) => r.status === 'fulfilled');
    if (!known) throw (shards[0] as PromiseRejectedResult).reason;
    return [...new Set([...aux, known.value].flatMap((s) => (s ? [...s] : [])))];
  }

  /** Registers the services, binds, and resolves to the bound port. */
  async start(): Promise<number> {
    addRuntimeServices(this.server, {
      handle: (parts, call) => {
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        return this.handle(parts, abort.signal, call.metadata);
      },
      toStatus: (err) => this.grpcStatus(err),
      serveStream: (call) => this.serveStream(call),
      endpoints: () => this.endpoints(),
      streamingEndpoints: () => headStreamingEndpoints(this.shards),
    });
    addHeadStreamDoc(this.server, {
      name: this.options.name,
      polling: (endpoint) => pollingFor(this.options.polling, endpoint),
      pickShard: () => this.pickShard().s,
      hasUsesBeforeAfter: this.usesBefore !== undefined || this.usesAfter !== undefined,
      onStart: () => this.inFlight++,
      onEnd: () => this.inFlight--,
    });
    await this.observability?.serve(this.options.host ?? '127.0.0.1');
    this.port = await this.server.listen(this.options.host ?? '127.0.0.1', this.options.port ?? 0);
    return this.port;
  }

  /**
   * `JinaRPC/Call`: requests handled concurrently, answered as they complete. A network failure
   * cannot be a gRPC status here (the stream carries other requests): it comes back as the
   * request's error status, naming the head.
   */
  private serveStream(call: grpc.ServerDuplexStream<DataRequest, DataRequest>): void {
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per request in flight on this stream
    // Ends the stream once the client ends it, or once stopping, when its requests are answered.
    const stream = this.stopper.track(call);
    call.on('cancelled', () => abort.abort());
    call.on('data', (req: DataRequest) => {
      if (!stream.accept()) return; // stopping: never run; the client sends it elsewhere
      void this.handle([req], abort.signal, call.metadata)
        .catch((err: unknown) => {
          const res = req.clone();
          res.setError(asNetworkError(err), `${this.options.name}/head`);
          return res;
        })
        .then((res) => {
          if (!call.cancelled && !call.destroyed) call.write(res);
        })
        .finally(() => stream.done());
    });
    call.on('end', () => stream.clientEnded());
    call.on('error', () => undefined);
  }

  private grpcStatus(err: unknown): Partial<grpc.StatusObject> {
    return toGrpcStatus(err, `|Head ${this.options.name}: `);
  }

  /**
   * Graceful stop (SIGTERM): as a worker's (see {@link GracefulStop}), then closes the connections
   * to the shards.
   */
  close(): Promise<void> {
    this.closing ??= this.stopper.stop().then(() => {
      for (const s of [this.usesBefore, this.usesAfter, ...this.shards]) s?.close();
      return this.observability?.close();
    });
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function asNetworkError(err: unknown): FlowgateError {
  if (err instanceof FlowgateError) return err;
  return new FlowgateError(Code.Internal, (err as Error)?.message ?? String(err), { cause: err });
}
