import type { Logger } from '../core/logger.js';
import type { DataRequest } from '../proto/request.js';
import { StatusCode } from '../proto/request.js';
import type { jina } from '../proto/wire.js';
import { RequestTrace } from '../runtime/observability.js';
import type { RuntimeTracing } from '../runtime/tracing.js';
import type { ConnectionPool } from './connection-pool.js';
import { GATEWAY_NODE, type TopologyNode } from './topology.js';
import {
  cancelledError,
  collectResults,
  logFailure,
  nowTimestamp,
  setAnswerParameters,
  targetRegExp,
  type NodeCalls,
  type WalkOptions,
  type WalkResults,
} from './walk-shared.js';

/**
 * The walk of the common graph, a chain (see `isChain`: each node needs only the one before it, no
 * `when`, nothing floating): one loop, one promise for the request besides the calls themselves,
 * no per-node parts, maps or controllers. The request is forwarded as it came (its parameters and
 * documents still the bytes they arrived as); each Executor's response is the next one's request;
 * the last response, with the routes written over, is the answer. The semantics are the graph
 * walker's: a node that does not bind the endpoint or that `targetExecutor` leaves out is skipped,
 * an error status stops the calls and is the answer, the caller's signal cancels the call in flight.
 *
 * @example
 * ```ts
 * const chain = new ChainWalker(topology.nodes, pool, new NodeCalls(pool), logger);
 * const response = await chain.process(request, { signal });
 * ```
 */
export class ChainWalker {
  constructor(
    private readonly nodes: readonly TopologyNode[],
    private readonly pool: ConnectionPool,
    private readonly calls: NodeCalls,
    private readonly logger: Logger,
    private readonly tracing?: RuntimeTracing,
  ) {}

  /** Routes one request and resolves to the response (Executor errors are inside its status). */
  async process(request: DataRequest, options: WalkOptions = {}): Promise<DataRequest> {
    const gatewayRoute: jina.IRouteProto = { executor: GATEWAY_NODE, startTime: nowTimestamp() };
    const endpoint = request.endpoint;
    const pattern = request.targetExecutor;
    const target = pattern ? targetRegExp(pattern) : undefined;
    const signal = options.signal;
    const trace = this.tracing
      ? new RequestTrace(this.tracing, `gateway ${endpoint}`, options.headers, {
          'flowgate.endpoint': endpoint,
          'flowgate.request_id': request.requestId,
        })
      : undefined;
    const routes: jina.IRouteProto[] = [gatewayRoute];
    let results: WalkResults;
    // Executors never see the pattern: the Gateway has applied it. (A copy of the header only;
    // undefined rather than `delete`, which would slow every later access to the header.) Without
    // one the request goes as it is: the calls never change what they are given.
    let current = request;
    if (request.header.targetExecutor != null) {
      current = request.withRequestId(request.requestId);
      current.header.targetExecutor = undefined;
    }
    const callOptions = { signal, headers: options.headers };
    try {
      if (signal?.aborted) throw cancelledError();
      for (const node of this.nodes) {
        // An error status is the answer: the nodes after it are not called.
        if (current.isError) break;
        if (signal?.aborted) throw cancelledError();
        const call = this.calls.now(node, endpoint, target) ?? (await this.calls.ask(node, endpoint));
        if (!call) continue;
        if (signal?.aborted) throw cancelledError();
        const route: jina.IRouteProto = { executor: node.name, startTime: nowTimestamp() };
        routes.push(route);
        const traced = trace?.call(node.name, endpoint, options.headers);
        let response: DataRequest;
        try {
          response = await this.pool.send(
            node.name,
            current,
            traced ? { signal, headers: traced.headers } : callOptions,
          );
        } catch (err) {
          traced?.end(err);
          throw err;
        } finally {
          route.endTime = nowTimestamp();
        }
        traced?.end(response.isError ? (response.status?.description ?? 'error') : undefined);
        route.status = response.header.status ?? { code: StatusCode.SUCCESS };
        results = collectResults(response, results);
        current = response;
      }
    } catch (err) {
      const failure = signal?.aborted ? cancelledError() : err;
      logFailure(this.logger, request, gatewayRoute, failure);
      trace?.end(failure);
      throw failure;
    }
    gatewayRoute.endTime = nowTimestamp();
    if (current.isError) logFailure(this.logger, request, gatewayRoute, current.status);
    trace?.end(current.isError ? (current.status?.description ?? 'error') : undefined);
    // The answer is the last Executor's response, this walk's own; or, when no Executor was
    // called, a copy of the request (the caller's object is left as it was).
    if (current === request) current = request.withRequestId(request.requestId);
    current.routes = routes;
    setAnswerParameters(current, request, results);
    return current;
  }
}
