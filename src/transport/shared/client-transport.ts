import type { StreamDocRequest } from '../../document/stream-request.js';
import type { DataRequest } from '../../proto/request.js';
import type { jina } from '../../proto/wire.js';

/** Per-call options every transport understands. */
export interface TransportCallOptions {
  resultsInOrder?: boolean;
  prefetch?: number;
  /** End-to-end deadline in ms. */
  timeoutMs?: number;
  /** Extra headers / metadata. */
  metadata?: Record<string, string>;
}

/**
 * How the Client talks to a Gateway: one implementation per protocol, all with this shape, so the
 * Client itself is protocol-agnostic.
 */
export interface ClientTransport {
  /** Sends requests and yields responses (completion order unless `resultsInOrder`). */
  stream(requests: AsyncIterable<DataRequest>, options: TransportCallOptions): AsyncIterable<DataRequest>;
  /**
   * Sends one request and resolves to its answer: a cheaper `stream()` for a post of one request,
   * where the protocol has it for these options (`undefined` when it has not).
   */
  postOne?(req: DataRequest, options: TransportCallOptions): Promise<DataRequest> | undefined;
  /** Streams the items of one streaming request (see `client/stream.ts`); absent: the protocol cannot. */
  streamDoc?: StreamDocTransport;
  /** Runs an empty request through the whole Flow and returns its status. */
  dryRun(timeoutMs?: number): Promise<jina.IStatusProto>;
  /** The Gateway's environment information. */
  status(): Promise<{ jina: Record<string, string>; envs: Record<string, string> }>;
  close(): Promise<void>;
}

/** Per-call options of a transport's `streamDoc`. */
export interface TransportStreamOptions {
  timeoutMs?: number;
  metadata?: Record<string, string>;
}

/** What a transport implements to stream (see `ClientTransport.streamDoc`). */
export type StreamDocTransport = (
  request: StreamDocRequest,
  options: TransportStreamOptions,
) => AsyncIterable<StreamDocRequest>;
