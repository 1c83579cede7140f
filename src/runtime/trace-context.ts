import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';

/**
 * The light part of tracing (only `@opentelemetry/api`), which every runtime imports; the SDK and
 * the OTLP exporter (`tracing.ts`) are loaded only by a process that traces.
 */

/** The W3C trace context keys: `traceparent` and `tracestate`. */
export const TRACE_CONTEXT_KEYS = ['traceparent', 'tracestate'] as const;

/** Ends `span`, marking it failed when `error` is given (a thrown value or an error message). */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'error';
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end();
}

export { SpanKind };
