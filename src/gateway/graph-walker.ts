import type { Headers } from '../core/headers.js';
import { LightAbort, type AbortLike } from '../core/abort-like.js';
import { Code, FlowgateError } from '../core/errors.js';
import { consoleLogger, type Logger } from '../core/logger.js';
import { DocumentArray, decodeDocs, encodeDocs } from '../document/index.js';
import type { DocumentPredicate } from '../document/query.js';
import type { DataRequest } from '../proto/request.js';
import { StatusCode } from '../proto/request.js';
import type { jina } from '../proto/wire.js';
import { RequestTrace } from '../runtime/observability.js';
import { reduceRequests } from '../runtime/reduce.js';
import type { RuntimeTracing } from '../runtime/tracing.js';
import type { ConnectionPool } from './connection-pool.js';
import { ChainWalker } from './chain-walker.js';
import { GATEWAY_NODE, type Topology, type TopologyNode } from './topology.js';
import {
  cancelledError,
  collectResults,
  logFailure,
  NodeCalls,
  nowTimestamp,
  setAnswerParameters,
  targetRegExp,
  type WalkOptions,
  type WalkResults,
} from './walk-shared.js';

export { nowTimestamp, targetRegExp } from './walk-shared.js';

export type { WalkOptions } from './walk-shared.js';

/** What one request's walk shares between its nodes. */
interface Walk {
  target: RegExp | undefined;
  endpoint: string;
  routes: Map<string, jina.IRouteProto>;
  results: WalkResults;
  headers: Headers | undefined;
  /** With tracing: the request's span; each Executor call gets a child span and its `traceparent`. */
  trace: RequestTrace | undefined;
}

/** The output of a node, tagged with the node's name (for `docsMap` downstream). */
interface Part {
  from: string;
  request: DataRequest;
}

/**
 * Walks one request through the graph: each node waits for all of its upstream parts, filters them
 * by its `when` condition, reduces them by document id (or hands them over as they are with
 * `noReduce`), and calls its Executor unless it must be skipped (endpoint not bound,
 * `targetExecutor` not matching, an upstream error). The response waits only for the output node
 * and what feeds it; the other nodes run in the background and `drain()` waits for them.
 */
export class GraphWalker {
  private readonly background = new Set<Promise<unknown>>();
  /** Which nodes to call (the endpoints each deployment binds, learnt once). */
  private readonly calls: NodeCalls;
  /** The graph is one chain (the common case): walked by {@link ChainWalker}, see {@link isChain}. */
  private readonly chain: ChainWalker | undefined;
  /** The nodes the response waits for, in graph order. */
  private readonly foreground: TopologyNode[];

  constructor(
    private readonly topology: Topology,
    private readonly pool: ConnectionPool,
    private readonly logger: Logger = consoleLogger('gateway'),
    private readonly tracing?: RuntimeTracing,
  ) {
    this.calls = new NodeCalls(pool);
    this.chain = isChain(topology)
      ? new ChainWalker(topology.nodes, pool, this.calls, logger, tracing)
      : undefined;
    this.foreground = topology.nodes.filter((n) => !topology.background.has(n.name));
  }

  /** True when requests take the chain walk (see {@link isChain}); false: the general graph walk. */
  get walksChain(): boolean {
    return this.chain !== undefined;
  }

  /** Routes one request and resolves to the response (Executor errors are inside its status). */
  process(request: DataRequest, options: WalkOptions = {}): Promise<DataRequest> {
    if (this.chain) return this.chain.process(request, options);
    return this.processGraph(request, options);
  }

  private async processGraph(request: DataRequest, options: WalkOptions): Promise<DataRequest> {
    const gatewayRoute: jina.IRouteProto = { executor: GATEWAY_NODE, startTime: nowTimestamp() };
    const pattern = request.targetExecutor;
    const walk: Walk = {
      target: pattern ? targetRegExp(pattern) : undefined,
      endpoint: request.endpoint,
      routes: new Map(),
      results: undefined,
      headers: options.headers,
      trace: this.tracing
        ? new RequestTrace(this.tracing, `gateway ${request.endpoint}`, options.headers, {
            'flowgate.endpoint': request.endpoint,
            'flowgate.request_id': request.requestId,
          })
        : undefined,
    };
    // Cancel the rest of the walk when it fails or the caller gives up.
    const abort = LightAbort.follow(options.signal);
    const originalIds = this.topology.conditions.size > 0 ? decodeDocs(request.docsBytes).ids : undefined;
    // Executors never see the pattern: the Gateway has applied it. (A copy of the header only;
    // undefined rather than `delete`, which would slow every later access to the header.)
    const outgoing = request.withRequestId(request.requestId);
    if (outgoing.header.targetExecutor != null) outgoing.header.targetExecutor = undefined;

    let response: DataRequest;
    try {
      if (options.signal?.aborted) throw cancelledError();
      response = await this.walkGraph(outgoing, walk, abort.light);
    } catch (err) {
      abort.light.abort();
      const failure = options.signal?.aborted ? cancelledError() : err;
      logFailure(this.logger, request, gatewayRoute, failure);
      walk.trace?.end(failure);
      throw failure;
    } finally {
      abort.detach();
    }
    if (originalIds) response = inOriginalOrder(response, originalIds);
    gatewayRoute.endTime = nowTimestamp();
    if (response.isError) logFailure(this.logger, request, gatewayRoute, response.status);
    walk.trace?.end(response.isError ? (response.status?.description ?? 'error') : undefined);
    // Routes in graph order; background nodes are not part of this response.
    const routes = [gatewayRoute];
    for (const n of this.foreground) {
      const r = walk.routes.get(n.name);
      if (r !== undefined) routes.push(r);
    }
    response.routes = routes;
    setAnswerParameters(response, request, walk.results);
    return response;
  }

