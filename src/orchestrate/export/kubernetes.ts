import { createHash } from 'node:crypto';
import { Code, FlowgateError } from '../../core/errors.js';
import { DEFAULT_GRACE_PERIOD_MS } from '../../runtime/graceful-stop.js';
import { executorArgs, headArgs, pingExecutorCommand, pingGatewayCommand } from './commands.js';
import { GATEWAY_FLOW_PATH, gatewayCommand, gatewayFlowYaml } from './gateway-flow.js';
import {
  K8S_PORT,
  K8S_USES_AFTER_PORT,
  K8S_USES_BEFORE_PORT,
  checkObjectNames,
  objectName,
  planExport,
  type ContainerUses,
  type ExportOptions,
  type ExportPlan,
  type PlannedSharded,
  type PlannedWorker,
} from './plan.js';
import { yamlDocuments } from './yaml.js';

/** Options of {@link toKubernetes}. */
export interface KubernetesOptions extends ExportOptions {
  /** The namespace of every object; default the Flow's name (`with.name`), else `default`. */
  namespace?: string;
  /** The cluster's DNS domain; default `cluster.local`. */
  clusterDomain?: string;
  /** The type of the Gateway's Service; default `ClusterIP`. */
  gatewayServiceType?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
}

/** The manifests of a Flow: file name (relative to the output folder) -> YAML text. */
export interface KubernetesExport {
  files: Record<string, string>;
  namespace: string;
  warnings: string[];
}

/** A Kubernetes object as plain data. */
export type KubernetesObject = Record<string, unknown> & { apiVersion: string; kind: string };

/** After SIGTERM: the runtime's drain (`DEFAULT_GRACE_PERIOD_MS`), then closing the Executor. */
const DRAIN_SECONDS = DEFAULT_GRACE_PERIOD_MS / 1000;
const CLOSE_MARGIN_SECONDS = 5;
const PRE_STOP_SECONDS = 5;

/**
 * Probe and shutdown timing of every container. A stopping pod first sleeps `preStopSeconds` (it
 * still serves while the endpoints controller and DNS drop it, and Gateways re-resolving the
 * headless name stop picking it), then gets SIGTERM: the runtime reports NOT_SERVING (Gateways
 * watching its health stop sending at once), answers what is in flight and exits, within its
 * grace period (`FLOWGATE_GRACE_PERIOD_MS`, 20 s by default). `terminationGracePeriodSeconds` is
 * preStop + that grace period + 5 s to close the Executor: 30 s.
 */
export const K8S_TIMING = {
  preStopSeconds: PRE_STOP_SECONDS,
  drainSeconds: DRAIN_SECONDS,
  terminationGracePeriodSeconds: PRE_STOP_SECONDS + DRAIN_SECONDS + CLOSE_MARGIN_SECONDS,
  probePeriodSeconds: 5,
  probeTimeoutSeconds: 5,
  readinessFailureThreshold: 3,
  livenessPeriodSeconds: 10,
  livenessTimeoutSeconds: 10,
  livenessFailureThreshold: 3,
} as const;

/** Everything about one Kubernetes Deployment (plus its ConfigMap and Service). */
interface Unit {
  /** Deployment, Service and file name; the ConfigMap is `<id>-configmap`. */
  id: string;
  component: 'executor' | 'head' | 'gateway';
  executor: string;
  shard?: number;
  replicas: number;
  containers: Record<string, unknown>[];
  configData: Record<string, string>;
  /** The ConfigMap holds environment variables (`envFrom`) or the Gateway's Flow file. */
  configAs: 'env' | 'gateway-flow';
  ports: { name: string; port: number }[];
  headless: boolean;
}

function probes(command: string[], startupFailures: number): Record<string, unknown> {
  const exec = { command };
  const t = K8S_TIMING;
  const period = { periodSeconds: t.probePeriodSeconds, timeoutSeconds: t.probeTimeoutSeconds };
  return {
    startupProbe: { exec, ...period, failureThreshold: startupFailures },
    readinessProbe: { exec, ...period, successThreshold: 1, failureThreshold: t.readinessFailureThreshold },
    livenessProbe: {
      exec,
      periodSeconds: t.livenessPeriodSeconds,
      timeoutSeconds: t.livenessTimeoutSeconds,
      failureThreshold: t.livenessFailureThreshold,
    },
  };
}

interface ContainerOptions {
  name: string;
  image: string;
  args: string[];
  ports: { name: string; port: number }[];
  probe: string[];
  startupFailures: number;
  configMap?: string;
  extra?: Record<string, unknown>;
}

function container(o: ContainerOptions): Record<string, unknown> {
  return {
    name: o.name,
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['flowgate'],
    args: o.args,
    ports: o.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    ...(o.configMap ? { envFrom: [{ configMapRef: { name: o.configMap } }] } : {}),
    ...o.extra,
    ...probes(o.probe, o.startupFailures),
    lifecycle: { preStop: { exec: { command: ['sleep', String(K8S_TIMING.preStopSeconds)] } } },
  };
}

