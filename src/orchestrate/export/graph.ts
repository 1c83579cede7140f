import type { FlowSpec } from '../../config/schemas.js';
import { GATEWAY_NODE, buildTopology, type Topology, type TopologyNode } from '../../gateway/topology.js';

/**
 * The Flow's graph as the Gateway routes it: each Executor with its `needs` resolved (by default
 * the last non-floating Executor before it, or the Gateway), as `Flow.add` resolves them.
 *
 * @example
 * ```ts
 * flowNodes({ jtype: 'Flow', with: {}, gateway: {}, executors: [{ name: 'a' }, { name: 'b' }] });
 * // [{ name: 'a', needs: ['gateway'] }, { name: 'b', needs: ['a'] }]
 * ```
 */
export function flowNodes(spec: FlowSpec): TopologyNode[] {
  let last = GATEWAY_NODE;
  return spec.executors.map((e, i) => {
    const name = e.name ?? `executor${i}`;
    const needs = e.needs === undefined ? [last] : [e.needs].flat();
    if (!e.floating) last = name;
    return {
      name,
      needs,
      floating: e.floating,
      when: e.when as TopologyNode['when'],
      noReduce: e.noReduce,
      passThrough: e.uses === undefined && !e.external ? true : undefined,
    };
  });
}

/** Checks the graph (unknown `needs`, duplicate names, cycles, bad `when`) and returns it. */
export function checkGraph(spec: FlowSpec): Topology {
  return buildTopology(flowNodes(spec));
}
