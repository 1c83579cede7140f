import { isMainThread } from 'node:worker_threads';
import type { Headers } from '../core/headers.js';
import { DEFAULT_PREFETCH, inFlightLimit, mapInFlight } from '../core/in-flight.js';
import { LightAbort } from '../core/abort-like.js';
import type { ExecutorError } from '../core/errors.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { DocumentArray } from '../document/index.js';
import { buildRequests, decodeDocs } from '../document/index.js';
import { DataRequest, executorErrorOf } from '../proto/request.js';
import type { RuntimeMetrics } from '../runtime/monitoring.js';
import type { ConnectionPool } from './connection-pool.js';
import type { GraphWalker, WalkOptions } from './graph-walker.js';
import type { StreamDocsOptions } from './stream-options.js';
import {
  itemDocuments,
  type StreamDocOptions,
  type StreamWalker,
  type StreamWalkOptions,
} from './stream-walker.js';
import { createStreamDocRequest, type StreamDocRequest } from '../transport/grpc/stream-doc.js';
import type { Document } from '../document/index.js';
import { serveStreamerToWorkers, WorkerThreadStreamer, type StreamerApi } from './worker-streamer.js';

/** Options of {@link GatewayStreamer.rpcStream}. */
export interface RpcStreamOptions {
  /** Yield responses in request order instead of completion order. */
  resultsInOrder?: boolean;
  /** At most this many requests in flight; 0 = unlimited. Default: the Gateway's prefetch (1000). */
  prefetch?: number;
  /** Headers forwarded to Executors (see `forwardedHeaders`). */
  headers?: Headers;
  /**
   * Abort when the client goes away or its deadline passes: reading stops, requests in flight are
   * cancelled (Executors not yet called are never called) and the stream ends with Cancelled.
   */
  signal?: AbortSignal;
}

export type { StreamDocsOptions } from './stream-options.js';

/**
 * Sends requests through the Flow's graph. Built-in Gateways use `rpcStream`; custom Gateways use
 * `streamDocs` / `stream`.
 *
 * @example
 * ```ts
 * for await (const docs of this.streamer.streamDocs({ docs, execEndpoint: '/' })) {
 *   console.log(docs.texts);
 * }
 * ```
 */
export class GatewayStreamer {
  constructor(
    private readonly walker: GraphWalker,
    readonly pool: ConnectionPool,
    /** Requests in flight per stream when the caller gives no `prefetch`; `0` = unlimited. */
    private readonly defaultPrefetch = DEFAULT_PREFETCH,
    /** With monitoring: the Gateway's request metrics (`jina_receiving_request_seconds`...). */
    private readonly metrics?: RuntimeMetrics,
    /** Walks streaming requests (see `stream-walker.ts`); without it, streams are UNIMPLEMENTED. */
    private readonly streams?: StreamWalker,
  ) {}

  /** Requests in flight per stream when the caller gives no `prefetch` (`Infinity` = unlimited). */
  get prefetch(): number {
    return inFlightLimit(undefined, this.defaultPrefetch);
  }

  /**
   * One document through a streaming endpoint of the Flow; yields the streamed items as they come
   * (an error item ends the stream). See {@link StreamWalker} for the semantics.
   */
  streamItems(request: StreamDocRequest, options: StreamWalkOptions = {}): AsyncGenerator<StreamDocRequest> {
    if (!this.streams) throw new FlowgateError(Code.Unimplemented, 'this Gateway has no stream walker');
    return this.streams.stream(request, options);
  }

  /**
   * Streams the documents a streaming endpoint yields for `doc` (custom Gateways). An Executor error
   * throws its ExecutorError; `break` cancels the stream end to end.
   *
   * @example
   * ```ts
   * for await (const d of this.streamer.streamDoc({ doc: new Document({ text: 'a b' }), execEndpoint: '/generate' }))
   *   res.write(d.text);
   * ```
   */
  streamDoc(options: StreamDocOptions): AsyncGenerator<Document> {
    const request = createStreamDocRequest({
      endpoint: options.execEndpoint ?? '/',
      doc: options.doc,
      parameters: options.parameters,
    });
    return itemDocuments(this.streamItems(request, { signal: options.signal }));
  }

  /** One request through the graph; `signal` cancels it (see {@link WalkOptions}). */
  process(request: DataRequest, options: WalkOptions = {}): Promise<DataRequest> {
    if (this.metrics === undefined) return this.walker.process(request, options);
    return this.metrics.observeRequest(request, () => this.walker.process(request, options));
  }

