import type * as grpc from '@grpc/grpc-js';
import type { Executor } from '../executor/executor.js';
import { DynamicBatcher, type BatchHandleOptions } from '../executor/dynamic-batcher.js';
import type { DynamicBatchingConfig } from '../executor/dynamic-batching.js';
import { ExecutorHandler } from '../executor/handler.js';
import type { DataRequest } from '../proto/request.js';
import { toGrpcStatus } from '../transport/grpc/status.js';
import { forwardedFromGrpc } from '../transport/grpc/headers.js';
import { createGrpcServer, type FlowgateGrpcServer } from '../transport/grpc/rpc-server.js';
import { GracefulStop, gracePeriodFromEnv } from './graceful-stop.js';
import { Observability, observeWorkerCall, type ObservabilityOptions } from './observability.js';
import { addRuntimeServices } from './runtime-services.js';
import { addStreamDocService } from './stream-doc.js';
import { observeWorkerStream } from './stream-observe.js';

/** Options of {@link WorkerRuntime}. */
export interface WorkerRuntimeOptions {
  /** The Executor instance to serve. */
  executor: Executor;
  /** Host to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /**
   * How long `close()` (SIGTERM) drains requests in flight before the server closes, in ms.
   * Default `FLOWGATE_GRACE_PERIOD_MS` from the environment, else 20 s (see `GracefulStop`).
   */
  gracePeriodMs?: number;
  /** Message size limit in bytes, -1 for none. */
  maxMessageBytes?: number;
  /**
   * Metadata keys handed to the Executor as `metadata` on calls that do not list their own (a
   * Gateway lists the keys it forwarded, and those are used instead).
   */
  forwardMetadata?: string[];
  /** Prometheus metrics and OpenTelemetry tracing (see `docs/observability.md`); both off by default. */
  observability?: ObservabilityOptions;
  /** Serve TLS (`grpc.ServerCredentials.createSsl`): for an Executor the Gateway reaches with `tls`. */
  credentials?: grpc.ServerCredentials;
  /** Dynamic batching per endpoint, overriding the `@dynamicBatching` decorators key by key. */
  dynamicBatching?: DynamicBatchingConfig;
}

/**
 * Serves one Executor over gRPC: `JinaRPC/Call`, `process_single_data`, `process_data`,
 * `endpoint_discovery`, `_status`, health and reflection.
 *
 * @example
 * ```ts
 * await using worker = new WorkerRuntime({ executor: new MyExec({ metas: { name: 'my' } }) });
 * const port = await worker.start();
 * ```
 */
export class WorkerRuntime {
  private readonly handler: ExecutorHandler;
  /** The batched endpoints' queues; undefined when no endpoint is batched. */
  private readonly batcher: DynamicBatcher | undefined;
  private readonly grpcServer: FlowgateGrpcServer;
  private readonly options: WorkerRuntimeOptions;
  private inFlight = 0;
  private readonly stopper: GracefulStop;
  private closing: Promise<void> | undefined;
  /** Metrics and tracing, started by start(); undefined when both are off. */
  private observability: Observability | undefined;
  port = 0;

  constructor(options: WorkerRuntimeOptions) {
    this.options = options;
    this.handler = new ExecutorHandler(options.executor);
    this.batcher = DynamicBatcher.create(options.executor, options.dynamicBatching);
    this.grpcServer = createGrpcServer({ maxMessageBytes: options.maxMessageBytes ?? -1 });
    this.stopper = new GracefulStop(
      {
        setServing: (serving) => this.grpcServer.setServing(serving),
        inFlight: () => this.inFlight,
        closeServer: (graceMs) => this.grpcServer.close(graceMs),
      },
      options.gracePeriodMs ?? gracePeriodFromEnv(),
    );
  }

  /** The served Executor's name. */
  get name(): string {
    return this.handler.name;
  }

  /** The port the Prometheus metrics are served on, when `observability.monitoring` is on. */
  get monitoringPort(): number | undefined {
    return this.observability?.monitoringPort;
  }

