import { executorArgs, headArgs, pingExecutorCommand, pingGatewayCommand } from './commands.js';
import { GATEWAY_FLOW_PATH, gatewayCommand, gatewayFlowYaml } from './gateway-flow.js';
import {
  COMPOSE_PORT,
  checkObjectNames,
  objectName,
  planExport,
  type ExportOptions,
  type ExportPlan,
  type PlannedSharded,
  type PlannedWorker,
} from './plan.js';
import { yamlDocuments } from './yaml.js';

/** Options of {@link toDockerCompose}. */
export interface DockerComposeOptions extends ExportOptions {
  /** The network every service joins; default `flowgate-network`. */
  network?: string;
}

/** A Flow as a Compose file. */
export interface DockerComposeExport {
  yaml: string;
  /** The Compose file as data (before `$` is escaped for Compose's interpolation). */
  compose: ComposeFile;
  warnings: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  networks: Record<string, { driver: string }>;
  configs: Record<string, { content: string }>;
}

export type ComposeService = Record<string, unknown>;

/**
 * Health check and stop timing of every service. Compose has no preStop: a stopped container leaves
 * the network's DNS at once, then gets SIGTERM, drains (up to 20 s, `FLOWGATE_GRACE_PERIOD_MS`)
 * and exits within the grace.
 */
export const COMPOSE_TIMING = {
  interval: '5s',
  timeout: '5s',
  retries: 3,
  stopGracePeriod: '25s',
} as const;

/** The replica service names of one shard (or of an Executor without shards). */
function replicaNames(base: string, replicas: number): string[] {
  return replicas === 1 ? [base] : Array.from({ length: replicas }, (_, i) => `${base}-rep-${i}`);
}

function healthcheck(test: string[], plan: ExportPlan): Record<string, unknown> {
  return {
    test: ['CMD', ...test],
    interval: COMPOSE_TIMING.interval,
    timeout: COMPOSE_TIMING.timeout,
    retries: COMPOSE_TIMING.retries,
    start_period: `${plan.timeoutReadySeconds}s`,
  };
}

function service(
  plan: ExportPlan,
  network: string,
  o: { image: string; command: string[]; env?: Record<string, string>; test: string[] },
): ComposeService {
  return {
    image: o.image,
    entrypoint: ['flowgate'],
    command: o.command,
    ...(o.env && Object.keys(o.env).length > 0 ? { environment: o.env } : {}),
    healthcheck: healthcheck(o.test, plan),
    stop_grace_period: COMPOSE_TIMING.stopGracePeriod,
    networks: [network],
  };
}

function healthy(names: string[]): Record<string, { condition: string }> {
  return Object.fromEntries(names.map((n) => [n, { condition: 'service_healthy' }]));
}

/** The services of one Executor, and the addresses the Gateway (or nobody) reaches it at. */
function executorServices(
  plan: ExportPlan,
  e: PlannedWorker | PlannedSharded,
  network: string,
): { services: Record<string, ComposeService>; hosts: string[] } {
  const services: Record<string, ComposeService> = {};
  const worker = (name: string, uses: string, image: string, label = e.name, usesWith = e.spec.usesWith) => {
    services[name] = service(plan, network, {
      image,
      command: executorArgs({
        name: label,
        uses,
        port: COMPOSE_PORT,
        usesWith,
        usesDynamicBatching: label === e.name ? e.spec.usesDynamicBatching : undefined,
      }),
      env: e.env,
      test: pingExecutorCommand(COMPOSE_PORT),
    });
  };
  if (e.kind === 'worker') {
    const names = replicaNames(e.id, e.replicas);
    for (const n of names) worker(n, e.main.uses, e.main.image);
    return { services, hosts: names };
  }
  const shards = Array.from({ length: e.shards }, (_, i) => replicaNames(`${e.id}-shard-${i}`, e.replicas));
  for (const n of shards.flat()) worker(n, e.main.uses, e.main.image);
  const aux: string[] = [];
  for (const [role, uses] of [
    ['uses-before', e.usesBefore],
    ['uses-after', e.usesAfter],
  ] as const) {
    if (!uses) continue;
    worker(`${e.id}-${role}`, uses.uses, uses.image, `${e.name}/${role}`, {});
    aux.push(`${e.id}-${role}`);
  }
  const addr = (n: string) => `${n}:${COMPOSE_PORT}`;
  const head = `${e.id}-head`;
  services[head] = {
    ...service(plan, network, {
      image: plan.image,
      command: headArgs({
        name: e.name,
        port: COMPOSE_PORT,
        shards: shards.map((names) => names.map(addr)),
        polling: e.polling,
        usesBefore: e.usesBefore ? [addr(`${e.id}-uses-before`)] : undefined,
        usesAfter: e.usesAfter ? [addr(`${e.id}-uses-after`)] : undefined,
        noReduce: e.spec.noReduce,
        timeoutSend: plan.spec.gateway.timeoutSend,
        retries: plan.spec.gateway.retries,
      }),
      env: e.env,
      test: pingExecutorCommand(COMPOSE_PORT),
    }),
    depends_on: healthy([...shards.flat(), ...aux]),
  };
  return { services, hosts: [head] };
}

