import { Code, FlowgateError } from '../core/errors.js';
import { endpointTable, normaliseEndpoint, resolveEndpoint } from './requests.js';
import { isGeneratorFunction } from './streaming.js';

/** Options of {@link dynamicBatching}; the same keys configure an endpoint without code. */
export interface DynamicBatchingOptions {
  /** The most documents one call of the method gets; a batch runs as soon as it has this many. */
  preferredBatchSize: number;
  /** The longest the oldest queued request waits for the batch to fill, in ms. */
  timeout: number;
  /** Batches of this endpoint that may run at once (default 1: one at a time per replica). */
  maxConcurrentBatches?: number;
  /**
   * Documents queued (not yet running) at most for this endpoint, default
   * `4 * preferredBatchSize * maxConcurrentBatches`. A request arriving while the queue holds this
   * many waits, undecoded, until batches drain it (see docs/decisions.md, "Dynamic batching").
   */
  maxQueuedDocs?: number;
}

/** The resolved batching of one endpoint: every option given. */
export type ResolvedBatching = Required<DynamicBatchingOptions>;

/**
 * Batching configured without code, per endpoint (`flow.add({ usesDynamicBatching })`,
 * `uses_dynamic_batching` in Flow YAML, `dynamic_batching` in Executor YAML, the
 * `--uses-dynamic-batching` flag). Its keys override the decorator's, endpoint by endpoint.
 */
export type DynamicBatchingConfig = Record<string, Partial<DynamicBatchingOptions>>;

const decorated = new WeakMap<object, DynamicBatchingOptions>();

/**
 * Collects the requests of an endpoint into batches: the method runs once for up to
 * `preferredBatchSize` documents, gathered from requests with the same parameters, as soon as that
 * many are queued or the oldest has waited `timeout` ms. Each caller gets its own documents back, in
 * its order. Use it with `@requests`, in either order. Streaming endpoints (async generators) cannot
 * be batched.
 *
 * @example
 * ```ts
 * class Embedder extends Executor {
 *   @requests({ on: '/embed' })
 *   @dynamicBatching({ preferredBatchSize: 32, timeout: 10 })
 *   async embed({ docs }: HandlerArgs) {
 *     const vectors = await model.run(docs.texts);
 *     docs.forEach((d, i) => (d.embedding = vectors[i]));
 *   }
 * }
 * ```
 */
export function dynamicBatching(options: DynamicBatchingOptions) {
  const checked = checkOptions(options, '@dynamicBatching()');
  return function <T extends (...args: never[]) => unknown>(
    method: T,
    context: ClassMethodDecoratorContext,
  ): T {
    if (context.kind !== 'method' || context.static) {
      throw new TypeError('@dynamicBatching() decorates instance methods of an Executor');
    }
    decorated.set(method, checked);
    return method;
  };
}

const KEYS: Record<string, keyof DynamicBatchingOptions> = {
  preferredBatchSize: 'preferredBatchSize',
  preferred_batch_size: 'preferredBatchSize',
  timeout: 'timeout',
  maxConcurrentBatches: 'maxConcurrentBatches',
  max_concurrent_batches: 'maxConcurrentBatches',
  maxQueuedDocs: 'maxQueuedDocs',
  max_queued_docs: 'maxQueuedDocs',
};

function checkOptions(raw: unknown, where: string): Partial<DynamicBatchingOptions> & DynamicBatchingOptions {
  const out = parseEntry(raw, where);
  if (out.preferredBatchSize === undefined || out.timeout === undefined)
    throw new FlowgateError(Code.InvalidArgument, `${where}: needs preferredBatchSize and timeout (ms)`);
  return out as DynamicBatchingOptions;
}

function parseEntry(raw: unknown, where: string): Partial<DynamicBatchingOptions> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new FlowgateError(Code.InvalidArgument, `${where}: expected a map of batching options`);
  const out: Partial<DynamicBatchingOptions> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const key = KEYS[k];
    if (!key)
      throw new FlowgateError(
        Code.InvalidArgument,
        `${where}: unknown key '${k}' (known: preferredBatchSize, timeout, maxConcurrentBatches, maxQueuedDocs)`,
      );
    if (v === undefined) continue;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (key === 'timeout' ? v >= 0 : Number.isInteger(v) && v >= 1);
    if (!ok)
      throw new FlowgateError(
        Code.InvalidArgument,
        `${where}: ${k} must be ${key === 'timeout' ? 'a number of ms >= 0' : 'an integer >= 1'}, got ${JSON.stringify(v)}`,
      );
    out[key] = v;
  }
  return out;
}

