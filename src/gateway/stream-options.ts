import type { Document, DocumentArray } from '../document/index.js';
import type { JsonObject } from '../proto/struct.js';

/** Options of `GatewayStreamer.streamDocs` and `GatewayStreamer.stream` (in the Gateway and in its worker threads). */
export interface StreamDocsOptions {
  docs: Iterable<Document> | DocumentArray;
  execEndpoint?: string;
  parameters?: JsonObject;
  targetExecutor?: string;
  /** Documents per request; default 100; `0` or less: all documents in one request. */
  requestSize?: number;
  resultsInOrder?: boolean;
}
