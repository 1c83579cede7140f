import { Code, FlowgateError } from '../core/errors.js';
import type { JsonObject } from '../proto/struct.js';
import { GATEWAY_NODE, type TopologyNode } from './topology.js';

/**
 * The original's way of handing a Gateway its graph on the command line
 * (`--graph-description`, `--graph-conditions`, `--deployments-addresses`,
 * `--deployments-no-reduce`), converted to and from flowgate's {@link TopologyNode}s. A standalone
 * Gateway (`flowgate gateway`, a Gateway in a container) is configured this way.
 */

/** `{"start-gateway": ["a"], "a": ["b"], "b": ["end-gateway"]}`: each node and where it sends. */
export type GraphDescription = Record<string, string[]>;

export const START_GATEWAY = 'start-gateway';
export const END_GATEWAY = 'end-gateway';

/** What the original's Gateway flags describe. */
export interface GraphFlags {
  graphDescription: GraphDescription;
  /** Node -> its `when` filter. */
  graphConditions?: Record<string, JsonObject>;
  /** Node -> replica addresses (`host:port`, `grpc://host:port`), or its head's. */
  deploymentsAddresses?: Record<string, string[]>;
  /** Nodes that get every part (docsMatrix) instead of a reduced request. */
  deploymentsNoReduce?: string[];
}

/** Per-Executor call options, as `calls` of `ConnectionPoolOptions`. */
export type DeploymentCallOptions = { timeoutSendMs?: number; retries?: number };

/**
 * Each Executor's own `timeoutSend` / `retries` as `flowgate gateway` flags:
 * `--deployments-timeout-send '{"a":500}' --deployments-retries '{"a":2}'`.
 */
export function callFlags(calls: Record<string, DeploymentCallOptions> | undefined): string[] {
  const pick = (k: keyof DeploymentCallOptions) =>
    Object.fromEntries(
      Object.entries(calls ?? {})
        .filter(([, c]) => c[k] !== undefined)
        .map(([n, c]) => [n, c[k]]),
    );
  const out: string[] = [];
  const timeouts = pick('timeoutSendMs');
  const retries = pick('retries');
  if (Object.keys(timeouts).length > 0) out.push('--deployments-timeout-send', JSON.stringify(timeouts));
  if (Object.keys(retries).length > 0) out.push('--deployments-retries', JSON.stringify(retries));
  return out;
}

/** The inverse of {@link callFlags}. */
export function callsFromFlags(
  timeouts: Record<string, number> | undefined,
  retries: Record<string, number> | undefined,
): Record<string, DeploymentCallOptions> {
  const out: Record<string, DeploymentCallOptions> = {};
  for (const [n, v] of Object.entries(timeouts ?? {})) out[n] = { ...out[n], timeoutSendMs: v };
  for (const [n, v] of Object.entries(retries ?? {})) out[n] = { ...out[n], retries: v };
  return out;
}

/** The Gateway's graph: nodes, the output node, and each deployment's addresses. */
export interface GatewayGraph {
  nodes: TopologyNode[];
  output: string | undefined;
  addresses: Record<string, string[]>;
}

/**
 * Converts the original's graph flags to topology nodes. A node without addresses is a merge done
 * by the Gateway itself (a join without an Executor); the node sending to `end-gateway` feeds the
 * response (the last one listed when several do).
 *
 * @example
 * ```ts
 * graphFromFlags({ graphDescription: { 'start-gateway': ['a'], a: ['end-gateway'] },
 *   deploymentsAddresses: { a: ['grpc://10.0.0.5:8080'] } });
 * // { nodes: [{ name: 'a', needs: ['gateway'] }], output: 'a', addresses: { a: ['10.0.0.5:8080'] } }
 * ```
 */
export function graphFromFlags(flags: GraphFlags): GatewayGraph {
  const graph = flags.graphDescription;
  if (typeof graph !== 'object' || graph === null || Array.isArray(graph))
    throw new FlowgateError(Code.InvalidArgument, 'the graph description must be a JSON object');
  const needs = new Map<string, string[]>();
  const ends: string[] = [];
  const node = (name: string) => {
    if (!needs.has(name)) needs.set(name, []);
    return needs.get(name)!;
  };
  for (const [from, targets] of Object.entries(graph)) {
    if (!Array.isArray(targets))
      throw new FlowgateError(
        Code.InvalidArgument,
        `graph description: '${from}' must map to a list of node names`,
      );
    if (from !== START_GATEWAY) node(from);
    for (const to of targets) {
      if (to === END_GATEWAY) {
        if (from !== START_GATEWAY) ends.push(from);
        continue;
      }
      node(to).push(from === START_GATEWAY ? GATEWAY_NODE : from);
    }
  }
  const addresses: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(flags.deploymentsAddresses ?? {})) {
    if (!needs.has(name))
      throw new FlowgateError(
        Code.InvalidArgument,
        `deployments addresses name '${name}', which is not in the graph description`,
      );
    addresses[name] = [list].flat().map(stripScheme);
  }
  const noReduce = new Set(flags.deploymentsNoReduce ?? []);
  const nodes = [...needs.entries()].map(([name, n]): TopologyNode => {
    const out: TopologyNode = { name, needs: n };
    const when = flags.graphConditions?.[name];
    if (when) out.when = when;
    if (noReduce.has(name)) out.noReduce = true;
    if (!addresses[name]?.length) out.passThrough = true;
    return out;
  });
  return { nodes, output: ends.at(-1), addresses };
}

/**
 * The original's graph flags for topology nodes (the inverse of {@link graphFromFlags}).
 *
 * @example
 * ```ts
 * graphDescriptionOf([{ name: 'a', needs: ['gateway'] }]);
 * // { 'start-gateway': ['a'], a: ['end-gateway'] }
 * ```
 */
export function graphDescriptionOf(nodes: TopologyNode[], output?: string): GraphDescription {
  const out = output ?? [...nodes].reverse().find((n) => !n.floating)?.name;
  const graph: GraphDescription = { [START_GATEWAY]: [] };
  for (const n of nodes) graph[n.name] = [];
  for (const n of nodes)
    for (const need of n.needs) graph[need === GATEWAY_NODE ? START_GATEWAY : need]!.push(n.name);
  if (out !== undefined) graph[out]!.push(END_GATEWAY);
  return graph;
}

/** `grpc://host:port` -> `host:port` (flowgate's replica addresses carry no scheme). */
function stripScheme(address: string): string {
  return address.replace(/^grpcs?:\/\//i, '');
}
