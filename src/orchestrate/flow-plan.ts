import type { ExecutorClass } from '../executor/executor.js';
import { definingFile } from '../executor/requests.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { DeploymentCallOptions } from '../gateway/connection-pool.js';
import type { TopologyNode } from '../gateway/topology.js';
import type { JsonObject } from '../proto/struct.js';
import { observabilitySettings, type ObservabilityOptions } from '../runtime/observability.js';
import type { AddOptions, GatewayConfigOptions } from '../config/options.js';
import { BUILTIN_GATEWAY_OPTIONS } from '../config/schemas.js';
import type { ExecutorProcessConfig, GatewayProcessConfig, HeadProcessConfig } from './process-config.js';
import type { SuperviseOptions } from './supervisor.js';
import { gatewayUsesRef } from './custom-gateway.js';

/**
 * What each part of a Flow is told, computed from the validated options alone (no process, no
 * port): the Executor processes' configs, the heads', the Gateway's routing. `flow-run.ts` starts
 * the processes with these; the schema-walk tests read them to show that every option is used.
 */

/** One Executor of a Flow, as `add()` validated it. */
export interface ExecutorEntry extends AddOptions {
  name: string;
  /** `needs`, resolved (the default is the last non-floating Executor added before). */
  needsList: string[];
}

/** An Executor entry from validated `add()` options; `previous` is the Executor it follows by default. */
export function executorEntry(options: AddOptions & { name: string }, previous: string): ExecutorEntry {
  const needsList =
    options.needs === undefined ? [previous] : Array.isArray(options.needs) ? options.needs : [options.needs];
  return { ...options, needsList };
}

/** The Gateway options as the Flow keeps them: an `authenticate` function is a `module:name` reference. */
export type GatewayEntry = Omit<GatewayConfigOptions, 'authenticate'> & { authenticate?: string };

/** `start()`'s wait for each part, ms: `timeoutReady` (default 60 s; -1 = forever). */
export function readyTimeout(timeoutReady: number | undefined): number {
  if (timeoutReady === undefined) return 60_000;
  return timeoutReady < 0 ? 2 ** 31 - 1 : timeoutReady;
}

/** The routing graph the Gateway walks. */
export function topologyNodes(entries: readonly ExecutorEntry[]): TopologyNode[] {
  return entries.map((d) => ({
    name: d.name,
    needs: d.needsList,
    floating: d.floating,
    when: d.when as JsonObject | undefined,
    noReduce: d.noReduce,
    passThrough: d.uses === undefined && !d.external ? true : undefined,
  }));
}

/** Each Executor's own `timeoutSend` / `retries`, which override the Gateway's for it. */
export function callOverrides(entries: readonly ExecutorEntry[]): Record<string, DeploymentCallOptions> {
  const out: Record<string, DeploymentCallOptions> = {};
  for (const d of entries) {
    if (d.timeoutSend === undefined && d.retries === undefined) continue;
    out[d.name] = {
      ...(d.timeoutSend === undefined ? {} : { timeoutSendMs: d.timeoutSend }),
      ...(d.retries === undefined ? {} : { retries: d.retries }),
    };
  }
  return out;
}

/** The addresses of an external Executor (`host` may carry the port, a list of hosts = replicas). */
export function externalAddresses(d: ExecutorEntry): string[] {
  const hosts = [d.host ?? '127.0.0.1'].flat();
  const ports = [d.port ?? 8080].flat();
  return hosts.map((h, i) => (/:\d+$/.test(h) ? h : `${h}:${ports[i] ?? ports[0]}`));
}

/** How a `uses` reaches the process: a class as its module and name, `Class` + `modules` as `module:Class`. */
export function usesRef(
  uses: ExecutorClass | string,
  modules?: string | string[],
): ExecutorProcessConfig['uses'] {
  if (typeof uses === 'string') {
    const first = [modules ?? []].flat()[0];
    return { spec: first && /^\w+$/.test(uses) ? `${first}:${uses}` : uses };
  }
  const module = definingFile(uses);
  if (module === undefined)
    throw new FlowgateError(
      Code.InvalidArgument,
      `cannot tell which file defines ${uses.name}: decorate one of its methods with @requests, or pass uses as 'file.ts:${uses.name}'`,
    );
  return { module, className: uses.name };
}

