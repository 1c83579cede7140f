import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import { DEFAULT_ENDPOINT } from '../executor/requests.js';
import { isJsonObject } from '../proto/struct.js';
import { structToJson } from '../proto/struct.js';
import type { jina } from '../proto/wire.js';
import { createStreamClient, STREAM_WINDOW_BYTES } from '../transport/grpc/link.js';
export { createStreamClient, STREAM_WINDOW_BYTES };
import { JinaSingleDocumentRequestRPCService, type StreamDocRequest } from '../transport/grpc/stream-doc.js';

/** Options of one stream to a replica. */
export interface ReplicaStreamOptions {
  /** Aborting cancels the call: the Executor's generator is closed. */
  signal?: AbortSignal;
  metadata?: grpc.Metadata;
  /** The whole stream's deadline (epoch ms). */
  deadline?: number;
}

/** The generator endpoints named by `EndpointsProto.schemas` (`is_generator`). */
export function generatorEndpoints(schemas: jina.IEndpointsProto['schemas']): Set<string> {
  const out = new Set<string>();
  if (!schemas) return out;
  for (const [endpoint, schema] of Object.entries(structToJson(schemas)))
    if (isJsonObject(schema) && schema.is_generator === true) out.add(endpoint);
  return out;
}

/** True when `endpoint` reaches a generator method, given a deployment's endpoints. */
export function streamsEndpoint(endpoint: string, bound: Set<string>, streaming: Set<string>): boolean {
  const e = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
  if (bound.has(e)) return streaming.has(e);
  return streaming.has(DEFAULT_ENDPOINT);
}

/**
 * Calls `stream_doc` on one replica and yields its items as they arrive. Items are read only as
 * they are asked for (grpc-js buffers 16 messages, the HTTP/2 window the rest); returning early,
 * `signal` and the deadline cancel the call. A failure of the call rejects with a FlowgateError
 * naming the Executor.
 */
export async function* replicaStream(
  client: grpc.Client,
  where: { executor: string; address: string },
  request: StreamDocRequest,
  options: ReplicaStreamOptions = {},
): AsyncGenerator<StreamDocRequest> {
  const def = JinaSingleDocumentRequestRPCService.stream_doc;
  const callOptions: grpc.CallOptions = {};
  if (options.deadline !== undefined) callOptions.deadline = options.deadline;
  const call = client.makeServerStreamRequest(
    def.path,
    def.requestSerialize,
    def.responseDeserialize,
    request,
    options.metadata ?? new grpc.Metadata(),
    callOptions,
  );
  const onAbort = () => call.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const item of call as AsyncIterable<StreamDocRequest>) yield item;
  } catch (err) {
    throw streamFailure(err as grpc.ServiceError, where, options.signal);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    call.cancel();
  }
}

function streamFailure(
  err: grpc.ServiceError,
  where: { executor: string; address: string },
  signal: AbortSignal | undefined,
): FlowgateError {
  const details = { executor: where.executor, address: where.address };
  const name = `Executor ${where.executor} at ${where.address}`;
  if (signal?.aborted || err.code === grpc.status.CANCELLED)
    return new FlowgateError(Code.Cancelled, `the stream from ${name} was cancelled`, { details });
  if (err.code === grpc.status.DEADLINE_EXCEEDED)
    return new FlowgateError(
      Code.DeadlineExceeded,
      `the stream from ${name} did not end within its deadline`,
      {
        details,
        cause: err,
      },
    );
  const code =
    err.code === grpc.status.UNAVAILABLE || err.code === undefined ? Code.Unavailable : (err.code as Code);
  return new FlowgateError(code, `the stream from ${name} failed: ${err.details || err.message}`, {
    details,
    cause: err,
  });
}
