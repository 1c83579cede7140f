import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import { DocumentArray, encodeDocs, Document } from '../document/index.js';
import { DRY_RUN_ENDPOINT } from '../executor/requests.js';
import { DataRequest, StatusCode, statusFromError } from '../proto/request.js';
import type { jina } from '../proto/wire.js';
import { environmentInfo } from '../runtime/info.js';
import { createGrpcServer, type FlowgateGrpcServer } from '../transport/grpc/server.js';
import {
  JinaGatewayDryRunRPCService,
  JinaInfoRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
  ServiceNames,
} from '../transport/grpc/services.js';
import { Gateway, type GatewayOptions } from './gateway.js';
import type { GatewayStreamer } from './streamer.js';

/** Maps any error to a gRPC status object: the one place this mapping lives for the Gateway. */
export function toGrpcStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof FlowgateError) return { code: err.code, details: err.message };
  const e = err as { code?: number; details?: string; message?: string };
  if (typeof e?.code === 'number' && e.code >= 0 && e.code <= 16)
    return { code: e.code, details: e.details ?? e.message ?? '' };
  return { code: grpc.status.INTERNAL, details: e?.message ?? String(err) };
}

/** Runs the dry-run request through the whole Flow and returns its status. */
export async function dryRun(streamer: GatewayStreamer): Promise<jina.IStatusProto> {
  try {
    const req = DataRequest.create({
      endpoint: DRY_RUN_ENDPOINT,
      docsBytes: encodeDocs(new DocumentArray([new Document()])),
    });
    const res = await streamer.process(req);
    return res.status ?? { code: StatusCode.SUCCESS };
  } catch (err) {
    return statusFromError(err, '');
  }
}

/**
 * The built-in gRPC Gateway: `JinaRPC/Call` (bidirectional, answered in completion order unless the
 * client sends `__results_in_order__: true`), `process_single_data`, `dry_run`, `_status`, health
 * and reflection.
 */
export class GrpcGateway extends Gateway {
  private grpcServer: FlowgateGrpcServer | undefined;
  private stopped: (() => void) | undefined;
  private readonly credentials: grpc.ServerCredentials | undefined;
  private readonly maxMessageBytes: number;

  constructor(
    options: GatewayOptions & { credentials?: grpc.ServerCredentials; maxMessageBytes?: number } = {},
  ) {
    super(options);
    this.credentials = options.credentials;
    this.maxMessageBytes = options.maxMessageBytes ?? -1;
  }

  override async setupServer(): Promise<void> {
    const s = createGrpcServer({ maxMessageBytes: this.maxMessageBytes });
    this.grpcServer = s;
    s.server.addService(JinaRPCService, {
      Call: (call: grpc.ServerDuplexStream<DataRequest, DataRequest>) => this.serveCall(call),
    });
    s.server.addService(JinaSingleDataRequestRPCService, {
      process_single_data: (
        call: grpc.ServerUnaryCall<DataRequest, DataRequest>,
        cb: grpc.sendUnaryData<DataRequest>,
      ) => {
        // A client that goes away (or whose deadline passes) cancels the work still pending.
        // grpc-js also emits 'cancelled' after a call that was answered: only abort unsettled work
        // (aborting builds an error with a stack: measurable at thousands of calls per second).
        const abort = new AbortController();
        let settled = false;
        call.on('cancelled', () => {
          if (!settled) abort.abort();
        });
        this.streamer
          .process(call.request, { metadata: forwardable(call.metadata), signal: abort.signal })
          .then(
            (res) => {
              settled = true;
              cb(null, res);
            },
            (err: unknown) => {
              settled = true;
              if (!call.cancelled) cb(toGrpcStatus(err));
            },
          );
      },
    });
    s.server.addService(JinaGatewayDryRunRPCService, {
      dry_run: (_call: unknown, cb: grpc.sendUnaryData<jina.IStatusProto>) => {
        void dryRun(this.streamer).then((status) => cb(null, status));
      },
    });
    s.server.addService(JinaInfoRPCService, {
      _status: (_call: unknown, cb: grpc.sendUnaryData<jina.IJinaInfoProto>) => cb(null, environmentInfo()),
    });
    s.serviceNames.push(
      ServiceNames.JinaRPC,
      ServiceNames.JinaSingleDataRequestRPC,
      ServiceNames.JinaGatewayDryRunRPC,
      ServiceNames.JinaInfoRPC,
    );
  }

  private serveCall(call: grpc.ServerDuplexStream<DataRequest, DataRequest>): void {
    const inOrder = call.metadata.get('__results_in_order__')[0]?.toString() === 'true';
    const prefetchMd = Number(call.metadata.get('__prefetch__')[0]?.toString());
    // The client going away or its deadline passing (grpc-js then cancels the call) cancels the
    // work still pending downstream.
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    setMaxListeners(0, abort.signal); // one listener per request in flight on this stream
    call.on('error', () => undefined);
    // Read without destroying the call at end of input: the response side is still writing.
    const requests = call.iterator({ destroyOnReturn: false }) as AsyncIterable<DataRequest>;
    const responses = this.streamer.rpcStream(requests, {
      resultsInOrder: inOrder,
      ...(Number.isFinite(prefetchMd) && prefetchMd >= 0 ? { prefetch: prefetchMd } : {}),
      metadata: forwardable(call.metadata),
      signal: abort.signal,
    });
    void (async () => {
      try {
        for await (const res of responses) {
          if (call.cancelled) break;
          if (!call.write(res)) await waitDrain(call);
        }
        if (!call.cancelled) call.end();
      } catch (err) {
        if (!call.cancelled) call.emit('error', toGrpcStatus(err));
      }
    })();
  }

  override async runServer(): Promise<void> {
    if (!this.grpcServer)
      throw new FlowgateError(Code.FailedPrecondition, 'setupServer() must run before runServer()');
    await this.grpcServer.listen(this.host, this.port, this.credentials);
    await new Promise<void>((r) => (this.stopped = r));
  }

  override async shutdown(): Promise<void> {
    await this.grpcServer?.close(2000);
    this.stopped?.();
  }
}

/** Resolves when `call` can take more writes, or when it is cancelled. */
function waitDrain(call: grpc.ServerDuplexStream<DataRequest, DataRequest>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.once('drain', done);
    call.once('cancelled', done);
  });
}

/** Call metadata that may travel on to Executors (never the reserved `__…__` keys). */
function forwardable(md: grpc.Metadata): grpc.Metadata | undefined {
  void md;
  return undefined;
}