/** The environment of an Executor's processes (YAML numbers and booleans as strings). */
export function processEnv(d: ExecutorEntry): Record<string, string> | undefined {
  return d.env && Object.fromEntries(Object.entries(d.env).map(([k, v]) => [k, String(v)]));
}

/** What restarts an Executor's processes that exit on their own. */
export function restartOptions(d: ExecutorEntry): Pick<SuperviseOptions, 'policy' | 'maxRestarts'> {
  return { policy: d.restartPolicy, maxRestarts: d.maxRestarts };
}

/** The observability of one process; `portMonitoring` only for the Executor's first process. */
export function processObservability(
  d: Pick<
    ExecutorEntry,
    'monitoring' | 'portMonitoring' | 'tracing' | 'tracesExporterHost' | 'tracesExporterPort'
  >,
  runtimeName: string,
  first: boolean,
): ObservabilityOptions | undefined {
  const o = observabilitySettings(d);
  if (!o) return undefined;
  return { ...o, portMonitoring: first && o.monitoring ? o.portMonitoring : undefined, runtimeName };
}

/** One process of an Executor (a replica of a shard, or a uses-before/after). */
export interface ReplicaSlot {
  uses: ExecutorClass | string;
  /** The process name in logs: `name`, `name/shard-0`, `name/uses-before`... */
  label: string;
  shardId: number;
  shards: number;
  replicaId: number;
  replicas: number;
  port: number;
  /** A uses-before/after: named after its label, without the Executor's usesWith and metas. */
  aux: boolean;
}

/** The processes of a Flow's own Executor: the replicas of each shard, and a head's uses-before/after. */
export interface ExecutorSlots {
  /** One list of replica slots per shard (one shard without `shards`). */
  shards: ReplicaSlot[][];
  usesBefore?: ReplicaSlot[];
  usesAfter?: ReplicaSlot[];
}

/** Every process of a Flow's own Executor; none for an external one or a Gateway merge. */
export function replicaSlots(d: ExecutorEntry): ExecutorSlots {
  if (d.external || d.uses === undefined) return { shards: [] };
  const shards = d.shards ?? 1;
  const replicas = d.replicas ?? 1;
  const slots = (uses: ExecutorClass | string, label: string, shardId: number, aux = false, port = 0) =>
    Array.from({ length: aux ? 1 : replicas }, (_, replicaId) => ({
      uses,
      label,
      shardId,
      shards,
      replicaId,
      replicas: aux ? 1 : replicas,
      port,
      aux,
    }));
  if (shards === 1) return { shards: [slots(d.uses, d.name, 0, false, bindPort(d))] };
  return {
    shards: Array.from({ length: shards }, (_, i) => slots(d.uses!, `${d.name}/shard-${i}`, i)),
    usesBefore: d.usesBefore ? slots(d.usesBefore, `${d.name}/uses-before`, 0, true) : undefined,
    usesAfter: d.usesAfter ? slots(d.usesAfter, `${d.name}/uses-after`, 0, true) : undefined,
  };
}

/** The name of a process in logs and `flow.monitoringPorts`: `name`, `name/rep-1`, `name/shard-0/rep-1`... */
export function processName(slot: ReplicaSlot): string {
  return slot.replicas > 1 ? `${slot.label}/rep-${slot.replicaId}` : slot.label;
}

/** The config of one Executor process. */
export function executorProcessConfig(d: ExecutorEntry, slot: ReplicaSlot): ExecutorProcessConfig {
  const name = slot.aux ? slot.label : d.name;
  return {
    name,
    uses: usesRef(slot.uses, slot.aux ? undefined : d.modules),
    usesWith: slot.aux ? {} : (d.usesWith ?? {}),
    dynamicBatching: slot.aux ? undefined : d.usesDynamicBatching,
    metas: slot.aux ? { name } : { ...d.metas, name },
    runtimeArgs: {
      shardId: slot.shardId,
      shards: slot.shards,
      replicaId: slot.replicaId,
      replicas: slot.replicas,
    },
    host: '127.0.0.1',
    port: slot.port,
    observability: processObservability(
      d,
      processName(slot),
      slot.replicaId === 0 && !slot.aux && slot.shardId === 0,
    ),
  };
}

