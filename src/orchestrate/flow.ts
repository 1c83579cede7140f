import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withGatewayYaml } from '../config/gateway-yaml.js';
import { loadFlowSpec, stringifyFlowSpec } from '../config/load.js';
import type { ExecutorSpec, FlowSpec } from '../config/schemas.js';
import { Code, FlowgateError } from '../core/errors.js';
import { parseBatchingConfig } from '../executor/dynamic-batching.js';
import type { ExecutorClass } from '../executor/executor.js';
import { callerFile, definingFile } from '../executor/requests.js';
import type { Protocol } from '../gateway/gateway.js';
import { freePort } from '../serve/gateway-runtime.js';
import { GATEWAY_NODE, buildTopology, type TopologyNode } from '../gateway/topology.js';
import { isChildProcess, markChildFlowStart, registerClass } from '../runtime/class-registry.js';
import { renderFlowchart } from './export/flowchart.js';
import { spawnRuntime, stopChild, type RunningChild } from './child-process.js';
import { startContainerGateway } from './container-gateway.js';
import { supervise } from './supervisor.js';
import { gatewayUsesRef, waitGatewayHealthy } from './custom-gateway.js';
import { authHookRef } from '../gateway/auth.js';
import { checkTlsPair } from '../gateway/security.js';
import { shareLogFormat } from '../core/logger.js';
import {
  observabilitySettings,
  type ObservabilityOptions,
  type ObservabilitySettings,
} from '../runtime/observability.js';
import type { ExecutorProcessConfig, GatewayProcessConfig, HeadProcessConfig } from './process-config.js';
import {
  checkCount,
  checkPolling,
  gatewayProcessOptions,
  type AddOptions,
  type FlowOptions,
  type GatewayConfigOptions,
} from './flow-options.js';

export { gatewayProcessOptions };
export type { AddOptions, FlowOptions, GatewayConfigOptions };

interface Deployment extends AddOptions {
  name: string;
  needsList: string[];
}

/**
 * A graph of Executors behind a Gateway, each in its own process.
 *
 * @example
 * ```ts
 * const flow = new Flow().configGateway({ protocol: 'grpc', port: 12345 }).add({ uses: FooExecutor });
 * await flow.start();
 * const docs = await new Client({ port: 12345 }).post('/');
 * await flow.close();
 * ```
 */
export class Flow {
  private readonly deployments: Deployment[] = [];
  /** The Gateway options; an `authenticate` function is kept as its `module:name` reference. */
  private gateway: Omit<GatewayConfigOptions, 'authenticate'> & { authenticate?: string } = {};
  /** The file the Gateway process imports to find a custom Gateway class. */
  private gatewayModule: string | undefined;
  private children: RunningChild[] = [];
  /** Set by close(): Executor exits are expected from then on, not restarted. */
  private closing = false;
  private gatewayChild: RunningChild | undefined;
  /** Stops a Gateway run from a container image. */
  private stopContainer: (() => Promise<void>) | undefined;
  /** Every process started and not yet stopped, ready or not: what `close()` must stop. */
  private spawned = new Set<ChildProcess>();
  private started = false;
  private _ports: number[] = [];
  private _protocols: Protocol[] = ['grpc'];
  private _monitoringPorts: Record<string, number> = {};

  constructor(private readonly options: FlowOptions = {}) {}

  /** Configures the Gateway (protocols, ports, timeouts...). */
  configGateway(options: GatewayConfigOptions): this {
    options = withGatewayYaml(options);
    checkTlsPair({ ...this.gateway, ...options }); // one without the other fails here, not at start()
    const { authenticate, ...rest } = options;
    // The Gateway process imports the calling file again: there, this call makes the hook findable.
    if (typeof authenticate === 'function' && isChildProcess())
      registerClass(authenticate as unknown as ExecutorClass);
    const authRef =
      typeof authenticate === 'function' ? authHookRef(authenticate, callerFile()) : authenticate;
    this.gateway = { ...this.gateway, ...rest, ...(authRef === undefined ? {} : { authenticate: authRef }) };
    if (typeof options.uses === 'function') {
      // The child process imports this file again: there, this call makes the class findable.
      if (isChildProcess()) registerClass(options.uses as unknown as ExecutorClass);
      this.gatewayModule = options.usesModule ?? callerFile();
    } else if (options.usesModule !== undefined) this.gatewayModule = options.usesModule;
    return this;
  }