  /**
   * One encoded `DataRequestProto` through the graph, answered encoded: the lowest-level entry for
   * a server that has the request's bytes (an HTTP `application/x-protobuf` body, a binary frame).
   * Only the header is decoded; parameters, routes and documents are forwarded as the bytes they
   * came as (see `proto/request-wire.ts`). Malformed bytes reject with INVALID_ARGUMENT; Executor
   * errors are inside the answer's status, as with {@link process}.
   *
   * @example
   * ```ts
   * const answer: Uint8Array = await streamer.processBytes(body, { signal });
   * res.setHeader('content-type', 'application/x-protobuf').end(answer);
   * ```
   */
  processBytes(bytes: Uint8Array, options: WalkOptions = {}): Promise<Uint8Array> {
    let request: DataRequest;
    try {
      request = DataRequest.decode(bytes);
    } catch (err) {
      return Promise.reject(
        new FlowgateError(
          Code.InvalidArgument,
          `the request is not a serialised DataRequestProto: ${(err as Error).message}`,
        ),
      );
    }
    return this.process(request, options).then(encodeAnswer);
  }

  /**
   * Many requests through the graph at once, at most `prefetch` in flight: while at the limit the
   * source is not read, so a fast client cannot fill the Gateway's memory (gRPC flow control then
   * holds the client back). A network failure ends the stream with that error and cancels the
   * requests still in flight; so do `signal` and a consumer that stops iterating early.
   */
  rpcStream(
    requests: AsyncIterable<DataRequest>,
    options: RpcStreamOptions = {},
  ): AsyncIterable<DataRequest> {
    // One light signal for the whole stream, following the loop's: each request's calls listen to
    // it instead of adding a DOM listener each to the loop's signal.
    let light: LightAbort | undefined;
    return mapInFlight(
      requests,
      (req, _i, signal) =>
        this.process(req, { headers: options.headers, signal: (light ??= LightAbort.follow(signal).light) }),
      {
        limit: inFlightLimit(options.prefetch, this.defaultPrefetch),
        ordered: options.resultsInOrder,
        signal: options.signal,
        abortError: () =>
          new FlowgateError(
            Code.Cancelled,
            'the stream was cancelled: its client went away or its deadline passed',
          ),
      },
    );
  }

  /** Documents through the whole Flow; yields each response's documents. Executor errors throw. */
  async *streamDocs(options: StreamDocsOptions): AsyncGenerator<DocumentArray> {
    for await (const [docs, error] of this.stream(options)) {
      if (error) throw error;
      yield docs;
    }
  }

  /** Like `streamDocs`, but yields `[docs, error]` so that Executor errors can be recovered from. */
  async *stream(options: StreamDocsOptions): AsyncGenerator<[DocumentArray, ExecutorError | undefined]> {
    const requests = batchRequests(options);
    for await (const res of this.rpcStream(requests, { resultsInOrder: options.resultsInOrder ?? false })) {
      yield [decodeDocs(res.docsBytes), executorErrorOf(res)];
    }
  }

  /** Waits for floating work, then closes every connection. */
  async close(): Promise<void> {
    if (currentStreamer === this) GatewayStreamer.setCurrent(undefined);
    await this.walker.drain();
    this.pool.close();
  }

  /**
   * The streamer of the Gateway running in this process, for server code that cannot reach its
   * Gateway instance (the original's `GatewayStreamer.get_streamer()`). Throws FAILED_PRECONDITION
   * outside a Gateway process (a Flow's Gateway, `flowgate gateway`, or a started GatewayRuntime).
   *
   * @example
   * ```ts
   * const streamer = GatewayStreamer.getStreamer();
   * for await (const docs of streamer.streamDocs({ docs, execEndpoint: '/' })) console.log(docs.texts);
   * ```
   */
  static getStreamer(): StreamerApi {
    if (!currentStreamer && !isMainThread) return new WorkerThreadStreamer();
    if (!currentStreamer)
      throw new FlowgateError(
        Code.FailedPrecondition,
        'GatewayStreamer.getStreamer() works only in a running Gateway: call it from code that a Flow (or flowgate gateway) runs in its Gateway process, after the Gateway started',
      );
    return currentStreamer;
  }

  /** Makes `streamer` the one {@link GatewayStreamer.getStreamer} returns (set by GatewayRuntime). */
  static setCurrent(streamer: GatewayStreamer | undefined): void {
    currentStreamer = streamer;
    stopServingWorkers?.();
    // worker threads of this process reach it through a proxy (see worker-streamer.ts)
    stopServingWorkers = streamer && isMainThread ? serveStreamerToWorkers(streamer) : undefined;
  }
}

/** The streamer of the Gateway running in this process, if any. */
let currentStreamer: GatewayStreamer | undefined;
/** Stops serving `currentStreamer` to worker threads. */
let stopServingWorkers: (() => void) | undefined;

/** The answer's bytes (a function, not a closure per request). */
function encodeAnswer(response: DataRequest): Uint8Array {
  return response.encode();
}

function batchRequests(options: StreamDocsOptions): AsyncGenerator<DataRequest> {
  const { execEndpoint: endpoint, targetExecutor, parameters } = options;
  return buildRequests(options.docs, { endpoint, targetExecutor, parameters }, options.requestSize);
}
