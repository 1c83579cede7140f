import { Code, FlowgateError } from '../core/errors.js';
import type { JsonObject } from '../proto/struct.js';

/** One Executor node of the graph, as the Gateway sees it. */
export interface TopologyNode {
  name: string;
  /** Upstream nodes; `'gateway'` means straight from the client. */
  needs: string[];
  /** The response does not wait for a floating node. */
  floating?: boolean;
  /** A document filter applied before this node. */
  when?: JsonObject;
  /** Hand the Executor every part (docsMatrix) instead of reducing them. */
  noReduce?: boolean;
}

/** The routing graph: nodes in a valid order, and the node that feeds the response. */
export interface Topology {
  nodes: TopologyNode[];
  /** The node whose result is the response; undefined for a Flow with no Executors (echo). */
  output: string | undefined;
}

export const GATEWAY_NODE = 'gateway';

/**
 * Checks a graph and returns its nodes in topological order. Rejects, naming the problem: an
 * unknown name in `needs`, a duplicate name, a cycle.
 *
 * @example
 * ```ts
 * buildTopology([{ name: 'a', needs: ['gateway'] }, { name: 'b', needs: ['a'] }]);
 * // { nodes: [a, b], output: 'b' }
 * ```
 */
export function buildTopology(nodes: TopologyNode[], output?: string): Topology {
  const byName = new Map<string, TopologyNode>();
  for (const n of nodes) {
    if (n.name === GATEWAY_NODE)
      throw new FlowgateError(
        Code.InvalidArgument,
        `'${GATEWAY_NODE}' is reserved and cannot name an Executor`,
      );
    if (byName.has(n.name))
      throw new FlowgateError(
        Code.InvalidArgument,
        `two Executors are named '${n.name}': names must be unique`,
      );
    byName.set(n.name, n);
  }
  for (const n of nodes) {
    if (n.needs.length === 0)
      throw new FlowgateError(
        Code.InvalidArgument,
        `Executor '${n.name}' needs nothing: give it needs: 'gateway' or an upstream name`,
      );
    for (const need of n.needs) {
      if (need !== GATEWAY_NODE && !byName.has(need)) {
        throw new FlowgateError(
          Code.InvalidArgument,
          `Executor '${n.name}' needs '${need}', which is not in the Flow`,
        );
      }
    }
  }
  const ordered: TopologyNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: TopologyNode, path: string[]) => {
    const s = state.get(n.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new FlowgateError(
        Code.InvalidArgument,
        `the Flow has a cycle: ${[...path, n.name].join(' -> ')}`,
      );
    }
    state.set(n.name, 'visiting');
    for (const need of n.needs) if (need !== GATEWAY_NODE) visit(byName.get(need)!, [...path, n.name]);
    state.set(n.name, 'done');
    ordered.push(n);
  };
  for (const n of nodes) visit(n, []);
  const out = output ?? [...nodes].reverse().find((n) => !n.floating)?.name;
  if (out !== undefined && !byName.has(out))
    throw new FlowgateError(Code.InvalidArgument, `output node '${out}' is not in the Flow`);
  return { nodes: ordered, output: out };
}
