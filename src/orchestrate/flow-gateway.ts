import { Code, FlowgateError } from '../core/errors.js';
import { freePort } from '../serve/gateway-runtime.js';
import type { TopologyNode } from '../gateway/topology.js';
import { spawnRuntime } from './child-process.js';
import { startContainerGateway } from './container-gateway.js';
import { waitGatewayHealthy } from './custom-gateway.js';
import { gatewayPlan, type GatewayEntry } from './flow-plan.js';
import type { FlowRun } from './flow-run.js';
import type { GatewayProcessConfig } from './process-config.js';

/**
 * Starting a Flow's Gateway: a process (built-in or custom Gateway) or a container
 * (`uses: 'docker://image'`), told the graph and the Executors' addresses once they are known.
 */

/** What the Gateway needs from the rest of the Flow. */
export interface FlowGatewayInputs {
  gateway: GatewayEntry;
  /** The file that defines a custom Gateway class. */
  gatewayModule: string | undefined;
  nodes: TopologyNode[];
  /** Resolves with the routing part of the config once every Executor is up. */
  routing: Promise<Pick<GatewayProcessConfig, 'addresses' | 'heads' | 'tls' | 'calls'>>;
  /** The Flow's picture for the HTTP Gateway's `/flow` page (built-in Gateways only). */
  picture: (protocols: readonly string[]) => string | undefined;
}

/**
 * Starts the Gateway on `run`: its process starts (loads its modules) while the Executors start,
 * and gets its configuration once their addresses are known. Resolves when it serves (a custom
 * Gateway: when its first port answers its health check).
 */
export async function startFlowGateway(run: FlowRun, inputs: FlowGatewayInputs): Promise<void> {
  const { gateway } = inputs;
  const { inContainer, ...plan } = gatewayPlan(gateway, inputs.gatewayModule);
  const config = inputs.routing.then(async (routing): Promise<GatewayProcessConfig> => ({
    ...plan,
    nodes: inputs.nodes,
    ...routing,
    observability: await run.withMonitoringPort(plan.observability),
    flowchartSvg: inContainer || plan.uses ? undefined : inputs.picture(plan.protocols ?? ['grpc']),
  }));
  const child = inContainer
    ? undefined
    : spawnRuntime({
        role: 'gateway',
        name: 'gateway',
        config,
        timeoutMs: run.timeoutMs,
        onSpawn: run.onSpawn,
      });
  void child?.catch(() => undefined); // awaited below, after a failed Executor's error
  const resolved = await config;
  if (inContainer) return startInContainer(run, gateway, resolved);
  run.gatewayChild = await child!;
  run.ports = run.gatewayChild.ports;
  if (gateway.uses)
    await waitGatewayHealthy(
      resolved.protocols![0]!,
      resolved.host!,
      run.ports[0]!,
      Math.min(run.timeoutMs, 5000),
      gateway.sslCertfile !== undefined,
    );
}

/** Runs the Gateway from a `docker://` image and waits for its first port's health check. */
async function startInContainer(
  run: FlowRun,
  gateway: GatewayEntry,
  config: GatewayProcessConfig,
): Promise<void> {
  const host = config.host ?? '127.0.0.1';
  const protocols = config.protocols ?? ['grpc'];
  const ports = await Promise.all(
    protocols.map((_, i) => (config.ports?.[i] ? Promise.resolve(config.ports[i]) : freePort(host))),
  );
  const { timeoutSend, retries, prefetch, compression } = gateway;
  const gw = startContainerGateway({
    uses: gateway.uses as string,
    protocols,
    ports,
    host,
    nodes: config.nodes ?? [],
    addresses: config.addresses ?? {},
    heads: config.heads ?? [],
    tls: config.tls,
    calls: config.calls,
    usesWith: gateway.usesWith,
    flags: { timeoutSend, retries, prefetch, compression, ...config.gatewayOptions },
  });
  run.gatewayChild = gw;
  run.stopContainer = () => gw.stop();
  run.ports = ports;
  const exited = new Promise<never>((_, reject) =>
    gw.process.once('exit', (code, signal) =>
      reject(
        new FlowgateError(
          Code.Unavailable,
          `the Gateway container (${gw.name}) exited (${signal ?? `code ${code}`}) before it was healthy${gw.stderrTail().trim() ? `:\n${gw.stderrTail().trim()}` : ''}`,
        ),
      ),
    ),
  );
  exited.catch(() => undefined); // an exit after start is the container's own business
  await Promise.race([exited, waitGatewayHealthy(protocols[0]!, host, ports[0]!, run.timeoutMs)]);
}
