import type { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';

/**
 * The part of a gRPC client channel the Gateway's calls to Executors use. Both grpc-js's `Client`
 * and flowgate's `node:http2` `H2Client` are one, so `ReplicaConnection` runs over either
 * (grpc-js where TLS is needed, `node:http2` otherwise: see docs/decisions.md).
 *
 * @example
 * ```ts
 * const client: HopClient = tls ? createJinaClient(address, { credentials }) : new H2Client(address);
 * client.getChannel().getConnectivityState(true);
 * ```
 */
export interface HopClient {
  getChannel(): {
    getConnectivityState(tryConnect: boolean): grpc.connectivityState;
    watchConnectivityState(
      from: grpc.connectivityState,
      deadline: Date | number,
      callback: (error?: Error) => void,
    ): void;
  };
  makeUnaryRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (bytes: Buffer) => Res,
    request: Req,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: Res) => void,
  ): HopCall;
  makeServerStreamRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (bytes: Buffer) => Res,
    request: Req,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): HopCall;
  makeBidiStreamRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (bytes: Buffer) => Res,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): HopDuplex<Req>;
  close(): void;
}

/** A call in flight: events `data`, `error`, `status`, `end`; `cancel()` drops it. */
export interface HopCall extends EventEmitter {
  cancel(): void;
}

/** A bidirectional call: `write` each message, `end` the request side. */
export interface HopDuplex<Req> extends HopCall {
  write(message: Req): boolean;
  end(): unknown;
}
