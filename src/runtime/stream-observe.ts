import { trace } from '@opentelemetry/api';
import type { Observability } from './observability.js';
import type { StreamObserve } from './stream-doc.js';
import { SpanKind, endSpan } from './trace-context.js';

/** The span of a worker's `stream_doc` call, as the gRPC method is named. */
export const STREAM_DOC_SPAN = '/jina.JinaSingleDocumentRequestRPC/stream_doc';

/**
 * Metrics and tracing of a worker's streams: with tracing, a server span (child of the caller's
 * `traceparent`) and an endpoint span under it, whose context the Executor gets as
 * `tracingContext`, ended with the stream (`flowgate.items` = items streamed); with monitoring,
 * `flowgate_stream_items_total`, `flowgate_stream_first_item_seconds` and `flowgate_streams_total`.
 *
 * @example
 * ```ts
 * addStreamDocService(server, { ..., observe: observeWorkerStream(obs, 'tokens') });
 * ```
 */
export function observeWorkerStream(obs: Observability, executor: string): StreamObserve {
  const { metrics, tracing } = obs;
  return (call, endpoint) => {
    const started = performance.now();
    let items = 0;
    const attributes = { executor, 'flowgate.endpoint': endpoint };
    const parent = tracing?.extract(call.metadata);
    const server = parent && tracing?.startSpan(STREAM_DOC_SPAN, parent, SpanKind.SERVER, attributes);
    const serverCtx = parent && server ? trace.setSpan(parent, server) : undefined;
    const span = serverCtx && tracing?.startSpan(endpoint, serverCtx, SpanKind.INTERNAL, attributes);
    return {
      extra:
        span && serverCtx && tracing
          ? { tracingContext: trace.setSpan(serverCtx, span), tracer: tracing.tracer }
          : {},
      item() {
        items++;
        metrics?.observeStreamItem(endpoint, items === 1 ? (performance.now() - started) / 1000 : undefined);
      },
      end(err) {
        const outcome = err === undefined ? 'ok' : err === 'cancelled' ? 'cancelled' : 'error';
        metrics?.observeStreamEnd(endpoint, outcome);
        for (const s of [span, server]) {
          if (!s) continue;
          s.setAttribute('flowgate.items', items);
          endSpan(s, outcome === 'ok' ? undefined : err);
        }
      },
    };
  };
}