/** The port a Flow's own Executor binds: its `port` when it has one process, else a free one. */
export function bindPort(d: ExecutorEntry): number {
  return typeof d.port === 'number' && (d.replicas ?? 1) === 1 && (d.shards ?? 1) === 1 ? d.port : 0;
}

/** The head of a sharded Executor; its own `timeoutSend` / `retries` first, then the Gateway's. */
export function headProcessConfig(
  d: ExecutorEntry,
  gateway: GatewayEntry,
  addresses: { shards: string[][]; usesBefore?: string[]; usesAfter?: string[] },
): HeadProcessConfig {
  return {
    name: d.name,
    host: '127.0.0.1',
    port: 0,
    shards: addresses.shards,
    polling: d.polling,
    usesBefore: addresses.usesBefore,
    usesAfter: addresses.usesAfter,
    noReduce: d.noReduce,
    timeoutSendMs: d.timeoutSend ?? gateway.timeoutSend,
    retries: d.retries ?? gateway.retries,
    compression: gateway.compression,
    observability: processObservability(d, `${d.name}/head`, false),
  };
}

/**
 * The process-config part of Gateway options (a Flow's Gateway, or `flowgate gateway` standalone):
 * timeouts, retries, prefetch, compression, usesWith, and what only built-in Gateways read.
 */
export { BUILTIN_GATEWAY_OPTIONS };

export function gatewayProcessOptions(
  gateway: GatewayEntry,
): Pick<
  GatewayProcessConfig,
  'timeoutSendMs' | 'retries' | 'prefetch' | 'compression' | 'usesWith' | 'gatewayOptions' | 'observability'
> {
  return {
    observability: observabilitySettings(gateway),
    timeoutSendMs: gateway.timeoutSend,
    retries: gateway.retries,
    prefetch: gateway.prefetch,
    compression: gateway.compression,
    usesWith: gateway.usesWith,
    gatewayOptions: Object.fromEntries(
      BUILTIN_GATEWAY_OPTIONS.filter((k) => gateway[k] !== undefined).map((k) => [k, gateway[k]]),
    ),
  };
}

/** The routing part of the Gateway's config that comes from the Executors' options. */
export function gatewayRouting(
  entries: readonly ExecutorEntry[],
): Pick<GatewayProcessConfig, 'tls' | 'calls'> {
  return { tls: entries.filter((d) => d.tls).map((d) => d.name), calls: callOverrides(entries) };
}

/**
 * What the Gateway process is told, but the Executors' addresses (known once they run) and the
 * metrics port (chosen at start when none is given).
 */
export function gatewayPlan(
  gateway: GatewayEntry,
  gatewayModule: string | undefined,
): Omit<GatewayProcessConfig, 'addresses' | 'heads' | 'tls' | 'calls' | 'nodes' | 'flowchartSvg'> & {
  inContainer: boolean;
} {
  const { protocols, ports } = gatewayListeners(gateway);
  const inContainer = typeof gateway.uses === 'string' && gateway.uses.startsWith('docker://');
  const o = observabilitySettings(gateway);
  return {
    name: 'gateway',
    host: gateway.host ?? '127.0.0.1',
    protocols,
    ports,
    ...gatewayProcessOptions(gateway),
    observability: o && { ...o, runtimeName: 'gateway' },
    uses: gateway.uses && !inContainer ? gatewayUsesRef(gateway.uses, gatewayModule) : undefined,
    inContainer,
  };
}

/**
 * The Gateway's protocols and ports: one port per protocol, ONE port for several built-in
 * protocols (served together on it), or none given.
 */
export function gatewayListeners(gateway: GatewayEntry): {
  protocols: GatewayProcessConfig['protocols'] & {};
  ports: number[];
} {
  const protocols = gateway.protocol === undefined ? ['grpc' as const] : [gateway.protocol].flat();
  const ports = gateway.port === undefined ? [] : [gateway.port].flat();
  const onePort = ports.length === 1 && gateway.uses === undefined;
  if (ports.length > 0 && ports.length !== protocols.length && !onePort)
    throw new FlowgateError(
      Code.InvalidArgument,
      `${protocols.length} protocols but ${ports.length} ports: give one port per protocol, or one port for all`,
    );
  return { protocols, ports };
}
