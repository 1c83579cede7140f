import { trace, type Context, type Tracer } from '@opentelemetry/api';
import { DocumentArray, decodeDocs, encodeDocs, type Document } from '../document/index.js';
import type { DataRequest } from '../proto/request.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../proto/struct.js';
import { BatchQueue } from './batch-queue.js';
import { resolveBatchings, type DynamicBatchingConfig, type ResolvedBatching } from './dynamic-batching.js';
import type { Executor, HandlerArgs } from './executor.js';
import { RESULTS_KEY, mergeParameters, mergeParts, parametersFor, type HandleOptions } from './handler.js';
import {
  DEFAULT_ENDPOINT,
  DRY_RUN_ENDPOINT,
  endpointTable,
  normaliseEndpoint,
  resolveEndpoint,
} from './requests.js';

/** Where a batched endpoint reports its batches (the runtime's metrics, when monitoring). */
export interface BatchObserver {
  /** One batch ran with `size` documents. */
  batch(endpoint: string, size: number): void;
  /** One request waited `seconds` in the queue before its first batch started. */
  wait(endpoint: string, seconds: number): void;
}

/** Options of {@link DynamicBatcher.handle}: the handler's, plus where batches are reported. */
export interface BatchHandleOptions extends HandleOptions {
  batchObserver?: BatchObserver;
}

/** What the batch needs of each request queued in it. */
interface BatchContext {
  parameters: JsonObject;
  metadata: Record<string, string>;
  tracingContext: Context | undefined;
  tracer: Tracer | undefined;
  options: BatchHandleOptions;
  /** An object the method returned, for this request's `__results__`. */
  result?: JsonValue;
}

/**
 * Serves the batched endpoints of one Executor instance (see `@dynamicBatching`): each request's
 * documents join the endpoint's queue, grouped by the request parameters, and the method runs once
 * per batch. The method may change the batch's documents in place or return a DocumentArray of as
 * many documents (the i-th returned document answers the i-th it got); any other count fails the
 * batch. A returned plain object goes into the `__results__` of every request of the batch.
 *
 * @example
 * ```ts
 * const batcher = DynamicBatcher.create(new Embedder(), { '/embed': { timeout: 5 } });
 * if (batcher?.handles(request.endpoint)) response = await batcher.handle([request]);
 * ```
 */
export class DynamicBatcher {
  private readonly queues = new Map<string, BatchQueue<Document, BatchContext>>();
  private readonly table: Map<string, string>;
  private draining = false;
  readonly name: string;

  private constructor(
    private readonly executor: Executor,
    private readonly batchings: Map<string, ResolvedBatching>,
  ) {
    this.table = endpointTable(executor.constructor as typeof Executor);
    this.name = executor.metas.name;
  }

  /**
   * The batcher of `executor` when any endpoint is batched (by decorator or `config`), else
   * undefined. Throws for a configuration that cannot work (see `resolveBatchings`).
   */
  static create(executor: Executor, config?: DynamicBatchingConfig): DynamicBatcher | undefined {
    const batchings = resolveBatchings(executor.constructor as typeof Executor, config);
    return batchings.size > 0 ? new DynamicBatcher(executor, batchings) : undefined;
  }

  /** The endpoints batched and how. */
  get endpoints(): ReadonlyMap<string, ResolvedBatching> {
    return this.batchings;
  }

  /** True when requests to `endpoint` go through a batch queue. */
  handles(endpoint: string): boolean {
    return this.batchingOf(normaliseEndpoint(endpoint)) !== undefined;
  }

  private batchingOf(endpoint: string): ResolvedBatching | undefined {
    if (endpoint === DRY_RUN_ENDPOINT) return undefined;
    const exact = this.batchings.get(endpoint);
    if (exact) return exact;
    // an endpoint no method binds goes to the catch-all, batched when the catch-all is
    return this.table.has(endpoint) ? undefined : this.batchings.get(DEFAULT_ENDPOINT);
  }

