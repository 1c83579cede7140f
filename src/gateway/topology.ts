import { Code, FlowgateError } from '../core/errors.js';
import { compileQuery, type DocumentPredicate } from '../document/query.js';
import type { JsonObject } from '../proto/struct.js';

/** One Executor node of the graph, as the Gateway sees it. */
export interface TopologyNode {
  name: string;
  /** Upstream nodes; `'gateway'` means straight from the client. */
  needs: string[];
  /** The response does not wait for a floating node. */
  floating?: boolean;
  /**
   * A document filter (docarray v1 query language, e.g. `{ tags__key: { $eq: 5 } }`) applied to the
   * parts arriving at this node: documents that fail it do not reach this Executor nor anything
   * downstream of it.
   */
  when?: JsonObject;
  /** Hand the Executor every part (docsMatrix) instead of reducing them. */
  noReduce?: boolean;
  /** No Executor behind this node: the Gateway merges its parts and passes them on (a bare join). */
  passThrough?: boolean;
}

/** The routing graph: nodes in a valid order, and the node that feeds the response. */
export interface Topology {
  nodes: TopologyNode[];
  /** The node whose result is the response; undefined for a Flow with no Executors (echo). */
  output: string | undefined;
  /**
   * Nodes the response does not wait for: floating ones and every other node that does not lead to
   * the output. They still run; the Gateway waits for them only when it closes.
   */
  background: Set<string>;
  /** The compiled `when` filter of each node that has one. */
  conditions: Map<string, DocumentPredicate>;
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
    if (new Set(n.needs).size !== n.needs.length)
      throw new FlowgateError(
        Code.InvalidArgument,
        `Executor '${n.name}' lists the same upstream twice in needs: ${n.needs.join(', ')}`,
      );
    for (const need of n.needs) {
      if (need === n.name)
        throw new FlowgateError(
          Code.InvalidArgument,
          `Executor '${n.name}' needs itself: the Flow has a cycle`,
        );
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
  const conditions = new Map<string, DocumentPredicate>();
  for (const n of nodes) {
    if (n.when === undefined) continue;
    try {
      conditions.set(n.name, compileQuery(n.when));
    } catch (err) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `the when condition of Executor '${n.name}' is invalid: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return { nodes: ordered, output: out, background: backgroundNodes(byName, out), conditions };
}

/** Every node that is not the output nor upstream of it. */
function backgroundNodes(byName: Map<string, TopologyNode>, output: string | undefined): Set<string> {
  const feeding = new Set<string>();
  const stack = output === undefined ? [] : [output];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (feeding.has(name) || name === GATEWAY_NODE) continue;
    feeding.add(name);
    stack.push(...byName.get(name)!.needs);
  }
  return new Set([...byName.keys()].filter((n) => !feeding.has(n)));
}
