import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataRequest } from '../proto/request.js';
import { docBytes, sentBytes } from './sent-bytes.js';

/**
 * The original's Prometheus metrics (jina-behaviour.md section 10), in one registry per runtime
 * process. Durations and sizes are histograms (the original's OpenTelemetry metrics; its legacy
 * Prometheus summaries had the same `_sum` and `_count`), counters end in `_total` as Python's
 * prometheus_client prints them. Every metric has the label `runtime_name`; connection-pool metrics
 * add `executor` (the deployment called), Executor metrics add `executor` and `executor_endpoint`.
 *
 * A runtime without monitoring has no `RuntimeMetrics` at all: its hot path checks one
 * `undefined` and records nothing.
 */

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Buckets of `jina_dynamic_batch_size`: documents per batch. */
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const BYTES = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

type RuntimeLabel = 'runtime_name';
type StreamLabels = 'runtime_name' | 'executor_endpoint';
type SendLabels = 'runtime_name' | 'executor';
type ExecutorLabels = 'runtime_name' | 'executor' | 'executor_endpoint';

interface SendChildren {
  seconds: Histogram.Internal<SendLabels>;
  sentBytes: Histogram.Internal<SendLabels>;
  receivedBytes: Histogram.Internal<SendLabels>;
}

interface EndpointChildren {
  seconds: Histogram.Internal<ExecutorLabels>;
  docs: Counter.Internal;
}

// Re-exported: callers that need only the sizes import sent-bytes.ts, without prom-client.
export { sentBytes };

/**
 * The metrics of one runtime (Gateway, head or Executor worker).
 *
 * @example
 * ```ts
 * const metrics = new RuntimeMetrics('gateway');
 * const response = await metrics.observeRequest(request, () => walker.process(request));
 * await metrics.text(); // Prometheus text format
 * ```
 */
