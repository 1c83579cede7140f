/**
 * The jina gRPC methods with identity (de)serialisers: raw servers, the raw forwarders and the
 * load generator move message bytes without decoding them. Channel and server options are
 * flowgate's own, so the raw limit runs with the same HTTP/2 windows and message limits.
 */
import * as grpc from '@grpc/grpc-js';
import { defaultGrpcOptions } from '../../src/transport/grpc/rpc-server.js';

const id = (b: Buffer): Buffer => b;

function bytesMethod(path: string, stream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: stream,
    responseStream: stream,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  };
}

/** `jina.JinaRPC/Call` (bidirectional) and `process_single_data` (unary), on raw bytes. */
export const BytesService = {
  Call: bytesMethod('/jina.JinaRPC/Call', true),
  process_single_data: bytesMethod('/jina.JinaSingleDataRequestRPC/process_single_data', false),
} satisfies grpc.ServiceDefinition;

/** flowgate's channel/server options (unlimited messages, 64 MiB flow-control window...). */
export const grpcOptions: grpc.ChannelOptions = defaultGrpcOptions();

/** An insecure grpc-js client channel to `address` with flowgate's options. */
export function bytesClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), grpcOptions);
}

/** One unary `process_single_data` call on raw bytes. */
export function unaryBytes(client: grpc.Client, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const m = BytesService.process_single_data;
    client.makeUnaryRequest(m.path, id, id, body, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}
