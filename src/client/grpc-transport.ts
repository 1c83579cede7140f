import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import type { DataRequest } from '../proto/request.js';
import type { jina } from '../proto/wire.js';
import { createJinaClient, duplex, unary, type Compression } from '../transport/grpc/client.js';
import {
  JinaGatewayDryRunRPCService,
  JinaInfoRPCService,
  JinaRPCService,
} from '../transport/grpc/services.js';
import type { ClientTransport, TransportCallOptions } from './transport.js';

/** Options of the gRPC transport. */
export interface GrpcTransportOptions {
  tls?: boolean;
  rootCertificates?: Buffer;
  compression?: Compression;
}

/** Maps a gRPC error from the Gateway to a FlowgateError with a sentence a user can act on. */
function fromGrpcError(err: grpc.ServiceError, address: string): FlowgateError {
  const code = (err.code ?? Code.Unknown) as Code;
  const msg =
    code === Code.Unavailable &&
    /ECONNREFUSED|No connection established|Failed to connect to remote host/i.test(err.details)
      ? `cannot reach the Gateway at ${address}: ${err.details}`
      : code === Code.DeadlineExceeded
        ? `the request to ${address} timed out: ${err.details}`
        : err.details || err.message;
  return new FlowgateError(code, msg, { cause: err });
}

/**
 * Resolves true when the call can take more writes, false when it ended first (a deadline, a
 * cancel, an error): a writer waiting for 'drain' must not wait forever on a call that is over.
 */
function drained(call: grpc.ClientDuplexStream<DataRequest, DataRequest>): Promise<boolean> {
  if (call.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      call.off('drain', onDrain);
      call.off('status', onEnd);
      call.off('error', onEnd);
      call.off('close', onEnd);
      resolve(ok);
    };
    const onDrain = done(true);
    const onEnd = done(false);
    call.once('drain', onDrain);
    call.once('status', onEnd);
    call.once('error', onEnd);
    call.once('close', onEnd);
  });
}

/** The gRPC transport: every post is one `JinaRPC/Call` stream. */
export class GrpcTransport implements ClientTransport {
  private readonly client: grpc.Client;

  constructor(
    private readonly address: string,
    options: GrpcTransportOptions = {},
  ) {
    const credentials = options.tls
      ? grpc.credentials.createSsl(options.rootCertificates ?? null)
      : grpc.credentials.createInsecure();
    this.client = createJinaClient(address, { credentials, compression: options.compression });
  }

  async *stream(
    requests: AsyncIterable<DataRequest>,
    options: TransportCallOptions,
  ): AsyncIterable<DataRequest> {
    const md = new grpc.Metadata();
    if (options.resultsInOrder) md.set('__results_in_order__', 'true');
    if (options.prefetch !== undefined) md.set('__prefetch__', String(options.prefetch));
    for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k.toLowerCase(), v);
    const callOptions: grpc.CallOptions = {};
    if (options.timeoutMs && options.timeoutMs > 0) callOptions.deadline = Date.now() + options.timeoutMs;
    const call = duplex(this.client, JinaRPCService.Call, md, callOptions);
    let writeError: Error | undefined;
    const writer = (async () => {
      try {
        for await (const req of requests) {
          if (!call.write(req) && !(await drained(call))) return;
        }
      } catch (err) {
        writeError = err instanceof Error ? err : new Error(String(err));
        call.cancel();
        return;
      }
      call.end();
    })();
    try {
      for await (const res of call as AsyncIterable<DataRequest>) yield res;
    } catch (err) {
      if (writeError) throw writeError;
      throw fromGrpcError(err as grpc.ServiceError, this.address);
    } finally {
      call.cancel();
      await writer;
    }
    if (writeError) throw writeError;
  }

  async dryRun(timeoutMs = 5000): Promise<jina.IStatusProto> {
    try {
      const { response } = await unary(
        this.client,
        JinaGatewayDryRunRPCService.dry_run,
        {},
        { deadlineMs: timeoutMs },
      );
      return response;
    } catch (err) {
      throw fromGrpcError(err as grpc.ServiceError, this.address);
    }
  }

  async status(): Promise<{ jina: Record<string, string>; envs: Record<string, string> }> {
    try {
      const { response } = await unary(this.client, JinaInfoRPCService._status, {}, { deadlineMs: 5000 });
      return { jina: { ...response.jina }, envs: { ...response.envs } };
    } catch (err) {
      throw fromGrpcError(err as grpc.ServiceError, this.address);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
