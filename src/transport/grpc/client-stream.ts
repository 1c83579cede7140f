import type * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../../core/errors.js';
import { JinaSingleDocumentRequestRPCService, type StreamDocRequest } from './stream-doc.js';
import type { TransportStreamOptions } from '../shared/client-transport.js';

/**
 * `stream_doc` on the Gateway over gRPC: yields the items as they arrive (read only as they are
 * asked for); returning early cancels the call, and `timeoutMs` is the whole stream's deadline.
 */
export async function* grpcStreamDoc(
  client: grpc.Client,
  address: string,
  metadata: grpc.Metadata,
  request: StreamDocRequest,
  options: TransportStreamOptions,
): AsyncGenerator<StreamDocRequest> {
  const def = JinaSingleDocumentRequestRPCService.stream_doc;
  const callOptions: grpc.CallOptions = {};
  if (options.timeoutMs && options.timeoutMs > 0) callOptions.deadline = Date.now() + options.timeoutMs;
  const call = client.makeServerStreamRequest(
    def.path,
    def.requestSerialize,
    def.responseDeserialize,
    request,
    metadata,
    callOptions,
  );
  try {
    for await (const item of call as AsyncIterable<StreamDocRequest>) yield item;
  } catch (err) {
    const e = err as grpc.ServiceError;
    const code = (e.code ?? Code.Unknown) as Code;
    const what =
      code === Code.DeadlineExceeded
        ? `the stream from ${address} did not end within its timeout: ${e.details}`
        : code === Code.Unavailable
          ? `cannot reach the Gateway at ${address}: ${e.details}`
          : e.details || e.message;
    throw new FlowgateError(code, what, { cause: err });
  } finally {
    call.cancel();
  }
}