  /** Registers the services, binds, and resolves to the bound port. */
  async start(): Promise<number> {
    const host = this.options.host ?? '127.0.0.1';
    this.observability = await Observability.start(this.name, this.options.observability, host);
    addRuntimeServices(this.grpcServer, {
      handle: (parts, call) => this.run(parts, call.metadata),
      toStatus: (err) => toGrpcStatus(err),
      serveStream: (call) => this.serveStream(call),
      endpoints: () => this.handler.endpoints,
      streamingEndpoints: () => this.handler.streamingEndpoints,
    });
    addStreamDocService(this.grpcServer, {
      handler: this.handler,
      metadata: (md) => this.forwardedMetadata(md),
      onStart: () => this.inFlight++,
      onEnd: () => this.inFlight--,
      observe: this.observability && observeWorkerStream(this.observability, this.name),
    });
    this.port = await this.grpcServer.listen(
      this.options.host ?? '127.0.0.1',
      this.options.port ?? 0,
      this.options.credentials,
    );
    return this.port;
  }

  private serveStream(call: grpc.ServerDuplexStream<DataRequest, DataRequest>): void {
    // Ends the stream once the client ends it, or once stopping, when its requests are answered.
    const stream = this.stopper.track(call);
    // The stream's metadata is the same for each of its requests: read once.
    const metadata = this.forwardedMetadata(call.metadata);
    call.on('data', (req: DataRequest) => {
      if (!stream.accept()) return; // stopping: never run; the client sends it elsewhere
      // A copy each: an Executor may change what it is handed.
      this.run([req], call.metadata, { ...metadata }).then(
        (res) => {
          try {
            if (!call.cancelled && !call.destroyed) call.write(res);
          } finally {
            stream.done();
          }
        },
        () => stream.done(),
      );
    });
    call.on('end', () => stream.clientEnded());
    call.on('error', () => undefined);
  }

  private async run(
    parts: DataRequest[],
    md: grpc.Metadata,
    metadata = this.forwardedMetadata(md),
  ): Promise<DataRequest> {
    this.inFlight++;
    try {
      const obs = this.observability;
      if (obs === undefined) return await this.dispatch(parts, { metadata });
      return await observeWorkerCall(obs, this.name, parts, md, (extra) =>
        this.dispatch(parts, { metadata, ...extra }),
      );
    } finally {
      this.inFlight--;
    }
  }

  /** A batched endpoint's request joins its queue; any other goes straight to the handler. */
  private dispatch(parts: DataRequest[], options: BatchHandleOptions): Promise<DataRequest> {
    const batcher = this.batcher;
    if (!batcher?.handles(parts[0]!.endpoint)) return this.handler.handle(parts, options);
    const metrics = this.observability?.metrics;
    if (metrics)
      options.batchObserver = {
        batch: (endpoint, size) => metrics.observeBatch(this.name, endpoint, size),
        wait: (endpoint, seconds) => metrics.observeBatchWait(this.name, endpoint, seconds),
      };
    return batcher.handle(parts, options);
  }

  /** The keys a Gateway forwarded (see `transport/grpc/metadata.ts`), else those of `forwardMetadata`. */
  private forwardedMetadata(md: grpc.Metadata): Record<string, string> {
    return forwardedFromGrpc(md, this.options.forwardMetadata);
  }

  /**
   * Graceful stop (SIGTERM): reports NOT_SERVING, keeps answering until the Gateways have moved
   * away, ends its streams once their requests are answered, waits for requests in flight (all
   * within the grace period), then closes the server and the Executor. See {@link GracefulStop}.
   */
  close(): Promise<void> {
    // batched requests run at once instead of waiting out their timeout while the worker drains
    this.batcher?.drain();
    this.closing ??= this.stopper
      .stop()
      .then(() => this.options.executor.close())
      .finally(() => this.observability?.close());
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