/** `<name>.<namespace>.svc.<domain>`: a headless Service's name resolves to every ready pod. */
function dnsName(id: string, namespace: string, domain: string): string {
  return `${id}.${namespace}.svc.${domain}`;
}

function workerContainer(
  plan: ExportPlan,
  e: PlannedWorker | PlannedSharded,
  configMap: string,
): Record<string, unknown> {
  return container({
    name: 'executor',
    image: e.main.image,
    args: executorArgs({
      name: e.name,
      uses: e.main.uses,
      port: K8S_PORT,
      usesWith: e.spec.usesWith,
      usesDynamicBatching: e.spec.usesDynamicBatching,
    }),
    ports: [{ name: 'grpc', port: K8S_PORT }],
    probe: pingExecutorCommand(K8S_PORT),
    startupFailures: startupFailures(plan),
    configMap,
  });
}

function startupFailures(plan: ExportPlan): number {
  return Math.max(3, Math.ceil(plan.timeoutReadySeconds / K8S_TIMING.probePeriodSeconds));
}

function sidecar(
  plan: ExportPlan,
  e: PlannedSharded,
  role: 'uses-before' | 'uses-after',
  uses: ContainerUses,
  port: number,
  configMap: string,
): Record<string, unknown> {
  return container({
    name: role,
    image: uses.image,
    args: executorArgs({ name: `${e.name}/${role}`, uses: uses.uses, port, host: '127.0.0.1' }),
    ports: [{ name: role === 'uses-before' ? 'grpc-before' : 'grpc-after', port }],
    probe: pingExecutorCommand(port),
    startupFailures: startupFailures(plan),
    configMap,
  });
}

function executorUnits(
  plan: ExportPlan,
  e: PlannedWorker | PlannedSharded,
  ns: string,
  domain: string,
): Unit[] {
  const unit = (id: string, extra: Partial<Unit> = {}): Unit => ({
    id,
    component: 'executor',
    executor: e.name,
    replicas: e.replicas,
    containers: [workerContainer(plan, e, `${id}-configmap`)],
    configData: e.env,
    configAs: 'env',
    ports: [{ name: 'grpc', port: K8S_PORT }],
    headless: true,
    ...extra,
  });
  if (e.kind === 'worker') return [unit(e.id)];
  const shardIds = Array.from({ length: e.shards }, (_, i) => `${e.id}-shard-${i}`);
  const headId = `${e.id}-head`;
  const cm = `${headId}-configmap`;
  const head = container({
    name: 'head',
    image: plan.image,
    args: headArgs({
      name: e.name,
      port: K8S_PORT,
      shards: shardIds.map((id) => [`${dnsName(id, ns, domain)}:${K8S_PORT}`]),
      polling: e.polling,
      usesBefore: e.usesBefore ? [`127.0.0.1:${K8S_USES_BEFORE_PORT}`] : undefined,
      usesAfter: e.usesAfter ? [`127.0.0.1:${K8S_USES_AFTER_PORT}`] : undefined,
      noReduce: e.spec.noReduce,
      timeoutSend: plan.spec.gateway.timeoutSend,
      retries: plan.spec.gateway.retries,
    }),
    ports: [{ name: 'grpc', port: K8S_PORT }],
    probe: pingExecutorCommand(K8S_PORT),
    startupFailures: startupFailures(plan),
    configMap: cm,
  });
  const containers = [head];
  if (e.usesBefore) containers.push(sidecar(plan, e, 'uses-before', e.usesBefore, K8S_USES_BEFORE_PORT, cm));
  if (e.usesAfter) containers.push(sidecar(plan, e, 'uses-after', e.usesAfter, K8S_USES_AFTER_PORT, cm));
  return [
    unit(headId, { component: 'head', replicas: 1, containers }),
    ...shardIds.map((id, i) => unit(id, { shard: i })),
  ];
}

function gatewayUnit(plan: ExportPlan, ns: string, domain: string): Unit {
  const flowYaml = gatewayFlowYaml(plan, (e) => ({
    host: dnsName(e.kind === 'sharded' ? `${e.id}-head` : e.id, ns, domain),
    port: K8S_PORT,
  }));
  const { protocols, ports } = plan.gateway;
  // One port for several protocols: one named port (`gateway`), the health check on it.
  const named =
    ports.length === 1 && protocols.length > 1
      ? [{ name: 'gateway', port: ports[0]! }]
      : protocols.map((p, i) => ({ name: p, port: ports[i]! }));
  return {
    id: 'gateway',
    component: 'gateway',
    executor: 'gateway',
    replicas: 1,
    configData: { 'flow.yml': flowYaml },
    configAs: 'gateway-flow',
    ports: named,
    headless: false,
    containers: [
      container({
        name: 'gateway',
        image: plan.gateway.image,
        args: gatewayCommand({ flowPath: GATEWAY_FLOW_PATH, protocols, ports }),
        ports: named,
        probe: pingGatewayCommand(protocols[0]!, ports[0]!),
        startupFailures: startupFailures(plan),
        extra: {
          ...(plan.logLevel === undefined
            ? {}
            : { env: [{ name: 'FLOWGATE_LOG_LEVEL', value: plan.logLevel }] }),
          volumeMounts: [{ name: 'flow', mountPath: '/flowgate', readOnly: true }],
        },
      }),
    ],
  };
}

