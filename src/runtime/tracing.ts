import * as grpc from '@grpc/grpc-js';
import {
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Headers } from '../core/headers.js';
import { VERSION } from '../core/version.js';

/** Where spans go when `tracesExporterHost` / `tracesExporterPort` are not given: a local collector. */
export const DEFAULT_TRACES_HOST = '127.0.0.1';
/** The OTLP/HTTP port of an OpenTelemetry collector. */
export const DEFAULT_TRACES_PORT = 4318;

import { TRACE_CONTEXT_KEYS } from './trace-context.js';

export { TRACE_CONTEXT_KEYS, endSpan, SpanKind } from './trace-context.js';

/** Options of {@link RuntimeTracing}. */
export interface TracingOptions {
  /** The OpenTelemetry `service.name` of this runtime (the Gateway's or the Executor's name). */
  serviceName: string;
  /** Host of the OTLP/HTTP receiver (a collector, Jaeger, Tempo...); a full `http(s)://` URL works too. */
  host?: string;
  port?: number;
}

const propagator = new W3CTraceContextPropagator();

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const v = md.get(key)[0];
    return v === undefined ? undefined : v.toString();
  },
};

const metadataSetter: TextMapSetter<grpc.Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

const headersGetter: TextMapGetter<Headers> = {
  keys: (h) => Object.keys(h),
  get: (h, key) => h[key],
};

const headersSetter: TextMapSetter<Headers> = {
  set: (h, key, value) => {
    h[key] = value;
  },
};

/** The OTLP/HTTP traces URL for a host and port: `http://host:port/v1/traces`. */
export function tracesUrl(host = DEFAULT_TRACES_HOST, port = DEFAULT_TRACES_PORT): string {
  if (/^https?:\/\//.test(host))
    return /\/v1\/traces$/.test(host) ? host : `${host.replace(/\/$/, '')}/v1/traces`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1/traces`;
}

/**
 * The OpenTelemetry tracer of one runtime process: spans are batched and exported over OTLP/HTTP
 * (JSON) to `http://host:port/v1/traces`, every `OTEL_BSP_SCHEDULE_DELAY` ms (default 5000) and on
 * {@link close}. The W3C trace context travels in gRPC metadata (`traceparent`, `tracestate`).
 * The provider is also registered as the global one, so `trace.getTracer()` works in user code.
 *
 * @example
 * ```ts
 * const tracing = new RuntimeTracing({ serviceName: 'gateway', host: 'otel-collector', port: 4318 });
 * const span = tracing.startSpan('work', tracing.extract(call.metadata));
 * span.end();
 * await tracing.close();
 * ```
 */
export class RuntimeTracing {
  readonly tracer: Tracer;
  private readonly provider: BasicTracerProvider;

  constructor(options: TracingOptions) {
    const exporter = new OTLPTraceExporter({ url: tracesUrl(options.host, options.port) });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    trace.setGlobalTracerProvider(this.provider);
    this.tracer = this.provider.getTracer('flowgate', VERSION);
  }

  /** The context of the `traceparent` in `md` (metadata or plain headers), or the root context. */
  extract(md: grpc.Metadata | Headers | undefined): Context {
    if (!md) return ROOT_CONTEXT;
    if (md instanceof grpc.Metadata) return propagator.extract(ROOT_CONTEXT, md, metadataGetter);
    return propagator.extract(ROOT_CONTEXT, md, headersGetter);
  }

  /** A copy of `headers` (or new ones) whose `traceparent` / `tracestate` name `ctx`'s span. */
  injectHeaders(ctx: Context, headers?: Headers): Headers {
    const out: Headers = { ...headers };
    for (const k of TRACE_CONTEXT_KEYS) delete out[k];
    propagator.inject(ctx, out, headersSetter);
    return out;
  }

  /**
   * A copy of `md` (or new metadata) whose `traceparent` / `tracestate` name `ctx`'s span: what a
   * call to the next runtime carries.
   */
  inject(ctx: Context, md?: grpc.Metadata): grpc.Metadata {
    const out = md ? md.clone() : new grpc.Metadata();
    for (const k of TRACE_CONTEXT_KEYS) out.remove(k);
    propagator.inject(ctx, out, metadataSetter);
    return out;
  }

  /** Starts a span under `parent`; {@link endSpan} ends it. */
  startSpan(
    name: string,
    parent: Context,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes?: Attributes,
  ): Span {
    return this.tracer.startSpan(name, { kind, attributes }, parent);
  }

  /** `span`'s context as a child of `parent`, to start spans under it or to inject. */
  contextOf(span: Span, parent: Context): Context {
    return trace.setSpan(parent, span);
  }

  /** Exports what is buffered, then stops exporting. */
  async close(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
    await this.provider.shutdown().catch(() => undefined);
  }
}
