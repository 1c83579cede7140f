import { Code, FlowgateError } from '../core/errors.js';
import { Document, type DocumentInit } from '../document/index.js';
import type { JsonObject } from '../proto/struct.js';
import { createStreamDocRequest, itemDocuments } from '../document/stream-request.js';
import type { ClientTransport } from '../transport/shared/client-transport.js';
export type { StreamDocTransport, TransportStreamOptions } from '../transport/shared/client-transport.js';

/** Options of `Client.streamDoc`. */
export interface StreamDocClientOptions {
  /** The streaming endpoint, e.g. `/generate`. */
  on: string;
  /** The one input document. */
  inputs: Document | DocumentInit;
  parameters?: JsonObject;
  /**
   * Only Executors whose name matches this regular expression (anchored at the start) take part,
   * as for `post`; the others are passed through.
   */
  targetExecutor?: string;
  /** Deadline of the whole stream, ms. */
  timeout?: number;
  /** Extra headers / gRPC metadata. */
  metadata?: Record<string, string>;
}

/**
 * `Client.streamDoc`: the documents the streaming endpoint yields, as they arrive. An Executor
 * error throws its ExecutorError; leaving the loop early (`break`) cancels the stream end to end.
 */
export function clientStreamDoc(
  transport: ClientTransport,
  options: StreamDocClientOptions,
): AsyncGenerator<Document> {
  if (!transport.streamDoc)
    throw new FlowgateError(
      Code.Unimplemented,
      'this protocol cannot stream documents: use grpc, http or websocket',
    );
  const doc = options.inputs instanceof Document ? options.inputs : new Document(options.inputs);
  const request = createStreamDocRequest({
    endpoint: options.on,
    doc,
    parameters: options.parameters,
    targetExecutor: options.targetExecutor,
  });
  return itemDocuments(
    transport.streamDoc(request, { timeoutMs: options.timeout, metadata: options.metadata }),
  );
}
