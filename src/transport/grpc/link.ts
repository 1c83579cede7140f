import * as grpc from '@grpc/grpc-js';
import type { HopClient } from './hop-client.js';
import { defaultGrpcOptions } from './grpc-options.js';
import {
  JinaDiscoverEndpointsRPCService,
  JinaGatewayDryRunRPCService,
  JinaInfoRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
  JinaDataRequestRPCService,
} from './codec.js';

/** Compression algorithms gRPC supports between processes. */
export type Compression = 'none' | 'gzip' | 'deflate';

/** Options of {@link createJinaClient}. */
export interface JinaClientOptions {
  credentials?: grpc.ChannelCredentials;
  compression?: Compression;
  channelOptions?: grpc.ChannelOptions;
  maxMessageBytes?: number;
}

const JinaServices = {
  ...JinaRPCService,
  ...JinaSingleDataRequestRPCService,
  ...JinaDataRequestRPCService,
  ...JinaDiscoverEndpointsRPCService,
  ...JinaGatewayDryRunRPCService,
  ...JinaInfoRPCService,
};

const JinaClientCtor = grpc.makeGenericClientConstructor(JinaServices, 'jina');

/** A grpc-js client for every `jina.*` service on one address. */
export type JinaGrpcClient = grpc.Client &
  Record<keyof typeof JinaServices, grpc.MethodDefinition<unknown, unknown>>;

const compressionIds: Record<Compression, number> = { none: 0, deflate: 1, gzip: 2 };

/**
 * Opens a channel to `address` (`host:port`) for every `jina.*` service.
 *
 * @example
 * ```ts
 * const c = createJinaClient('127.0.0.1:5555');
 * ```
 */
export function createJinaClient(address: string, options: JinaClientOptions = {}): grpc.Client {
  const channelOptions: grpc.ChannelOptions = {
    ...defaultGrpcOptions(options.maxMessageBytes),
    ...options.channelOptions,
  };
  if (options.compression && options.compression !== 'none') {
    channelOptions['grpc.default_compression_algorithm'] = compressionIds[options.compression];
    channelOptions['grpc.default_compression_level'] = 2;
  }
  return new JinaClientCtor(
    address,
    options.credentials ?? grpc.credentials.createInsecure(),
    channelOptions,
  );
}

/** Calls a unary method by its definition. */
export function unary<Req, Res>(
  client: HopClient,
  def: grpc.MethodDefinition<Req, Res>,
  request: Req,
  options: { deadlineMs?: number; metadata?: grpc.Metadata } = {},
): Promise<{ response: Res; trailers: grpc.Metadata | undefined }> {
  return new Promise((resolve, reject) => {
    const callOptions: grpc.CallOptions = {};
    if (options.deadlineMs !== undefined && options.deadlineMs > 0) {
      callOptions.deadline = Date.now() + options.deadlineMs;
    }
    // grpc-js calls the callback before it emits 'status' (which carries the trailers): resolve
    // only once both have arrived, or the trailers would always be missing.
    let answered: { response: Res } | undefined;
    let trailers: grpc.Metadata | undefined;
    let gotStatus = false;
    const settle = () => {
      if (answered && gotStatus) resolve({ response: answered.response, trailers });
    };
    const call = client.makeUnaryRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      options.metadata ?? new grpc.Metadata(),
      callOptions,
      (err, res) => {
        if (err) return reject(err);
        answered = { response: res as Res };
        settle();
      },
    );
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
      gotStatus = true;
      settle();
    });
  });
}

/** Opens a bidirectional stream by its definition. */
export function duplex<Req, Res>(
  client: grpc.Client,
  def: grpc.MethodDefinition<Req, Res>,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): grpc.ClientDuplexStream<Req, Res> {
  return client.makeBidiStreamRequest(
    def.path,
    def.requestSerialize,
    def.responseDeserialize,
    metadata,
    options,
  );
}

/** Health check (`grpc.health.v1.Health/Check`, service `""`): true when SERVING. */
export async function checkHealth(client: HopClient, timeoutMs = 1000): Promise<boolean> {
  const def: grpc.MethodDefinition<Buffer, Buffer> = {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b) => b,
    requestDeserialize: (b) => b,
    responseSerialize: (b) => b,
    responseDeserialize: (b) => b,
  };
  try {
    // HealthCheckRequest{service: ""} encodes to zero bytes; the response is {status: enum = 1}.
    const { response } = await unary(client, def, Buffer.alloc(0), { deadlineMs: timeoutMs });
    return response.length === 2 && response[0] === 0x08 && response[1] === 1;
  } catch {
    return false;
  }
}

export { JinaServices };

/**
 * The HTTP/2 receive window of the channels that carry streams, bytes: at most this much of a
 * stream is in flight between two processes (in the kernel's buffers and grpc-js's) before the
 * sender's writes wait. Data requests use a 64 MiB window (large documents at loopback speed); a
 * stream of many small items does not need one, and a small one is what bounds its buffering.
 */
export const STREAM_WINDOW_BYTES = 256 * 1024;

/** A channel for streams to `address`, with the small window above (see {@link STREAM_WINDOW_BYTES}). */
export function createStreamClient(address: string, options: JinaClientOptions = {}): grpc.Client {
  return createJinaClient(address, {
    ...options,
    channelOptions: { ...options.channelOptions, 'grpc-node.flow_control_window': STREAM_WINDOW_BYTES },
  });
}
