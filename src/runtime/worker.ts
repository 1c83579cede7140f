import * as grpc from '@grpc/grpc-js';
import type { Executor } from '../executor/executor.js';
import { ExecutorHandler } from '../executor/handler.js';
import type { DataRequest } from '../proto/request.js';
import { createGrpcServer, type FlowgateGrpcServer } from '../transport/grpc/server.js';
import { addRuntimeServices } from './runtime-services.js';

/** Options of {@link WorkerRuntime}. */
export interface WorkerRuntimeOptions {
  /** The Executor instance to serve. */
  executor: Executor;
  /** Host to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** How long `close()` waits for requests in flight, in ms. Default 10 s. */
  gracePeriodMs?: number;
  /** Message size limit in bytes, -1 for none. */
  maxMessageBytes?: number;
  /** Metadata keys forwarded to Executors as `metadata`. */
  forwardMetadata?: string[];
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
  private readonly grpcServer: FlowgateGrpcServer;
  private readonly options: WorkerRuntimeOptions;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private closing = false;
  port = 0;

  constructor(options: WorkerRuntimeOptions) {
    this.options = options;
    this.handler = new ExecutorHandler(options.executor);
    this.grpcServer = createGrpcServer({ maxMessageBytes: options.maxMessageBytes ?? -1 });
  }

  /** The served Executor's name. */
  get name(): string {
    return this.handler.name;
  }

  /** Registers the services, binds, and resolves to the bound port. */
  async start(): Promise<number> {
    addRuntimeServices(this.grpcServer, {
      handle: (parts, call) => this.run(parts, call.metadata),
      toStatus: (err) => ({ code: grpc.status.INTERNAL, details: (err as Error)?.message ?? String(err) }),
      serveStream: (call) => this.serveStream(call),
      endpoints: () => this.handler.endpoints,
    });
    this.port = await this.grpcServer.listen(this.options.host ?? '127.0.0.1', this.options.port ?? 0);
    return this.port;
  }

  private serveStream(call: grpc.ServerDuplexStream<DataRequest, DataRequest>): void {
    let pending = 0;
    let ended = false;
    const finish = () => {
      if (ended && pending === 0) call.end();
    };
    call.on('data', (req: DataRequest) => {
      pending++;
      this.run([req], call.metadata)
        .then(
          (res) => {
            if (!call.cancelled && !call.destroyed) call.write(res);
          },
          () => undefined,
        )
        .finally(() => {
          pending--;
          finish();
        });
    });
    call.on('end', () => {
      ended = true;
      finish();
    });
    call.on('error', () => undefined);
  }

  private async run(parts: DataRequest[], md: grpc.Metadata): Promise<DataRequest> {
    this.inFlight++;
    try {
      return await this.handler.handle(parts, { metadata: this.forwardedMetadata(md) });
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private forwardedMetadata(md: grpc.Metadata): Record<string, string> {
    const allow = this.options.forwardMetadata;
    if (!allow || allow.length === 0) return {};
    const out: Record<string, string> = {};
    for (const key of allow) {
      const v = md.get(key.toLowerCase())[0];
      if (v !== undefined) out[key.toLowerCase()] = typeof v === 'string' ? v : v.toString('utf8');
    }
    return out;
  }

  /**
   * Graceful stop: reports NOT_SERVING, waits for requests in flight (up to the grace period),
   * closes the server and the Executor.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const grace = this.options.gracePeriodMs ?? 10_000;
    this.grpcServer.setServing(false);
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => (this.drained = r)),
        new Promise<void>((r) => setTimeout(r, grace).unref()),
      ]);
    }
    await this.grpcServer.close(Math.min(grace, 2000));
    await this.options.executor.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