/**
 * Validates batching configuration given without code: a map endpoint -> options (camelCase or
 * snake_case keys), or its JSON text (the CLI flag). Throws a precise error naming `where`.
 *
 * @example
 * ```ts
 * parseBatchingConfig('{"/embed":{"preferred_batch_size":32,"timeout":10}}', '--uses-dynamic-batching');
 * // { '/embed': { preferredBatchSize: 32, timeout: 10 } }
 * ```
 */
export function parseBatchingConfig(raw: unknown, where: string): DynamicBatchingConfig {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch (err) {
      throw new FlowgateError(Code.InvalidArgument, `${where}: not valid JSON: ${(err as Error).message}`);
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new FlowgateError(
      Code.InvalidArgument,
      `${where}: expected a map endpoint -> { preferredBatchSize, timeout }`,
    );
  const out: DynamicBatchingConfig = {};
  for (const [endpoint, entry] of Object.entries(value as Record<string, unknown>))
    out[normaliseEndpoint(endpoint)] = parseEntry(entry, `${where} ${endpoint}`);
  return out;
}

/**
 * Batching configured in two places, `over` winning endpoint by endpoint and key by key (e.g. an
 * Executor YAML's `dynamic_batching` under a Flow's `usesDynamicBatching`).
 */
export function mergeBatching(
  base: DynamicBatchingConfig | undefined,
  over: DynamicBatchingConfig | undefined,
): DynamicBatchingConfig | undefined {
  if (!base || !over) return over ?? base;
  const out = parseBatchingConfig(base, 'dynamic batching');
  for (const [endpoint, o] of Object.entries(parseBatchingConfig(over, 'dynamic batching')))
    out[endpoint] = { ...out[endpoint], ...o };
  return out;
}

/**
 * The batching of every endpoint of an Executor class that has one: the decorator of the method
 * serving it, with `config` overriding it key by key. Endpoints only named in `config` resolve to
 * the method that serves them (an exact binding, else the catch-all). Throws at start for a
 * configured endpoint no method serves, an incomplete configuration, or a streaming method.
 *
 * @example
 * ```ts
 * resolveBatchings(Embedder, { '/embed': { timeout: 50 } }).get('/embed');
 * // { preferredBatchSize: 32, timeout: 50, maxConcurrentBatches: 1, maxQueuedDocs: 128 }
 * ```
 */
export function resolveBatchings(
  cls: abstract new (...args: never[]) => unknown,
  given: DynamicBatchingConfig = {},
): Map<string, ResolvedBatching> {
  const config = parseBatchingConfig(given, 'dynamic batching');
  const table = endpointTable(cls);
  const proto = cls.prototype as Record<string, unknown>;
  const out = new Map<string, ResolvedBatching>();
  const add = (endpoint: string, methodName: string) => {
    const method = proto[methodName];
    const merged = { ...(decorated.get(method as object) ?? {}), ...(config[endpoint] ?? {}) };
    const where = `dynamic batching of ${cls.name}.${methodName} (${endpoint})`;
    if (isGeneratorFunction(method))
      throw new FlowgateError(
        Code.InvalidArgument,
        `${where}: ${methodName} is a streaming endpoint (a generator method): streaming endpoints cannot be batched; remove the batching or make it a plain method`,
      );
    const o = checkOptions(merged, where);
    const maxConcurrentBatches = o.maxConcurrentBatches ?? 1;
    out.set(endpoint, {
      preferredBatchSize: o.preferredBatchSize,
      timeout: o.timeout,
      maxConcurrentBatches,
      maxQueuedDocs: o.maxQueuedDocs ?? 4 * o.preferredBatchSize * maxConcurrentBatches,
    });
  };
  for (const [endpoint, methodName] of table) {
    if (decorated.has(proto[methodName] as object) || config[endpoint]) add(endpoint, methodName);
  }
  for (const endpoint of Object.keys(config)) {
    if (out.has(endpoint)) continue;
    const methodName = resolveEndpoint(table, endpoint);
    if (methodName === undefined)
      throw new FlowgateError(
        Code.InvalidArgument,
        `dynamic batching configures ${endpoint}, but ${cls.name} serves no such endpoint (it serves ${[...table.keys()].join(', ') || 'none'})`,
      );
    add(endpoint, methodName);
  }
  return out;
}
