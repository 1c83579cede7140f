/**
 * What the graph walker and the chain walker share: timestamps, the `targetExecutor` pattern, the
 * endpoints each deployment binds (learnt once), and the one log line per failed request.
 */
import type { AbortLike } from '../core/abort-like.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { Headers } from '../core/headers.js';
import type { Logger } from '../core/logger.js';
import { RESULTS_KEY } from '../executor/handler.js';
import { DEFAULT_ENDPOINT, DRY_RUN_ENDPOINT } from '../executor/requests.js';
import type { DataRequest } from '../proto/request.js';
import { isJsonObject, type JsonObject } from '../proto/struct.js';
import type { jina } from '../proto/wire.js';
import type { ConnectionPool } from './connection-pool.js';
import type { TopologyNode } from './topology.js';

/** Options of `GraphWalker.process` (and of the chain walk it delegates to). */
export interface WalkOptions {
  /** Headers sent with every Executor call of this request. */
  headers?: Headers;
  /**
   * Aborting cancels the request: Executors not yet called are never called, calls in flight are
   * dropped, and `process` rejects with Cancelled. Background (floating) nodes are not cancelled.
   */
  signal?: AbortLike;
}

/** A `google.protobuf.Timestamp` for now. */
export function nowTimestamp(): { seconds: number; nanos: number } {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** The anchored regular expression of a `targetExecutor`; a broken one is the caller's error. */
export function targetRegExp(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})`);
  } catch (err) {
    throw new FlowgateError(
      Code.InvalidArgument,
      `targetExecutor '${pattern}' is not a valid regular expression: ${(err as Error).message}`,
    );
  }
}

/** The error a walk ends with when its caller gives up. */
export function cancelledError(): FlowgateError {
  return new FlowgateError(
    Code.Cancelled,
    'the request was cancelled: its client went away or its deadline passed',
  );
}

/** True when an Executor binding `bound` serves `endpoint`. */
function binds(bound: Set<string>, endpoint: string): boolean {
  return (
    bound.has(endpoint) ||
    bound.has(DEFAULT_ENDPOINT) ||
    bound.has(endpoint.startsWith('/') ? endpoint : `/${endpoint}`)
  );
}

/**
 * Which nodes to call for a request: not a pass-through node, not one the `targetExecutor` pattern
 * leaves out, and only a deployment that binds the endpoint (asked once per deployment, then known
 * without waiting).
 *
 * @example
 * ```ts
 * const calls = new NodeCalls(pool);
 * const call = calls.now(node, endpoint, target) ?? (await calls.ask(node, endpoint));
 * ```
 */
export class NodeCalls {
  /** Each deployment's endpoints once learnt (the pool asks once and keeps them too). */
  private readonly bound = new Map<string, Set<string>>();

  constructor(private readonly pool: ConnectionPool) {}

  /** Whether to call `node`'s Executor, when that is known without asking it; else undefined. */
  now(node: TopologyNode, endpoint: string, target: RegExp | undefined): boolean | undefined {
    if (node.passThrough) return false;
    if (target && !target.test(node.name)) return false;
    if (endpoint === DRY_RUN_ENDPOINT) return true;
    const bound = this.bound.get(node.name);
    return bound === undefined ? undefined : binds(bound, endpoint);
  }

  /** Asks the deployment which endpoints it binds (once) and answers {@link now}'s question. */
  async ask(node: TopologyNode, endpoint: string): Promise<boolean> {
    const bound = await this.pool.endpoints(node.name);
    this.bound.set(node.name, bound);
    return binds(bound, endpoint);
  }
}

/**
 * One log line per failed request: its id, endpoint, the Executor that failed, how long it took
 * and why (an Executor's error status, or a network error). Cancellations only at debug level.
 */
export function logFailure(
  logger: Logger,
  request: DataRequest,
  route: jina.IRouteProto,
  failure: unknown,
): void {
  const start = route.startTime;
  const startMs = start ? Number(start.seconds ?? 0) * 1000 + (start.nanos ?? 0) / 1e6 : Date.now();
  const fields: Record<string, unknown> = {
    requestId: request.requestId,
    endpoint: request.endpoint,
    durationMs: Math.round((Date.now() - startMs) * 10) / 10,
  };
  if (failure instanceof FlowgateError) {
    if (failure.details.executor !== undefined) fields.executor = failure.details.executor;
    fields.code = failure.code;
    fields.error = failure.message;
    if (failure.code === Code.Cancelled) return logger.debug('request cancelled', fields);
  } else if (failure instanceof Error) {
    fields.error = failure.message;
  } else {
    const status = failure as jina.IStatusProto | undefined;
    fields.executor = status?.exception?.executor ?? undefined;
    fields.error = status?.description ?? 'error';
  }
  logger.error('request failed', fields);
}

/** The `__results__` entries the Executors returned, by Executor; undefined until the first. */
export type WalkResults = Record<string, JsonObject> | undefined;

/** `results` with the `__results__` entries of `response` added (created on the first one). */
export function collectResults(response: DataRequest, results: WalkResults): WalkResults {
  const r = response.parameter(RESULTS_KEY);
  if (isJsonObject(r)) for (const [k, v] of Object.entries(r)) if (isJsonObject(v)) (results ??= {})[k] = v;
  return results;
}

/**
 * Gives `answer` the request's parameters: still encoded unless someone read them (nothing to
 * decode) when no Executor returned `__results__`, else with `results` merged into the request's
 * own `__results__`.
 */
export function setAnswerParameters(answer: DataRequest, request: DataRequest, results: WalkResults): void {
  if (results === undefined) {
    answer.copyParameters(request);
    return;
  }
  const params: JsonObject = { ...request.parameters };
  const prior = params[RESULTS_KEY];
  params[RESULTS_KEY] = { ...(isJsonObject(prior) ? prior : {}), ...results };
  answer.parameters = params;
}