function labels(u: Unit, partOf: string): Record<string, string> {
  return {
    app: u.id,
    'app.kubernetes.io/component': u.component,
    'app.kubernetes.io/part-of': partOf,
    'app.kubernetes.io/managed-by': 'flowgate',
    'flowgate.io/executor': u.executor,
    ...(u.shard === undefined ? {} : { 'flowgate.io/shard': String(u.shard) }),
  };
}

function unitObjects(
  u: Unit,
  ns: string,
  partOf: string,
  serviceType: KubernetesOptions['gatewayServiceType'],
): KubernetesObject[] {
  const meta = (name: string) => ({ name, namespace: ns, labels: labels(u, partOf) });
  const configMapName = `${u.id}-configmap`;
  const configMap: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName),
    data: u.configData,
  };
  const service: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(u.id),
    spec: {
      ...(u.headless
        ? { clusterIP: 'None', publishNotReadyAddresses: false }
        : { type: serviceType ?? 'ClusterIP' }),
      selector: { app: u.id },
      ports: u.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
    },
  };
  const hash = createHash('sha256').update(JSON.stringify(u.configData)).digest('hex').slice(0, 16);
  const deployment: KubernetesObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(u.id),
    spec: {
      replicas: u.replicas,
      selector: { matchLabels: { app: u.id } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels(u, partOf),
          // a changed ConfigMap rolls the pods on the next `kubectl apply`
          annotations: { 'flowgate.io/config-hash': hash },
        },
        spec: {
          terminationGracePeriodSeconds: K8S_TIMING.terminationGracePeriodSeconds,
          containers: u.containers,
          ...(u.configAs === 'gateway-flow'
            ? {
                volumes: [
                  {
                    name: 'flow',
                    configMap: { name: configMapName, items: [{ key: 'flow.yml', path: 'flow.yml' }] },
                  },
                ],
              }
            : {}),
        },
      },
    },
  };
  return [configMap, service, deployment];
}

/**
 * The Kubernetes objects of a Flow, by file: a ConfigMap, a headless Service and a Deployment per
 * Executor (per shard, plus a head, for a sharded one), the same for the Gateway (a ClusterIP
 * Service), and the Namespace unless it is `default`.
 */
export function kubernetesObjects(
  spec: Parameters<typeof planExport>[0],
  options: KubernetesOptions = {},
): { files: Record<string, KubernetesObject[]>; namespace: string; warnings: string[] } {
  const plan = planExport(spec, options);
  const ns = options.namespace ?? (plan.flowName ? objectName(plan.flowName) : 'default');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63)
    throw new FlowgateError(
      Code.InvalidArgument,
      `namespace '${ns}' is not a DNS label (lowercase letters, digits and -, at most 63)`,
    );
  const domain = options.clusterDomain ?? 'cluster.local';
  const units = [
    gatewayUnit(plan, ns, domain),
    ...plan.executors.flatMap((e) =>
      e.kind === 'worker' || e.kind === 'sharded' ? executorUnits(plan, e, ns, domain) : [],
    ),
  ];
  checkObjectNames(
    units.map((u) => [u.id, u.component === 'gateway' ? 'the gateway' : `Executor '${u.executor}'`]),
  );
  const partOf = plan.flowName ? objectName(plan.flowName).slice(0, 63) : 'flowgate';
  const files: Record<string, KubernetesObject[]> = {};
  if (ns !== 'default')
    files['00-namespace.yml'] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }];
  for (const u of units) files[`${u.id}.yml`] = unitObjects(u, ns, partOf, options.gatewayServiceType);
  return { files, namespace: ns, warnings: plan.warnings };
}

/**
 * A Flow as Kubernetes manifests, one YAML file per Deployment (with its ConfigMap and Service).
 * Apply them all with `kubectl apply -f <folder>`.
 *
 * @example
 * ```ts
 * const { files } = toKubernetes(await loadFlowSpec('flow.yml'), { namespace: 'search' });
 * Object.keys(files); // ['00-namespace.yml', 'gateway.yml', 'encoder.yml', ...]
 * ```
 */
export function toKubernetes(
  spec: Parameters<typeof planExport>[0],
  options: KubernetesOptions = {},
): KubernetesExport {
  const { files, namespace, warnings } = kubernetesObjects(spec, options);
  const text: Record<string, string> = {};
  for (const [path, objects] of Object.entries(files))
    text[path] = yamlDocuments(objects, 'flowgate export kubernetes');
  return { files: text, namespace, warnings };
}
