import { stringifyFlowSpec } from '../../config/load.js';
import type { ExecutorSpec, FlowSpec, GatewaySpec } from '../../config/schemas.js';
import type { Protocol } from '../../gateway/gateway.js';
import { flowNodes } from './graph.js';
import type { ExportPlan, PlannedExecutor } from './plan.js';

/** Where the Gateway's Flow YAML is mounted in its container. */
export const GATEWAY_FLOW_PATH = '/flowgate/flow.yml';

/** Where one deployed Executor is reached from the Gateway: one host (a DNS name) or several. */
export interface GatewayAddress {
  host: string | string[];
  port: number;
}

/** The keys of an Executor that shape routing in the Gateway (kept in the Gateway's Flow). */
const ROUTING_KEYS = ['floating', 'when', 'noReduce', 'timeoutSend', 'retries', 'tls'] as const;

function routingOf(e: ExecutorSpec): ExecutorSpec {
  const out: ExecutorSpec = {};
  for (const k of ROUTING_KEYS) if (e[k] !== undefined) Object.assign(out, { [k]: e[k] });
  return out;
}

/**
 * The Flow the Gateway container runs: the same graph (every `needs` written out), with every deployed Executor turned into
 * `external: true` at the address `addressOf` gives (a sharded one: its head). External Executors
 * keep their address; Executors without `uses` stay Gateway merges. The Gateway's own options are
 * kept, except protocol, port and host, which {@link gatewayCommand} gives on the command line.
 *
 * @example
 * ```ts
 * gatewayFlowSpec(plan, (e) => ({ host: `${e.id}.ns.svc.cluster.local`, port: 8080 }));
 * ```
 */
export function gatewayFlowSpec(
  plan: ExportPlan,
  addressOf: (e: PlannedExecutor) => GatewayAddress,
): FlowSpec {
  const needs = new Map(flowNodes(plan.spec).map((n) => [n.name, n.needs]));
  const executors = plan.executors.map((e): ExecutorSpec => {
    const n = needs.get(e.name) ?? [];
    const base: ExecutorSpec = { name: e.name, ...routingOf(e.spec), needs: n.length === 1 ? n[0] : n };
    if (e.kind === 'merge') return base;
    if (e.kind === 'external') return { ...base, external: true, host: e.spec.host, port: e.spec.port };
    const a = addressOf(e);
    return { ...base, external: true, host: a.host, port: a.port };
  });
  const { protocol: _p, port: _q, host: _h, uses: _u, modules: _m, ...rest } = plan.spec.gateway;
  const gateway: GatewaySpec = { ...rest };
  if (plan.gateway.uses !== undefined) gateway.uses = plan.gateway.uses;
  return { jtype: 'Flow', with: { ...plan.spec.with }, gateway, executors };
}

/** {@link gatewayFlowSpec} as Flow YAML text. */
export function gatewayFlowYaml(plan: ExportPlan, addressOf: (e: PlannedExecutor) => GatewayAddress): string {
  return stringifyFlowSpec(gatewayFlowSpec(plan, addressOf));
}

/** Options of {@link gatewayCommand}. */
export interface GatewayCommandOptions {
  /** The Gateway's Flow YAML in the container. */
  flowPath: string;
  protocols: Protocol[];
  ports: number[];
}

/**
 * The command line (after the `flowgate` entrypoint) that starts the Gateway of an exported Flow:
 * `flowgate flow` on a Flow whose Executors are all external starts only the Gateway. This is the
 * one place to change when a dedicated `flowgate gateway --flow` mode exists.
 *
 * @example
 * ```ts
 * gatewayCommand({ flowPath: '/flowgate/flow.yml', protocols: ['grpc', 'http'], ports: [8080, 8081] });
 * // ['flow', '--uses', '/flowgate/flow.yml', '--host', '0.0.0.0', '--protocol', 'grpc,http', '--port', '8080,8081']
 * ```
 */
export function gatewayCommand(o: GatewayCommandOptions): string[] {
  return [
    'flow',
    '--uses',
    o.flowPath,
    '--host',
    '0.0.0.0',
    '--protocol',
    o.protocols.join(','),
    '--port',
    o.ports.join(','),
  ];
}
