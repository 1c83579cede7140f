import type { Server } from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import type { Headers } from '../core/headers.js';
import { trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { HandleOptions } from '../executor/handler.js';
import type { DataRequest } from '../proto/request.js';
import type * as MonitoringModule from './monitoring.js';
import type { RuntimeMetrics } from './monitoring.js';
import { SpanKind, endSpan } from './trace-context.js';
import type * as TracingModule from './tracing.js';
import type { RuntimeTracing } from './tracing.js';

/**
 * prom-client and the OpenTelemetry SDK are loaded only by processes that monitor or trace (they
 * cost ~150 ms and ~10 MB in every process otherwise): {@link loadObservability} first.
 */
let monitoringModule: typeof MonitoringModule | undefined;
let tracingModule: typeof TracingModule | undefined;

/** Loads what `options` turns on; {@link Observability.create} needs it loaded. */
export async function loadObservability(options: ObservabilityOptions | undefined): Promise<void> {
  if (options?.monitoring) monitoringModule ??= await import('./monitoring.js');
  if (options?.tracing) tracingModule ??= await import('./tracing.js');
}

/**
 * The monitoring and tracing options of one runtime process (Gateway, head or Executor), with the
 * original's names. JSON-safe: a Flow sends them to its processes over IPC.
 */
export interface ObservabilityOptions {
  /** Serve Prometheus metrics at `http://host:portMonitoring/` (and `/metrics`). */
  monitoring?: boolean;
  /** The metrics port; 0 or unset picks a free one. */
  portMonitoring?: number;
  /** Export OpenTelemetry spans over OTLP/HTTP to `http://tracesExporterHost:tracesExporterPort/v1/traces`. */
  tracing?: boolean;
  /** Default 127.0.0.1. */
  tracesExporterHost?: string;
  /** Default 4318 (OTLP/HTTP). */
  tracesExporterPort?: number;
  /** The `runtime_name` label and the spans' `service.name`; default the runtime's name. */
  runtimeName?: string;
}

/** The observability options a user sets on a Gateway or an Executor (the Flow adds `runtimeName`). */
export type ObservabilitySettings = Omit<ObservabilityOptions, 'runtimeName'>;

/** The observability keys of `o` (e.g. `configGateway` or `flow.add` options); undefined when all are off. */
export function observabilitySettings(o: ObservabilitySettings): ObservabilitySettings | undefined {
  if (!o.monitoring && !o.tracing) return undefined;
  const { monitoring, portMonitoring, tracing, tracesExporterHost, tracesExporterPort } = o;
  return { monitoring, portMonitoring, tracing, tracesExporterHost, tracesExporterPort };
}

/** The gRPC method the Gateway and heads call an Executor with when tracing (as the original names it). */
export const PROCESS_SPAN = '/jina.JinaSingleDataRequestRPC/process_single_data';

/**
 * The metrics and tracer of one runtime process, or nothing at all when both are off (runtimes
 * then hold `undefined` and check only that).
 *
 * @example
 * ```ts
 * const obs = await Observability.start('gateway', { monitoring: true, portMonitoring: 9090 }, '0.0.0.0');
 * obs?.monitoringPort; // 9090
 * await obs?.close();
 * ```
 */
export class Observability {
  /** The port the metrics are served on, when monitoring. */
  monitoringPort: number | undefined;
  private portMonitoring = 0;
  private server: Server | undefined;

  private constructor(
    readonly metrics: RuntimeMetrics | undefined,
    readonly tracing: RuntimeTracing | undefined,
  ) {}

  /** Starts what `options` turns on (the metrics server listens on `host`); undefined when nothing. */
  static async start(
    name: string,
    options: ObservabilityOptions | undefined,
    host = '0.0.0.0',
  ): Promise<Observability | undefined> {
    await loadObservability(options);
    const obs = Observability.create(name, options);
    await obs?.serve(host);
    return obs;
  }

  /**
   * The metrics and tracer `options` turn on, not yet served (see {@link serve}); undefined when
   * both are off.
   */
  static create(name: string, options: ObservabilityOptions | undefined): Observability | undefined {
    if (!options?.monitoring && !options?.tracing) return undefined;
    const runtimeName = options.runtimeName ?? name;
    if ((options.monitoring && !monitoringModule) || (options.tracing && !tracingModule))
      throw new Error('Observability.create() needs `await loadObservability(options)` first');
    const metrics = options.monitoring ? new monitoringModule!.RuntimeMetrics(runtimeName) : undefined;
    const tracing = options.tracing
      ? new tracingModule!.RuntimeTracing({
          serviceName: runtimeName,
          host: options.tracesExporterHost,
          port: options.tracesExporterPort,
        })
      : undefined;
    const obs = new Observability(metrics, tracing);
    obs.portMonitoring = options.portMonitoring ?? 0;
    return obs;
  }

  /** Serves the metrics (when monitoring) on `host` and `portMonitoring`. */
  async serve(host: string): Promise<void> {
    if (!this.metrics || this.server) return;
    const served = await monitoringModule!.serveMetrics(this.metrics, host, this.portMonitoring);
    this.server = served.server;
    this.monitoringPort = served.port;
  }

  /** Stops serving metrics and exports the spans still buffered. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    await this.tracing?.close();
  }
}

/**
 * One call to an Executor worker, observed: with tracing, a server span (child of the caller's
 * `traceparent`) and under it a span named after the endpoint, whose context the method receives;
 * with monitoring, the request metrics and the endpoint's `jina_process_request_seconds` and
 * `jina_document_processed_total`.
 */
export function observeWorkerCall(
  obs: Observability,
  executor: string,
  parts: DataRequest[],
  md: grpc.Metadata,
  handle: (extra: Pick<HandleOptions, 'tracingContext' | 'tracer' | 'onProcessed'>) => Promise<DataRequest>,
): Promise<DataRequest> {
  const { metrics, tracing } = obs;
  const request = parts[0]!;
  const run = () => {
    const extra: Pick<HandleOptions, 'tracingContext' | 'tracer' | 'onProcessed'> = {};
    if (metrics) extra.onProcessed = (ep, s, n) => metrics.observeProcess(executor, ep, s, n);
    if (!tracing) return handle(extra);
    const endpoint = request.endpoint;
    const attributes = spanAttributes(executor, endpoint, request.requestId);
    const parent = tracing.extract(md);
    const server = tracing.startSpan(PROCESS_SPAN, parent, SpanKind.SERVER, attributes);
    const serverCtx = trace.setSpan(parent, server);
    const span = tracing.startSpan(endpoint, serverCtx, SpanKind.INTERNAL, attributes);
    extra.tracingContext = trace.setSpan(serverCtx, span);
    extra.tracer = tracing.tracer;
    return handle(extra).then(
      (res) => {
        const error = res.isError ? (res.status?.description ?? 'error') : undefined;
        endSpan(span, error);
        endSpan(server, error);
        return res;
      },
      (err: unknown) => {
        endSpan(span, err);
        endSpan(server, err);
        throw err;
      },
    );
  };
  return metrics ? metrics.observeRequest(request, run) : run();
}

/**
 * One request through a head, observed: with tracing, a server span (child of the caller's
 * `traceparent`) whose context every call to a shard carries; with monitoring, the request metrics.
 */
export function observeHeadCall(
  obs: Observability,
  name: string,
  parts: DataRequest[],
  md: grpc.Metadata | undefined,
  route: (metadata: grpc.Metadata | undefined) => Promise<DataRequest>,
): Promise<DataRequest> {
  const { metrics, tracing } = obs;
  const request = parts[0]!;
  const run = () => {
    if (!tracing) return route(undefined);
    const attributes = spanAttributes(name, request.endpoint, request.requestId);
    const t = new RequestTrace(tracing, PROCESS_SPAN, md, attributes);
    return route(tracing.inject(t.context)).then(
      (res) => {
        t.end(res.isError ? (res.status?.description ?? 'error') : undefined);
        return res;
      },
      (err: unknown) => {
        t.end(err);
        throw err;
      },
    );
  };
  return metrics ? metrics.observeRequest(request, run) : run();
}

/** The attributes flowgate puts on its spans. */
export function spanAttributes(executor: string, endpoint: string, requestId?: string): Attributes {
  const a: Attributes = { 'flowgate.executor': executor, 'flowgate.endpoint': endpoint };
  if (requestId) a['flowgate.request_id'] = requestId;
  return a;
}

/**
 * The trace of one request through a Gateway or head: a server span under the caller's
 * `traceparent`, and a client span per call to an Executor, whose context the call carries.
 */
export class RequestTrace {
  readonly span: Span;
  readonly context: Context;

  constructor(
    private readonly tracing: RuntimeTracing,
    name: string,
    md: grpc.Metadata | Headers | undefined,
    attributes: Attributes,
  ) {
    const parent = tracing.extract(md);
    this.span = tracing.startSpan(name, parent, SpanKind.SERVER, attributes);
    this.context = trace.setSpan(parent, this.span);
  }

  /**
   * Starts the span of one call to `executor`; returns the headers the call carries (`headers`
   * plus the span's `traceparent`) and the function that ends the span.
   */
  call(
    executor: string,
    endpoint: string,
    headers: Headers | undefined,
  ): { headers: Headers; end: (error?: unknown) => void } {
    const span = this.tracing.startSpan(PROCESS_SPAN, this.context, SpanKind.CLIENT, {
      ...spanAttributes(executor, endpoint),
      'rpc.system': 'grpc',
      'rpc.service': 'jina.JinaSingleDataRequestRPC',
      'rpc.method': 'process_single_data',
    });
    return {
      headers: this.tracing.injectHeaders(trace.setSpan(this.context, span), headers),
      end: (error?: unknown) => endSpan(span, error),
    };
  }

  /** Ends the request's span, failed when `error` is given. */
  end(error?: unknown): void {
    endSpan(this.span, error);
  }
}