  /** Handles one request of a batched endpoint; never throws (errors go into the response). */
  async handle(parts: DataRequest[], options: BatchHandleOptions = {}): Promise<DataRequest> {
    const response = parts[0];
    if (!response) throw new Error('handle() needs at least one request');
    const endpoint = normaliseEndpoint(response.endpoint);
    try {
      const queue = this.queueOf(endpoint);
      const inputParams = mergeParameters(parts);
      const parameters = parametersFor(inputParams, this.name);
      const ctx: BatchContext = {
        parameters,
        metadata: options.metadata ?? {},
        tracingContext: options.tracingContext,
        tracer: options.tracer,
        options,
      };
      const outcome = await queue.enqueue(groupKey(parameters), () => {
        const matrix = parts.map((p) => decodeDocs(p.docsBytes));
        return { items: [...(matrix.length === 1 ? matrix[0]! : mergeParts(matrix))], ctx };
      });
      options.batchObserver?.wait(endpoint, outcome.waitMs / 1000);
      if (options.tracingContext)
        trace.getSpan(options.tracingContext)?.setAttributes({
          'flowgate.batch_size': outcome.batchSize,
          'flowgate.batch_wait_ms': Math.round(outcome.waitMs * 1000) / 1000,
        });
      if (ctx.result !== undefined) {
        const results = isJsonObject(inputParams[RESULTS_KEY]) ? inputParams[RESULTS_KEY] : {};
        results[this.name] = ctx.result;
        inputParams[RESULTS_KEY] = results;
      }
      response.docsBytes = encodeDocs(outcome.items);
      response.docsInBytesField = false;
      response.parameters = inputParams;
    } catch (err) {
      response.setError(err, this.name);
    }
    return response;
  }

  /** Runs every queued request without waiting for timeouts: the worker is stopping. */
  drain(): void {
    this.draining = true;
    for (const q of this.queues.values()) q.drain();
  }

  private queueOf(endpoint: string): BatchQueue<Document, BatchContext> {
    let queue = this.queues.get(endpoint);
    if (queue) return queue;
    const batching = this.batchingOf(endpoint);
    const methodName = resolveEndpoint(this.table, endpoint);
    if (!batching || methodName === undefined) throw new Error(`endpoint ${endpoint} is not batched`);
    queue = new BatchQueue(batching, (docs, contexts) => this.runBatch(endpoint, methodName, docs, contexts));
    if (this.draining) queue.drain();
    this.queues.set(endpoint, queue);
    return queue;
  }

  private async runBatch(
    endpoint: string,
    methodName: string,
    docs: Document[],
    contexts: BatchContext[],
  ): Promise<Document[]> {
    const first = contexts[0]!;
    const batch = new DocumentArray(docs);
    const args: HandlerArgs = {
      docs: batch,
      parameters: first.parameters,
      docsMatrix: [batch],
      docsMap: {},
      metadata: first.metadata,
    };
    if (first.tracingContext) {
      args.tracingContext = first.tracingContext;
      args.tracer = first.tracer;
    }
    first.options.batchObserver?.batch(endpoint, docs.length);
    const method = (this.executor as unknown as Record<string, (a: HandlerArgs) => unknown>)[methodName]!;
    const started = performance.now();
    const result = await method.call(this.executor, args);
    first.options.onProcessed?.(endpoint, (performance.now() - started) / 1000, docs.length);
    if (result instanceof DocumentArray || Array.isArray(result)) return [...(result as Document[])];
    if (result !== undefined && result !== null && typeof result === 'object') {
      const json = JSON.parse(JSON.stringify(result)) as JsonValue;
      for (const c of contexts) c.result = json;
    }
    return [...batch];
  }
}

/** Requests share a batch only when their parameters are equal: a key independent of key order. */
export function groupKey(parameters: JsonObject): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sorted(o[k])]),
    );
  };
  // `__results__` carries what upstream Executors returned: it differs per request by nature
  const { [RESULTS_KEY]: _results, ...own } = parameters;
  return JSON.stringify(sorted(own));
}