export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly receiving: Histogram.Internal<RuntimeLabel>;
  private readonly pending: Gauge.Internal<RuntimeLabel>;
  private readonly successful: Counter.Internal;
  private readonly failed: Counter.Internal;
  private readonly receivedRequestBytes: Histogram.Internal<RuntimeLabel>;
  private readonly sentResponseBytes: Histogram.Internal<RuntimeLabel>;
  private readonly sending: Histogram<SendLabels>;
  private readonly sentRequestBytes: Histogram<SendLabels>;
  private readonly receivedResponseBytes: Histogram<SendLabels>;
  private readonly processing: Histogram<ExecutorLabels>;
  private readonly documents: Counter<ExecutorLabels>;
  private readonly batchSizes: Histogram<ExecutorLabels>;
  private readonly batchWaits: Histogram<ExecutorLabels>;
  private readonly sends = new Map<string, SendChildren>();
  private readonly endpoints = new Map<string, EndpointChildren>();
  private readonly streamItems: Counter<StreamLabels>;
  private readonly streamFirstItem: Histogram<StreamLabels>;
  private readonly streams: Counter<StreamLabels | 'outcome'>;

  /** One streamed item of `endpoint`; `firstAfterSeconds` for the first one of its stream. */
  observeStreamItem(endpoint: string, firstAfterSeconds?: number): void {
    const labels = { runtime_name: this.runtimeName, executor_endpoint: endpoint };
    this.streamItems.inc(labels);
    if (firstAfterSeconds !== undefined) this.streamFirstItem.observe(labels, firstAfterSeconds);
  }

  /** A stream of `endpoint` ended: `ok`, `error` or `cancelled`. */
  observeStreamEnd(endpoint: string, outcome: 'ok' | 'error' | 'cancelled'): void {
    this.streams.inc({ runtime_name: this.runtimeName, executor_endpoint: endpoint, outcome });
  }

  constructor(
    readonly runtimeName: string,
    options: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    const labels = { runtime_name: runtimeName };
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const rt: RuntimeLabel[] = ['runtime_name'];
    this.receiving = histogram(
      'jina_receiving_request_seconds',
      'Time from receiving a request to sending its response, seconds',
      rt,
      SECONDS,
    ).labels(labels);
    this.pending = new Gauge<RuntimeLabel>({
      name: 'jina_number_of_pending_requests',
      help: 'Requests received and not yet answered',
      labelNames: rt,
      registers,
    }).labels(labels);
    this.successful = counter('jina_successful_requests_total', 'Requests answered successfully', rt).labels(
      labels,
    );
    this.failed = counter(
      'jina_failed_requests_total',
      'Requests answered with an error (an Executor error or a network failure)',
      rt,
    ).labels(labels);
    this.receivedRequestBytes = histogram(
      'jina_received_request_bytes',
      "Size of the requests' documents received, bytes",
      rt,
      BYTES,
    ).labels(labels);
    this.sentResponseBytes = histogram(
      'jina_sent_response_bytes',
      "Size of the responses' documents sent, bytes",
      rt,
      BYTES,
    ).labels(labels);
    const send: SendLabels[] = ['runtime_name', 'executor'];
    this.sending = histogram(
      'jina_sending_request_seconds',
      'Time from sending a request to an Executor (or head) to receiving its response, seconds',
      send,
      SECONDS,
    );
    this.sentRequestBytes = histogram(
      'jina_sent_request_bytes',
      "Size of the requests' documents sent to an Executor (or head), bytes",
      send,
      BYTES,
    );
    this.receivedResponseBytes = histogram(
      'jina_received_response_bytes',
      "Size of the responses' documents received from an Executor (or head), bytes",
      send,
      BYTES,
    );
    const exec: ExecutorLabels[] = ['runtime_name', 'executor', 'executor_endpoint'];
    this.processing = histogram(
      'jina_process_request_seconds',
      "Time the Executor's endpoint method took, seconds",
      exec,
      SECONDS,
    );
    this.documents = counter('jina_document_processed_total', 'Documents processed by the Executor', exec);
    const st: StreamLabels[] = ['runtime_name', 'executor_endpoint'];
    this.streamItems = counter('flowgate_stream_items_total', 'Documents streamed (streaming endpoints)', st);
    this.streamFirstItem = histogram(
      'flowgate_stream_first_item_seconds',
      'Time from the start of a stream to its first item, seconds',
      st,
      SECONDS,
    );
    this.streams = counter('flowgate_streams_total', 'Streams ended, by outcome (ok, error, cancelled)', [
      ...st,
      'outcome',
    ]);
    this.batchSizes = histogram(
      'jina_dynamic_batch_size',
      'Documents per batch of a dynamically batched endpoint',
      exec,
      BATCH_SIZES,
    );
    this.batchWaits = histogram(
      'jina_dynamic_batch_wait_seconds',
      'Time a request to a dynamically batched endpoint waited in the queue before its batch started, seconds',
      exec,
      SECONDS,
    );
    // Shown from the first scrape on, at 0, so that rates and ratios have a start.
    this.successful.inc(0);
    this.failed.inc(0);
    this.pending.set(0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Records one request received by this runtime: pending while `response` is, then its duration,
   * success or failure (a rejection or an ERROR status) and sizes. Resolves to `run()`'s response.
   */
  observeRequest(request: DataRequest, run: () => Promise<DataRequest>): Promise<DataRequest> {
    const start = performance.now();
    this.pending.inc();
    this.receivedRequestBytes.observe(docBytes(request));
    return run().then(
      (res) => {
        this.pending.dec();
        this.receiving.observe((performance.now() - start) / 1000);
        (res.isError ? this.failed : this.successful).inc();
        this.sentResponseBytes.observe(docBytes(res));
        return res;
      },
      (err: unknown) => {
        this.pending.dec();
        this.receiving.observe((performance.now() - start) / 1000);
        this.failed.inc();
        throw err;
      },
    );
  }

  /** Records one call to `executor` (a deployment, shard or head): its duration and sizes. */
  observeSend(executor: string, sent: number, run: () => Promise<DataRequest>): Promise<DataRequest> {
    const start = performance.now();
    const m = this.sendChildren(executor);
    m.sentBytes.observe(sent);
    return run().then(
      (res) => {
        m.seconds.observe((performance.now() - start) / 1000);
        m.receivedBytes.observe(docBytes(res));
        return res;
      },
      (err: unknown) => {
        m.seconds.observe((performance.now() - start) / 1000);
        throw err;
      },
    );
  }

  /** Records one run of an Executor's endpoint method: its duration and how many documents it got. */
  observeProcess(executor: string, endpoint: string, seconds: number, docs: number): void {
    const key = `${executor}\u0000${endpoint}`;
    let m = this.endpoints.get(key);
    if (!m) {
      const labels = { runtime_name: this.runtimeName, executor, executor_endpoint: endpoint };
      m = { seconds: this.processing.labels(labels), docs: this.documents.labels(labels) };
      this.endpoints.set(key, m);
    }
    m.seconds.observe(seconds);
    m.docs.inc(docs);
  }

  /** Records one batch of a dynamically batched endpoint: its size in documents. */
  observeBatch(executor: string, endpoint: string, size: number): void {
    this.batchSizes
      .labels({ runtime_name: this.runtimeName, executor, executor_endpoint: endpoint })
      .observe(size);
  }

  /** Records the time one request waited in a batch queue. */
  observeBatchWait(executor: string, endpoint: string, seconds: number): void {
    this.batchWaits
      .labels({ runtime_name: this.runtimeName, executor, executor_endpoint: endpoint })
      .observe(seconds);
  }

  private sendChildren(executor: string): SendChildren {
    let m = this.sends.get(executor);
    if (!m) {
      const labels = { runtime_name: this.runtimeName, executor };
      m = {
        seconds: this.sending.labels(labels),
        sentBytes: this.sentRequestBytes.labels(labels),
        receivedBytes: this.receivedResponseBytes.labels(labels),
      };
      this.sends.set(executor, m);
    }
    return m;
  }

  /** Every metric in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * Serves `metrics` in the Prometheus text format at `http://host:port/` and `/metrics` (a small
 * node:http server of its own); port 0 picks a free one. Resolves to the server and its port.
 *
 * @example
 * ```ts
 * const { port, server } = await serveMetrics(metrics, '0.0.0.0', 9090);
 * // curl http://localhost:9090/metrics
 * ```
 */
export async function serveMetrics(
  metrics: RuntimeMetrics,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/' && path !== '/metrics')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at / and /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}
