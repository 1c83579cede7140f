import * as grpc from '@grpc/grpc-js';
import { DocumentArray, decodeDocs, encodeDocs, type Document } from '../document/index.js';
import { RESULTS_KEY } from '../executor/handler.js';
import { DRY_RUN_ENDPOINT, DEFAULT_ENDPOINT } from '../executor/requests.js';
import type { DataRequest } from '../proto/request.js';
import { StatusCode } from '../proto/request.js';
import { isJsonObject, type JsonObject } from '../proto/struct.js';
import type { jina } from '../proto/wire.js';
import type { ConnectionPool } from './connection-pool.js';
import { GATEWAY_NODE, type Topology, type TopologyNode } from './topology.js';

/** A `google.protobuf.Timestamp` for now. */
export function nowTimestamp(): { seconds: number; nanos: number } {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

interface NodeResult {
  request: DataRequest;
}

/**
 * Walks one request through the graph: each node waits for all of its upstream parts, merges them,
 * and calls its Executor unless it must be skipped (endpoint not bound, `targetExecutor` not
 * matching, an upstream error). Floating nodes run in the background and are tracked so that
 * `drain()` can wait for them.
 */
export class GraphWalker {
  private readonly floating = new Set<Promise<unknown>>();

  constructor(
    private readonly topology: Topology,
    private readonly pool: ConnectionPool,
  ) {}

  /** Routes one request and resolves to the response (Executor errors are inside its status). */
  async process(request: DataRequest, metadata?: grpc.Metadata): Promise<DataRequest> {
    const gatewayRoute: jina.IRouteProto = { executor: GATEWAY_NODE, startTime: nowTimestamp() };
    const inputParameters = request.parameters;
    const routes: jina.IRouteProto[] = [];
    const results: Record<string, JsonObject> = {};
    const outMd = new grpc.Metadata();
    outMd.set('endpoint', request.endpoint);
    if (metadata) outMd.merge(metadata);

    const done = new Map<string, Promise<NodeResult>>();
    const origin: Promise<NodeResult> = Promise.resolve({ request });
    for (const node of this.topology.nodes) {
      const upstream = node.needs.map((n) => (n === GATEWAY_NODE ? origin : done.get(n)!));
      const p = Promise.all(upstream).then((parts) => this.runNode(node, parts, routes, results, outMd));
      done.set(node.name, p);
    }
    const outputName = this.topology.output;
    // Background work: nodes that do not lead to the output.
    for (const node of this.topology.nodes) {
      if (node.floating) this.track(done.get(node.name)!);
    }
    let response: DataRequest;
    if (outputName === undefined) response = request;
    else {
      // Await every non-floating node so that a failing side branch does not go unnoticed.
      const mustFinish = this.topology.nodes.filter((n) => !n.floating).map((n) => done.get(n.name)!);
      await Promise.all(mustFinish);
      response = (await done.get(outputName)!).request;
    }
    gatewayRoute.endTime = nowTimestamp();
    response.routes = [gatewayRoute, ...routes];
    const params: JsonObject = { ...inputParameters };
    if (Object.keys(results).length > 0) {
      const prior = params[RESULTS_KEY];
      params[RESULTS_KEY] = { ...(isJsonObject(prior) ? prior : {}), ...results };
    }
    response.parameters = params;
    return response;
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.floating.delete(tracked));
    this.floating.add(tracked);
  }

  /** Waits for all floating work. */
  async drain(): Promise<void> {
    while (this.floating.size > 0) await Promise.all([...this.floating]);
  }

  private async runNode(
    node: TopologyNode,
    parts: NodeResult[],
    routes: jina.IRouteProto[],
    results: Record<string, JsonObject>,
    md: grpc.Metadata,
  ): Promise<NodeResult> {
    const failed = parts.find((p) => p.request.isError);
    if (failed) return failed;
    const merged =
      parts.length === 1 || node.noReduce ? parts[0]!.request : reduceParts(parts.map((p) => p.request));
    const req = merged;
    const endpoint = req.endpoint;
    if (!(await this.shouldCall(node, req, endpoint))) return { request: req };
    const route: jina.IRouteProto = { executor: node.name, startTime: nowTimestamp() };
    routes.push(route);
    try {
      const response = await this.pool.send(node.name, req, md);
      route.endTime = nowTimestamp();
      route.status = response.header.status ?? { code: StatusCode.SUCCESS };
      const r = response.parameters[RESULTS_KEY];
      if (isJsonObject(r)) for (const [k, v] of Object.entries(r)) if (isJsonObject(v)) results[k] = v;
      return { request: response };
    } catch (err) {
      route.endTime = nowTimestamp();
      throw err;
    }
  }

  private async shouldCall(node: TopologyNode, req: DataRequest, endpoint: string): Promise<boolean> {
    const target = req.targetExecutor;
    if (target && !new RegExp(`^(?:${target})`).test(node.name)) return false;
    if (endpoint === DRY_RUN_ENDPOINT) return true;
    const bound = await this.pool.endpoints(node.name);
    return (
      bound.has(endpoint) ||
      bound.has(DEFAULT_ENDPOINT) ||
      bound.has(endpoint.startsWith('/') ? endpoint : `/${endpoint}`)
    );
  }
}

/** Reduces the parts of a join into one request: docs merged by id, the left-most part winning. */
export function reduceParts(parts: DataRequest[]): DataRequest {
  const base = parts.find((p) => !p.isError) ?? parts[0]!;
  const out = base.clone();
  const merged = new DocumentArray();
  const index = new Map<string, Document>();
  for (const p of parts) {
    for (const d of decodeDocs(p.docsBytes)) {
      const existing = index.get(d.id);
      if (existing) mergeInto(existing, d);
      else {
        index.set(d.id, d);
        merged.push(d);
      }
    }
  }
  const params: JsonObject = {};
  for (const p of parts) Object.assign(params, p.parameters);
  out.parameters = params;
  out.docsBytes = encodeDocs(merged);
  out.docsInBytesField = false;
  return out;
}

/** Fills what `left` lacks from `right`; chunks and matches merge recursively by id. */
function mergeInto(left: Document, right: Document): void {
  const l = left as unknown as Record<string, unknown>;
  const r = right as unknown as Record<string, unknown>;
  if (left.contentType === undefined && right.contentType !== undefined) {
    l[right.contentType] = r[right.contentType];
  }
  for (const key of ['embedding', 'uri', 'mimeType', 'parentId', 'weight', 'modality', 'offset']) {
    if (l[key] === undefined && r[key] !== undefined) l[key] = r[key];
  }
  left.tags = { ...right.tags, ...left.tags };
  left.scores = { ...right.scores, ...left.scores };
  left.evaluations = { ...right.evaluations, ...left.evaluations };
  for (const field of ['chunks', 'matches'] as const) {
    const idx = new Map(left[field].map((d) => [d.id, d]));
    for (const d of right[field]) {
      const e = idx.get(d.id);
      if (e) mergeInto(e, d);
      else left[field].push(d);
    }
  }
}