  /** Adds an Executor. */
  add(options: AddOptions = {}): this {
    const name = options.name ?? `executor${this.deployments.length}`;
    if (this.deployments.some((d) => d.name === name)) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `two Executors are named '${name}': names must be unique`,
      );
    }
    checkCount(name, 'replicas', options.replicas);
    checkCount(name, 'shards', options.shards);
    if (options.tls && !options.external)
      throw new FlowgateError(
        Code.InvalidArgument,
        `Executor '${name}': tls applies to external Executors (external: true, host, port); the Flow's own Executors listen on loopback without TLS`,
      );
    checkPolling(name, options.polling);
    if (options.usesDynamicBatching)
      parseBatchingConfig(options.usesDynamicBatching, `Executor '${name}': usesDynamicBatching`);
    if (isChildProcess()) {
      for (const u of [options.uses, options.usesBefore, options.usesAfter])
        if (typeof u === 'function') registerClass(u);
    }
    const needs =
      options.needs === undefined
        ? [this.lastNonFloating()]
        : Array.isArray(options.needs)
          ? options.needs
          : [options.needs];
    this.deployments.push({ ...options, name, needsList: needs });
    return this;
  }

  /**
   * Adds a join that waits for every Executor in `names` and merges their parts (by document id,
   * or as `docsMatrix` with `noReduce`). Without `uses`, the Gateway merges them itself.
   */
  needs(names: string[], options: Omit<AddOptions, 'needs'> = {}): this {
    if (names.length < 2)
      throw new FlowgateError(Code.InvalidArgument, 'a join needs at least two upstream Executors');
    return this.add({ name: 'joiner', ...options, needs: names });
  }

  /** Joins every open branch: each non-floating Executor that nothing needs yet. */
  needsAll(options: Omit<AddOptions, 'needs'> = {}): this {
    const needed = new Set(this.deployments.flatMap((d) => d.needsList));
    const open = this.deployments.filter((d) => !needed.has(d.name) && !d.floating).map((d) => d.name);
    if (open.length >= 2) return this.needs(open, options);
    return this.add({ name: 'joiner', ...options, needs: open.length === 1 ? open : GATEWAY_NODE });
  }

  private lastNonFloating(): string {
    return [...this.deployments].reverse().find((d) => !d.floating)?.name ?? GATEWAY_NODE;
  }

  /** The first port of the Gateway. */
  get port(): number {
    return this._ports[0] ?? 0;
  }
  /** Every port of the Gateway, one per protocol. */
  get ports(): number[] {
    return [...this._ports];
  }
  get protocols(): Protocol[] {
    return [...this._protocols];
  }
  /** True when the Gateway serves TLS (`sslCertfile`): its addresses are grpcs://, https://, wss://. */
  get tls(): boolean {
    return this.gateway.sslCertfile !== undefined;
  }
  /**
   * The Prometheus port of every process with `monitoring` on, by process name: `gateway`, an
   * Executor's name (`name/rep-1`, `name/shard-0`, `name/head` with replicas and shards). Known
   * from `start()` on.
   */
  get monitoringPorts(): Record<string, number> {
    return { ...this._monitoringPorts };
  }

  /**
   * The observability options of one process, with its metrics port chosen here (a free one when
   * none is given) so that the Flow can tell it; undefined when monitoring and tracing are off.
   */
  private async observabilityOf(
    settings: ObservabilitySettings,
    runtimeName: string,
    port: number | undefined,
  ): Promise<ObservabilityOptions | undefined> {
    const o = observabilitySettings(settings);
    if (!o) return undefined;
    if (!o.monitoring) return { ...o, portMonitoring: undefined, runtimeName };
    const portMonitoring = port || (await freePort());
    this._monitoringPorts[runtimeName] = portMonitoring;
    return { ...o, portMonitoring, runtimeName };
  }

  /**
   * The process ids of the running parts (every Executor replica, then the Gateway); empty before
   * `start()` and after `close()`. For monitoring and for tests that check nothing outlives the Flow.
   */
  get pids(): number[] {
    return [...this.children, ...(this.gatewayChild ? [this.gatewayChild] : [])]
      .map((c) => c.process.pid)
      .filter((pid): pid is number => pid !== undefined);
  }

  private topologyNodes(): TopologyNode[] {
    return this.deployments.map((d) => ({
      name: d.name,
      needs: d.needsList,
      floating: d.floating,
      when: d.when,
      noReduce: d.noReduce,
      passThrough: d.uses === undefined && !d.external ? true : undefined,
    }));
  }

  /** Starts every Executor, then the Gateway; resolves when all are ready. */
  async start(): Promise<this> {
    if (isChildProcess()) {
      markChildFlowStart(); // the class loader's cue: this script registers no more classes
      return new Promise<never>(() => undefined);
    }
    if (this.started) return this;
    this.started = true;
    this._monitoringPorts = {};
    shareLogFormat(); // the processes log pretty lines too when this one's stderr is a terminal
    this.closing = false;
    const nodes = this.topologyNodes();
    buildTopology(nodes); // reject a broken graph before anything starts
    const protocols =
      this.gateway.protocol === undefined ? ['grpc' as const] : [this.gateway.protocol].flat();
    const ports = this.gateway.port === undefined ? [] : [this.gateway.port].flat();
    // One port for all (several built-in protocols on one port), or one port per protocol.
    const onePort = ports.length === 1 && this.gateway.uses === undefined;
    if (ports.length > 0 && ports.length !== protocols.length && !onePort) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `${protocols.length} protocols but ${ports.length} ports: give one port per protocol, or one port for all`,
      );
    }
    this._protocols = protocols;
    const inContainer = typeof this.gateway.uses === 'string' && this.gateway.uses.startsWith('docker://');
    const gatewayUses =
      this.gateway.uses && !inContainer ? gatewayUsesRef(this.gateway.uses, this.gatewayModule) : undefined;
    const timeoutMs = this.options.timeoutReady ?? 60_000;
    try {
      const addresses: Record<string, string[]> = {};
      const heads: string[] = [];
      const deployed = Promise.all(
        this.deployments.map(async (d) => {
          const started = await this.startDeployment(d, timeoutMs);
          if (started.addresses.length > 0) addresses[d.name] = started.addresses;
          if (started.head) heads.push(d.name);
        }),
      );
      const gatewayConfig = deployed.then(async (): Promise<GatewayProcessConfig> => ({
        name: 'gateway',
        host: this.gateway.host ?? '127.0.0.1',
        protocols,
        ports,
        nodes,
        addresses,
        heads,
        tls: this.deployments.filter((d) => d.tls).map((d) => d.name),
        ...gatewayProcessOptions(this.gateway),
        observability: await this.observabilityOf(this.gateway, 'gateway', this.gateway.portMonitoring),
        uses: gatewayUses,
        flowchartSvg: inContainer || gatewayUses ? undefined : this.livePicture(protocols),
      }));
      // The Gateway process starts (loads its modules) while the Executors start, and gets its
      // configuration once their addresses are known.
      const gatewayChild = inContainer
        ? undefined
        : spawnRuntime({
            role: 'gateway',
            name: 'gateway',
            config: gatewayConfig,
            timeoutMs,
            onSpawn: (p) => this.spawned.add(p),
          });
      void gatewayChild?.catch(() => undefined); // awaited below, after a failed Executor's error
      const config = await gatewayConfig;
      if (inContainer) {
        await this.startContainerGateway(config, timeoutMs);
        return this;
      }
      this.gatewayChild = await gatewayChild!;
      this._ports = this.gatewayChild.ports;
      if (this.gateway.uses)
        await waitGatewayHealthy(
          protocols[0]!,
          config.host!,
          this._ports[0]!,
          Math.min(timeoutMs, 5000),
          this.gateway.sslCertfile !== undefined,
        );
    } catch (err) {
      await this.close();
      throw err;
    }
    return this;
  }

  /** Runs the Gateway from a `docker://` image and waits for its first port's health check. */
  private async startContainerGateway(config: GatewayProcessConfig, timeoutMs: number): Promise<void> {
    const host = config.host ?? '127.0.0.1';
    const protocols = config.protocols ?? ['grpc'];
    const ports = await Promise.all(
      protocols.map((_, i) => (config.ports?.[i] ? Promise.resolve(config.ports[i]) : freePort(host))),
    );
    const { timeoutSend, retries, prefetch, compression } = this.gateway;
    const gw = startContainerGateway({
      uses: this.gateway.uses as string,
      protocols,
      ports,
      host,
      nodes: config.nodes ?? [],
      addresses: config.addresses ?? {},
      heads: config.heads ?? [],
      tls: config.tls,
      usesWith: this.gateway.usesWith,
      flags: { timeoutSend, retries, prefetch, compression, ...config.gatewayOptions },
    });
    this.gatewayChild = gw;
    this.stopContainer = () => gw.stop();
    this._ports = ports;
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
    await Promise.race([exited, waitGatewayHealthy(protocols[0]!, host, ports[0]!, timeoutMs)]);
  }

  private async startDeployment(
    d: Deployment,
    timeoutMs: number,
  ): Promise<{ addresses: string[]; head: boolean }> {
    if (d.external) {
      const hosts = [d.host ?? '127.0.0.1'].flat();
      const ports = [d.port ?? 8080].flat();
      return {
        addresses: hosts.map((h, i) => (/:\d+$/.test(h) ? h : `${h}:${ports[i] ?? ports[0]}`)),
        head: false,
      };
    }
    if (d.uses === undefined) return { addresses: [], head: false }; // the Gateway merges/passes on
    const shards = d.shards ?? 1;
    const replicas = d.replicas ?? 1;
    const spawn = (uses: ExecutorClass | string, label: string, shardId: number, n: number, port = 0) =>
      this.startReplicas({ d, uses, label, shardId, shards, replicas: n, port, timeoutMs, aux: false });
    const spawnAux = (uses: ExecutorClass | string, label: string) =>
      this.startReplicas({ d, uses, label, shardId: 0, shards, replicas: 1, port: 0, timeoutMs, aux: true });
    if (shards === 1) {
      const port = typeof d.port === 'number' && replicas === 1 ? d.port : 0;
      return { addresses: await spawn(d.uses, d.name, 0, replicas, port), head: false };
    }
    const [shardAddresses, usesBefore, usesAfter] = await Promise.all([
      Promise.all(
        Array.from({ length: shards }, (_, i) => spawn(d.uses!, `${d.name}/shard-${i}`, i, replicas)),
      ),
      d.usesBefore ? spawnAux(d.usesBefore, `${d.name}/uses-before`) : undefined,
      d.usesAfter ? spawnAux(d.usesAfter, `${d.name}/uses-after`) : undefined,
    ]);
    const config: HeadProcessConfig = {
      name: d.name,
      host: '127.0.0.1',
      port: 0,
      shards: shardAddresses,
      polling: d.polling,
      usesBefore,
      usesAfter,
      noReduce: d.noReduce,
      timeoutSendMs: this.gateway.timeoutSend,
      retries: this.gateway.retries,
      compression: this.gateway.compression,
      observability: await this.observabilityOf(d, `${d.name}/head`, undefined),
    };
    const head = await spawnRuntime({
      role: 'head',
      name: `${d.name}/head`,
      config,
      timeoutMs,
      onSpawn: (p) => this.spawned.add(p),
    });
    if (this.spawned.has(head.process)) this.children.push(head);
    return { addresses: [`127.0.0.1:${head.ports[0]}`], head: true };
  }

  /** Starts `replicas` processes of one Executor (one shard, or a uses-before/after); their addresses. */
  private async startReplicas(spec: {
    d: Deployment;
    uses: ExecutorClass | string;
    /** The process name in logs: `name`, `name/shard-0`, `name/uses-before`... */
    label: string;
    shardId: number;
    shards: number;
    replicas: number;
    port: number;
    timeoutMs: number;
    /** A uses-before/after: named after its label, without the Executor's usesWith and metas. */
    aux: boolean;
  }): Promise<string[]> {
    const { d, uses, replicas } = spec;
    const ref: ExecutorProcessConfig['uses'] =
      typeof uses === 'string' ? { spec: uses } : { module: definingFile(uses), className: uses.name };
    if (typeof uses !== 'string' && ref.module === undefined) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `cannot tell which file defines ${uses.name}: decorate one of its methods with @requests, or pass uses as 'file.ts:${uses.name}'`,
      );
    }
    const { aux } = spec;
    const name = aux ? spec.label : d.name;
    return Promise.all(
      Array.from({ length: replicas }, async (_, i) => {
        const processName = replicas > 1 ? `${spec.label}/rep-${i}` : spec.label;
        // The given metrics port goes to the Executor's first process; the others get free ones.
        const first = i === 0 && !aux && spec.shardId === 0;
        const config: ExecutorProcessConfig = {
          name,
          uses: ref,
          usesWith: aux ? {} : (d.usesWith ?? {}),
          dynamicBatching: aux ? undefined : d.usesDynamicBatching,
          metas: aux ? { name } : { ...d.metas, name },
          runtimeArgs: { shardId: spec.shardId, shards: spec.shards, replicaId: i, replicas },
          host: '127.0.0.1',
          port: spec.port,
          observability: await this.observabilityOf(d, processName, first ? d.portMonitoring : undefined),
        };
        return spawnRuntime({
          role: 'executor',
          name: processName,
          config,
          env: d.env,
          timeoutMs: spec.timeoutMs,
          onSpawn: (p) => this.spawned.add(p),
        }).then((c) => {
          // Not when close() already stopped it (a sibling failed while this one was starting).
          if (this.spawned.has(c.process)) {
            this.children.push(c);
            this.superviseReplica(c, config, d);
          }
          return `127.0.0.1:${c.ports[0]}`;
        });
      }),
    );
  }

  /** Restarts an Executor process that exits on its own, on the same port (see `restartPolicy`). */
  private superviseReplica(child: RunningChild, config: ExecutorProcessConfig, d: Deployment): void {
    supervise(child, {
      policy: d.restartPolicy,
      maxRestarts: d.maxRestarts,
      closing: () => this.closing,
      respawn: async () => {
        const next = await spawnRuntime({
          role: 'executor',
          name: child.name,
          config: { ...config, port: child.ports[0]! },
          env: d.env,
          timeoutMs: this.options.timeoutReady ?? 60_000,
          onSpawn: (p) => this.spawned.add(p),
        });
        // close() ran while it was starting: it must not outlive the Flow
        if (this.closing) await stopChild(next.process);
        return next;
      },
      onRestart: (next) => {
        this.children = this.children.filter(
          (c) => c.process.exitCode === null && c.process.signalCode === null,
        );
        for (const p of this.spawned)
          if (p.exitCode !== null || p.signalCode !== null) this.spawned.delete(p);
        this.children.push(next);
      },
    });
  }

  /** Stops the Gateway (which waits for floating work), then every Executor. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.stopContainer) await this.stopContainer();
    else if (this.gatewayChild) await stopChild(this.gatewayChild.process);
    this.gatewayChild = undefined;
    this.stopContainer = undefined;
    // Every spawned process, including those still starting when start() failed: an Executor that
    // becomes ready after a sibling failed must not outlive the Flow.
    const all = [...this.spawned];
    this.spawned.clear();
    this.children = [];
    await Promise.all(all.map((p) => stopChild(p)));
    this.started = false;
  }

  /** Serves until SIGINT or SIGTERM, then closes. */
  async block(): Promise<void> {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A Flow from a Flow YAML file (`jtype: Flow`, `with:`, `gateway:`, `executors:`), validated:
   * an unknown key or a wrong type is rejected with the file, line and key.
   *
   * @example
   * ```ts
   * const flow = await Flow.load('flow.yml');
   * await flow.start();
   * ```
   */
  static async load(path: string): Promise<Flow> {
    return Flow.fromSpec(await loadFlowSpec(path));
  }

  /** A Flow from a validated {@link FlowSpec}. */
  static fromSpec(spec: FlowSpec): Flow {
    const flow = new Flow({ timeoutReady: spec.with.timeoutReady });
    const { uses, modules, ...gateway } = spec.gateway;
    const firstModule = [modules ?? []].flat()[0];
    // `uses: MyGateway` with `modules: gw.ts` names a class in that module
    const gwUses = uses !== undefined && firstModule && /^\w+$/.test(uses) ? `${firstModule}:${uses}` : uses;
    flow.configGateway(gwUses === undefined ? gateway : { ...gateway, uses: gwUses });
    for (const e of spec.executors) {
      const { modules: mods, env, uses: u, ...rest } = e;
      const first = [mods ?? []].flat()[0];
      const options: AddOptions = { ...(rest as AddOptions) };
      // `uses: MyExec` with `modules: my_exec.ts` names a class in that module
      if (u !== undefined) options.uses = first && /^\w+$/.test(u) ? `${first}:${u}` : u;
      if (env) options.env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
      flow.add(options);
    }
    return flow;
  }

  /** This Flow as a {@link FlowSpec}: Executor classes become `file.ts:ClassName`. */
  toSpec(): FlowSpec {
    const executors = this.deployments.map((d): ExecutorSpec => {
      const { needsList, uses, ...rest } = d;
      const spec = { name: rest.name } as Record<string, unknown>;
      if (typeof uses === 'function') {
        const file = definingFile(uses);
        if (!file)
          throw new FlowgateError(
            Code.InvalidArgument,
            `cannot tell which file defines ${uses.name}, so it cannot be saved`,
          );
        spec.uses = `${file.startsWith('file:') ? fileURLToPath(file) : file}:${uses.name}`;
      } else if (uses !== undefined) spec.uses = uses;
      Object.assign(spec, rest);
      if (needsList.length !== 1 || needsList[0] !== this.previousOf(d))
        spec.needs = needsList.length === 1 ? needsList[0] : needsList;
      return spec;
    });
    const withSpec =
      this.options.timeoutReady === undefined ? {} : { timeoutReady: this.options.timeoutReady };
    const { uses: gwUses, usesModule: _usesModule, ...gateway } = this.gateway;
    if (typeof gwUses === 'function') {
      const file = this.gatewayModule;
      if (!file)
        throw new FlowgateError(
          Code.InvalidArgument,
          `cannot tell which file defines the Gateway ${gwUses.name}, so it cannot be saved`,
        );
      return {
        jtype: 'Flow',
        with: withSpec,
        gateway: {
          ...gateway,
          uses: `${file.startsWith('file:') ? fileURLToPath(file) : file}:${gwUses.name}`,
        },
        executors,
      };
    }
    return {
      jtype: 'Flow',
      with: withSpec,
      gateway: gwUses === undefined ? gateway : { ...gateway, uses: gwUses },
      executors,
    };
  }

  /** The Executor a deployment follows by default (the last non-floating one before it). */
  private previousOf(d: Deployment): string {
    const before = this.deployments.slice(0, this.deployments.indexOf(d));
    return before.reverse().find((x) => !x.floating)?.name ?? GATEWAY_NODE;
  }

  /**
   * Draws the graph as SVG (replicas, shards, floating Executors and conditions shown) and writes
   * it to `path` when given; returns the SVG text.
   *
   * @example
   * ```ts
   * await flow.plot('flow.svg');
   * ```
   */
  async plot(path?: string, options: { vertical?: boolean } = {}): Promise<string> {
    const svg = renderFlowchart(this.toSpec(), options);
    if (path) await writeFile(path, svg);
    return svg;
  }

  /**
   * The picture the HTTP Gateway's live page (`/flow`) shows; none when no built-in HTTP Gateway
   * serves, or when the graph cannot be described (a class whose file cannot be told).
   */
  private livePicture(protocols: readonly string[]): string | undefined {
    if (!protocols.includes('http')) return undefined;
    try {
      return renderFlowchart(this.toSpec());
    } catch {
      return undefined;
    }
  }

  /**
   * Writes this Flow as Flow YAML; `Flow.load` reads it back. Paths are written relative to the
   * file's folder.
   */
  async save(path: string): Promise<void> {
    await writeFile(path, stringifyFlowSpec(this.toSpec(), dirname(resolve(path))));
  }
}
