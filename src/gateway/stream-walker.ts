import { Code, FlowgateError } from '../core/errors.js';
import type { Headers } from '../core/headers.js';
import { DocumentArray, decodeDocs, encodeDocs, type Document } from '../document/index.js';
import { DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import { trace } from '@opentelemetry/api';
import type { RuntimeMetrics } from '../runtime/monitoring.js';
import { RequestTrace } from '../runtime/observability.js';
import { STREAM_DOC_SPAN } from '../runtime/stream-observe.js';
import { SpanKind, endSpan } from '../runtime/trace-context.js';
import type { RuntimeTracing } from '../runtime/tracing.js';
import { streamsEndpoint } from '../runtime/replica-stream.js';
import { isStreamError, streamErrorItem, type StreamDocRequest } from '../transport/grpc/stream-doc.js';
import type { ConnectionPool } from './connection-pool.js';
import { isChain, targetRegExp } from './graph-walker.js';
import type { Topology, TopologyNode } from './topology.js';

/** Options of {@link StreamWalker.stream}. */
export interface StreamWalkOptions {
  /** Aborting cancels the stream end to end (the Executor's generator is closed). */
  signal?: AbortSignal;
  /** Headers forwarded to every Executor call of this stream (sent as gRPC metadata). */
  headers?: Headers;
  /** The whole stream's deadline (epoch ms). */
  deadline?: number;
}

/**
 * Walks one streaming request through a chain of Executors. The Executors before the first one
 * that serves the endpoint with a generator get the input document as a one-document request
 * (normal calls); the streaming Executor then gets each document they return, one stream after
 * the other; each item it yields goes, as a one-document request, through the Executors after it,
 * and every document they return is yielded. Executors that do not bind the endpoint are skipped.
 *
 * Items move one at a time: the next item is read from the streaming Executor only once the last
 * one went through the rest of the chain and was taken by the caller, so back-pressure reaches the
 * generator. An Executor error (in a call or in the stream) is yielded as an error item naming the
 * Executor, and the stream ends; a network failure after the first item is yielded the same way.
 *
 * With tracing, a stream is a server span `gateway <endpoint>` (child of the caller's
 * `traceparent`), with a client span per call: `process_single_data` for the Executors around the
 * streaming one, `/jina.JinaSingleDocumentRequestRPC/stream_doc` for it (whose `traceparent` the
 * worker continues); the stream's spans carry `flowgate.items`.
 *
 * @example
 * ```ts
 * for await (const item of walker.stream(createStreamDocRequest({ endpoint: '/generate', doc }))) send(item);
 * ```
 */
export class StreamWalker {
  constructor(
    private readonly topology: Topology,
    private readonly pool: ConnectionPool,
    private readonly metrics?: RuntimeMetrics,
    private readonly tracing?: RuntimeTracing,
  ) {}

  async *stream(
    request: StreamDocRequest,
    options: StreamWalkOptions = {},
  ): AsyncGenerator<StreamDocRequest> {
    const endpoint = request.header.execEndpoint ?? '/';
    const requestId = request.header.requestId ?? '';
    const started = performance.now();
    let items = 0;
    // Until the walk ends by itself, the caller stopped reading: a cancelled stream.
    let outcome: 'ok' | 'error' | 'cancelled' = 'cancelled';
    let failure: unknown;
    const rt = this.tracing
      ? new RequestTrace(this.tracing, `gateway ${endpoint}`, options.headers, {
          'flowgate.endpoint': endpoint,
          'flowgate.request_id': requestId,
        })
      : undefined;
    try {
      for await (const item of this.walk(request, options, rt)) {
        if (isStreamError(item)) {
          outcome = 'error';
          failure = item.header.status?.description ?? 'error';
          yield { ...item, header: { ...item.header, requestId } };
          return;
        }
        items++;
        const first = items === 1 ? (performance.now() - started) / 1000 : undefined;
        this.metrics?.observeStreamItem(endpoint, first);
        yield item;
      }
      outcome = 'ok';
    } catch (err) {
      if (options.signal?.aborted || (err instanceof FlowgateError && err.code === Code.Cancelled)) throw err;
      outcome = 'error';
      failure = err;
      if (items === 0) throw err;
      const executor =
        err instanceof FlowgateError && typeof err.details.executor === 'string' ? err.details.executor : '';
      yield streamErrorItem(requestId, err, executor);
    } finally {
      this.metrics?.observeStreamEnd(endpoint, outcome);
      rt?.span.setAttribute('flowgate.items', items);
      rt?.end(outcome === 'ok' ? undefined : (failure ?? outcome));
    }
  }

  /** The walk itself: the items, or an error item last. */
  private async *walk(
    request: StreamDocRequest,
    options: StreamWalkOptions,
    rt: RequestTrace | undefined,
  ): AsyncGenerator<StreamDocRequest> {
    const endpoint = request.header.execEndpoint ?? '/';
    const header = { requestId: request.header.requestId ?? '', execEndpoint: endpoint };
    const target = request.header.targetExecutor;
    const { before, streaming, after } = await this.plan(endpoint, target || undefined);
    // Executors never see the pattern: the Gateway has applied it.
    if (target) request = { ...request, header: { ...request.header, targetExecutor: undefined } };
    let inputs = request.document ? [request.document] : [];
    for (const node of before) {
      const out = await this.call(node, endpoint, request, inputs, options, rt);
      if (!(out instanceof DocumentArray)) {
        yield out;
        return;
      }
      inputs = [...out];
    }
    for (const doc of inputs) {
      const span = rt && this.streamSpan(rt, streaming.name, endpoint, options.headers);
      const streamOptions = span ? { ...options, headers: span.headers } : options;
      let streamed = 0;
      let error: unknown = 'cancelled';
      try {
        for await (const got of this.pool.streamDoc(
          streaming.name,
          { ...request, document: doc },
          streamOptions,
        )) {
          if (isStreamError(got)) {
            error = got.header.status?.description ?? 'error';
            yield got;
            return;
          }
          streamed++;
          let docs = got.document ? [got.document] : [];
          for (const node of after) {
            const out = await this.call(node, endpoint, request, docs, options, rt);
            if (!(out instanceof DocumentArray)) {
              yield out;
              return;
            }
            docs = [...out];
          }
          for (const d of docs) yield { header, parameters: {}, routes: [], document: d };
        }
        error = undefined;
      } catch (err) {
        error = err;
        throw err;
      } finally {
        span?.end(streamed, error);
      }
    }
  }

  /** The client span of one `stream_doc` call, and the headers carrying its `traceparent`. */
  private streamSpan(
    rt: RequestTrace,
    executor: string,
    endpoint: string,
    headers: Headers | undefined,
  ): { headers: Headers; end(items: number, error?: unknown): void } {
    const tracing = this.tracing!;
    const span = tracing.startSpan(STREAM_DOC_SPAN, rt.context, SpanKind.CLIENT, {
      'flowgate.executor': executor,
      'flowgate.endpoint': endpoint,
      'rpc.system': 'grpc',
      'rpc.service': 'jina.JinaSingleDocumentRequestRPC',
      'rpc.method': 'stream_doc',
    });
    return {
      headers: tracing.injectHeaders(trace.setSpan(rt.context, span), headers),
      end(items, error) {
        span.setAttribute('flowgate.items', items);
        endSpan(span, error);
      },
    };
  }

  /**
   * The Executors called before the streaming one, the streaming one, and those after it. With a
   * `targetExecutor` pattern, Executors whose name does not match it (anchored at the start, as the
   * original's `re.match`) are passed through, as for data requests.
   */
  private async plan(
    endpoint: string,
    target?: string,
  ): Promise<{ before: TopologyNode[]; streaming: TopologyNode; after: TopologyNode[] }> {
    const matches = target ? targetRegExp(target) : undefined;
    if (!isChain(this.topology))
      throw new FlowgateError(
        Code.Unimplemented,
        'streaming endpoints need a Flow whose Executors form one chain (no needs/when/floating); this Flow is a graph',
      );
    const before: TopologyNode[] = [];
    const after: TopologyNode[] = [];
    let streaming: TopologyNode | undefined;
    for (const node of this.topology.nodes) {
      if (node.passThrough || (matches && !matches.test(node.name))) continue;
      const bound = await this.pool.endpoints(node.name);
      const e = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
      if (!bound.has(e) && !bound.has('/default')) continue;
      if (!streaming && streamsEndpoint(e, bound, await this.pool.streamingEndpoints(node.name)))
        streaming = node;
      else (streaming ? after : before).push(node);
    }
    if (!streaming)
      throw new FlowgateError(
        Code.InvalidArgument,
        target
          ? `no Executor of this Flow whose name matches targetExecutor '${target}' serves ${endpoint} as a streaming endpoint (a generator method)`
          : `no Executor of this Flow serves ${endpoint} as a streaming endpoint (a generator method): call it with post`,
      );
    return { before, streaming, after };
  }

  /** One normal call with `docs`: its documents, or the error item to end the stream with. */
  private async call(
    node: TopologyNode,
    endpoint: string,
    request: StreamDocRequest,
    docs: Document[],
    options: StreamWalkOptions,
    rt: RequestTrace | undefined,
  ): Promise<DocumentArray | StreamDocRequest> {
    const req = DataRequest.create({
      requestId: request.header.requestId ?? undefined,
      endpoint,
      parameters: request.parameters,
      docsBytes: encodeDocs(new DocumentArray(docs)),
    });
    const traced = rt?.call(node.name, endpoint, options.headers);
    let res: DataRequest;
    try {
      res = await this.pool.send(node.name, req, {
        signal: options.signal,
        headers: traced ? traced.headers : options.headers,
      });
    } catch (err) {
      traced?.end(err);
      throw err;
    }
    traced?.end(res.isError ? (res.status?.description ?? 'error') : undefined);
    if (res.isError)
      return {
        header: { requestId: res.requestId, status: res.status },
        parameters: {},
        routes: [],
        document: undefined,
      };
    return decodeDocs(res.docsBytes);
  }
}

/** Options of `streamer.streamDoc` and `executor['name'].streamDoc` (custom Gateways). */
export interface StreamDocOptions {
  /** The one input document. */
  doc: Document;
  /** The streaming endpoint; default `/`. */
  execEndpoint?: string;
  parameters?: JsonObject;
  /** Aborting cancels the stream (the Executor's generator is closed). */
  signal?: AbortSignal;
}

export { itemDocuments, executorErrorOfStatus } from '../document/stream-request.js';