  /** Any graph: each node starts once all its upstream parts are there; the output's part answers. */
  private async walkGraph(outgoing: DataRequest, walk: Walk, signal: AbortLike): Promise<DataRequest> {
    const done = new Map<string, Promise<Part>>();
    const origin: Promise<Part> = Promise.resolve({ from: GATEWAY_NODE, request: outgoing });
    for (const node of this.topology.nodes) {
      const inBackground = this.topology.background.has(node.name);
      const upstream = node.needs.map((n) => (n === GATEWAY_NODE ? origin : done.get(n)!));
      const p = Promise.all(upstream).then((parts) =>
        this.runNode(node, parts, walk, inBackground ? undefined : signal),
      );
      done.set(node.name, p);
      if (inBackground) this.track(p, node.name);
    }
    const output = this.topology.output;
    const result = output === undefined ? outgoing : (await done.get(output)!).request;
    // A copy to fill in: the same object may still be on its way to a background node.
    return result.withRequestId(result.requestId);
  }

  private track(p: Promise<unknown>, name: string): void {
    const tracked = p
      .catch((err: unknown) => {
        if (err instanceof FlowgateError && err.code === Code.Cancelled) return;
        this.logger.warn(`background Executor ${name} failed: ${(err as Error).message}`);
      })
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** Waits for all background (floating) work. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private async runNode(
    node: TopologyNode,
    parts: Part[],
    walk: Walk,
    signal: AbortLike | undefined,
  ): Promise<Part> {
    for (const p of parts) if (p.request.isError) return { from: node.name, request: p.request };
    if (signal?.aborted) throw cancelledError();
    const condition = this.topology.conditions.get(node.name);
    const filtered = condition
      ? parts.map((p) => ({ ...p, request: filterDocs(p.request, condition) }))
      : parts;
    const sendParts = filtered.length > 1 && node.noReduce === true;
    // The endpoints are known after the first request: no promise to wait for then.
    const call =
      this.calls.now(node, walk.endpoint, walk.target) ?? (await this.calls.ask(node, walk.endpoint));
    // A skipped node passes its input on (reduced, so that no part is lost).
    if (!call) return { from: node.name, request: merged(filtered) };
    if (signal?.aborted) throw cancelledError();
    const route: jina.IRouteProto = { executor: node.name, startTime: nowTimestamp() };
    walk.routes.set(node.name, route);
    const traced = walk.trace?.call(node.name, walk.endpoint, walk.headers);
    const callOptions = { signal, headers: traced ? traced.headers : walk.headers };
    try {
      const response = sendParts
        ? await this.pool.sendParts(node.name, filtered.map(labelled), callOptions)
        : await this.pool.send(node.name, merged(filtered), callOptions);
      traced?.end(response.isError ? (response.status?.description ?? 'error') : undefined);
      route.status = response.header.status ?? { code: StatusCode.SUCCESS };
      walk.results = collectResults(response, walk.results);
      return { from: node.name, request: response };
    } catch (err) {
      traced?.end(err);
      throw err;
    } finally {
      route.endTime = nowTimestamp();
    }
  }
}

/** The parts of a node's input as one request (reduced when there are several). */
function merged(parts: Part[]): DataRequest {
  return parts.length === 1 ? parts[0]!.request : reduceRequests(parts.map((p) => p.request));
}

/**
 * True when every node needs only the one before it (the first: the Gateway), the last is the
 * output, and no node filters or runs in the background: the request then goes through the nodes
 * one after the other, and one loop walks it without a promise per node or an AbortController.
 */
export function isChain(topology: Topology): boolean {
  if (topology.background.size > 0 || topology.conditions.size > 0) return false;
  let previous = GATEWAY_NODE;
  for (const n of topology.nodes) {
    if (n.needs.length !== 1 || n.needs[0] !== previous) return false;
    previous = n.name;
  }
  return topology.output === topology.nodes.at(-1)?.name;
}

/** A copy of a part whose last route names the upstream node, so the Executor can build `docsMap`. */
function labelled(part: Part): DataRequest {
  const c = part.request.clone();
  c.routes = [{ executor: part.from }];
  return c;
}

/** A copy of `request` holding only the documents that pass `condition`. */
function filterDocs(request: DataRequest, condition: DocumentPredicate): DataRequest {
  const docs = decodeDocs(request.docsBytes);
  const kept = new DocumentArray(docs.filter((d) => condition(d)));
  if (kept.length === docs.length) return request;
  const c = request.clone();
  c.docsBytes = encodeDocs(kept);
  c.docsInBytesField = false;
  return c;
}

/** The response's documents sorted into the request's order; unknown documents go last. */
function inOriginalOrder(response: DataRequest, ids: string[]): DataRequest {
  const position = new Map(ids.map((id, i) => [id, i]));
  const docs = decodeDocs(response.docsBytes);
  const rank = (id: string) => position.get(id) ?? ids.length;
  const sorted = new DocumentArray(
    docs
      .map((d, i) => ({ d, i }))
      .sort((a, b) => rank(a.d.id) - rank(b.d.id) || a.i - b.i)
      .map((x) => x.d),
  );
  if (sorted.every((d, i) => d === docs[i])) return response;
  response.docsBytes = encodeDocs(sorted);
  response.docsInBytesField = false;
  return response;
}