/** Replaces `$` by `$$` in every string value: Compose would otherwise interpolate `$gt` and co. */
function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

/**
 * A Flow as a Docker Compose file: one service per replica (`<name>-rep-<i>`, or `<name>` with
 * one replica) on port 8081, per shard replica and head for sharded Executors, and the Gateway,
 * which publishes its ports and starts once every Executor is healthy. Its Flow file is an inline
 * config mounted at `/flowgate/flow.yml`.
 *
 * @example
 * ```ts
 * const { yaml } = toDockerCompose(await loadFlowSpec('flow.yml'), { baseDir: '.' });
 * await writeFile('docker-compose.yml', yaml);
 * ```
 */
export function toDockerCompose(
  spec: Parameters<typeof planExport>[0],
  options: DockerComposeOptions = {},
): DockerComposeExport {
  const plan = planExport(spec, options);
  const network = options.network ?? 'flowgate-network';
  const services: Record<string, ComposeService> = {};
  const hosts = new Map<string, string[]>();
  const owners: [string, string][] = [['gateway', 'the gateway']];
  for (const e of plan.executors) {
    if (e.kind !== 'worker' && e.kind !== 'sharded') continue;
    const part = executorServices(plan, e, network);
    for (const name of Object.keys(part.services)) owners.push([name, `Executor '${e.name}'`]);
    Object.assign(services, part.services);
    hosts.set(e.name, part.hosts);
  }
  checkObjectNames(owners);
  const { protocols, ports } = plan.gateway;
  const flowYaml = gatewayFlowYaml(plan, (e) => {
    const h = hosts.get(e.name) ?? [];
    return { host: h.length === 1 ? h[0]! : h, port: COMPOSE_PORT };
  });
  const gateway: ComposeService = {
    ...service(plan, network, {
      image: plan.gateway.image,
      command: gatewayCommand({ flowPath: GATEWAY_FLOW_PATH, protocols, ports }),
      env: plan.logLevel === undefined ? undefined : { FLOWGATE_LOG_LEVEL: plan.logLevel },
      test: pingGatewayCommand(protocols[0]!, ports[0]!),
    }),
    ports: ports.map((p) => ({ target: p, published: String(p), protocol: 'tcp' })),
    configs: [{ source: 'gateway-flow', target: GATEWAY_FLOW_PATH }],
    ...(Object.keys(services).length > 0 ? { depends_on: healthy(Object.keys(services)) } : {}),
  };
  const compose: ComposeFile = {
    ...(plan.flowName ? { name: objectName(plan.flowName) } : {}),
    services: { gateway, ...services },
    networks: { [network]: { driver: 'bridge' } },
    configs: { 'gateway-flow': { content: flowYaml } },
  };
  return {
    yaml: yamlDocuments([escapeDollars(compose)], 'flowgate export docker-compose'),
    compose,
    warnings: plan.warnings,
  };
}
