import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Client, ClientOptions, PostInputs, PostOptions } from '../client/client.js';
import type { StreamDocClientOptions } from '../client/stream.js';
import type { Document } from '../document/document.js';
import type { DocumentArray } from '../document/document-array.js';
import { withGatewayYaml } from '../config/gateway-yaml.js';
import { loadFlowSpec, stringifyFlowSpec } from '../config/load.js';
import type { FlowSpec } from '../config/schemas.js';
import { Code, FlowgateError } from '../core/errors.js';
import { shareLogFormat } from '../core/logger.js';
import type { ExecutorClass } from '../executor/executor.js';
import { parseBatchingConfig } from '../executor/dynamic-batching.js';
import { callerFile } from '../executor/requests.js';
import { authHookRef } from '../gateway/auth.js';
import type { Protocol } from '../gateway/gateway.js';
import { checkTlsPair } from '../gateway/security.js';
import { GATEWAY_NODE, buildTopology } from '../gateway/topology.js';
import { isChildProcess, markChildFlowStart, registerClass } from '../runtime/class-registry.js';
import { renderFlowchart } from './export/flowchart.js';
import { startFlowGateway } from './flow-gateway.js';
import {
  checkAddOptions,
  checkFlowOptions,
  checkGatewayOptions,
  gatewayProcessOptions,
  type AddOptions,
  type FlowOptions,
  type GatewayConfigOptions,
} from './flow-options.js';
import {
  executorEntry,
  gatewayListeners,
  gatewayRouting,
  readyTimeout,
  topologyNodes,
  type ExecutorEntry,
  type GatewayEntry,
} from './flow-plan.js';
import { flowClient } from './flow-client.js';
import { FlowRun } from './flow-run.js';
import {
  addOptionsOfSpec,
  executorSpecOf,
  flowSpecOf,
  gatewayOptionsOfSpec,
  gatewaySpecOf,
} from './flow-spec.js';

export { gatewayProcessOptions };
export type { AddOptions, FlowOptions, GatewayConfigOptions };

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
  private readonly executors: ExecutorEntry[] = [];
  /** The Gateway options; an `authenticate` function is kept as its `module:name` reference. */
  private gateway: GatewayEntry = {};
  /** The file the Gateway process imports to find a custom Gateway class. */
  private gatewayModule: string | undefined;
  private readonly options: FlowOptions;
  private run: FlowRun | undefined;
  private _protocols: Protocol[] = ['grpc'];
  /** The Client of `post()`, made on first use. */
  private client: Client | undefined;

  constructor(options: FlowOptions = {}) {
    this.options = checkFlowOptions(options);
  }

  /** Configures the Gateway (protocols, ports, timeouts...). */
  configGateway(options: GatewayConfigOptions): this {
    options = checkGatewayOptions(withGatewayYaml(checkGatewayOptions(options)));
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
    const name = options.name ?? `executor${this.executors.length}`;
    if (this.executors.some((d) => d.name === name)) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `two Executors are named '${name}': names must be unique`,
      );
    }
    const checked = checkAddOptions(options, `Executor '${name}'`);
    if (checked.usesDynamicBatching)
      parseBatchingConfig(checked.usesDynamicBatching, `Executor '${name}': usesDynamicBatching`);
    if (isChildProcess()) {
      for (const u of [checked.uses, checked.usesBefore, checked.usesAfter])
        if (typeof u === 'function') registerClass(u);
    }
    this.executors.push(executorEntry({ ...checked, name }, this.lastNonFloating()));
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
    const needed = new Set(this.executors.flatMap((d) => d.needsList));
    const open = this.executors.filter((d) => !needed.has(d.name) && !d.floating).map((d) => d.name);
    if (open.length >= 2) return this.needs(open, options);
    return this.add({ name: 'joiner', ...options, needs: open.length === 1 ? open : GATEWAY_NODE });
  }

  private lastNonFloating(before = this.executors.length): string {
    return (
      this.executors
        .slice(0, before)
        .reverse()
        .find((d) => !d.floating)?.name ?? GATEWAY_NODE
    );
  }

  /** The first port of the Gateway. */
  get port(): number {
    return this.run?.ports[0] ?? 0;
  }
  /** Every port of the Gateway, one per protocol. */
  get ports(): number[] {
    return [...(this.run?.ports ?? [])];
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
    return { ...this.run?.monitoringPorts };
  }

  /**
   * The process ids of the running parts (every Executor replica, then the Gateway); empty before
   * `start()` and after `close()`. For monitoring and for tests that check nothing outlives the Flow.
   */
  get pids(): number[] {
    return this.run?.pids ?? [];
  }

  /** Starts every Executor, then the Gateway; resolves when all are ready. */
  async start(): Promise<this> {
    if (isChildProcess()) {
      markChildFlowStart(); // the class loader's cue: this script registers no more classes
      return new Promise<never>(() => undefined);
    }
    if (this.run) return this;
    shareLogFormat(); // the processes log pretty lines too when this one's stderr is a terminal
    const nodes = topologyNodes(this.executors);
    buildTopology(nodes); // reject a broken graph before anything starts
    this._protocols = gatewayListeners(this.gateway).protocols;
    const run = new FlowRun(this.gateway, readyTimeout(this.options.timeoutReady));
    this.run = run;
    try {
      const addresses: Record<string, string[]> = {};
      const heads: string[] = [];
      const routing = Promise.all(
        this.executors.map(async (d) => {
          const started = await run.startExecutor(d);
          if (started.addresses.length > 0) addresses[d.name] = started.addresses;
          if (started.head) heads.push(d.name);
        }),
      ).then(() => ({ addresses, heads, ...gatewayRouting(this.executors) }));
      await startFlowGateway(run, {
        gateway: this.gateway,
        gatewayModule: this.gatewayModule,
        nodes,
        routing,
        picture: (protocols) => this.livePicture(protocols),
      });
    } catch (err) {
      await this.close();
      throw err;
    }
    return this;
  }

  /**
   * Posts to this started Flow with the Client (`Client.post`), over the Gateway's first protocol;
   * `options.client` overrides the Client's options (`caFile`, `protocol`...).
   *
   * @example
   * ```ts
   * await flow.start();
   * const docs = await flow.post('/index', new DocumentArray([{ text: 'hi' }]), { requestSize: 10 });
   * ```
   */
  async post(
    on: string,
    inputs?: PostInputs,
    options: PostOptions & { client?: ClientOptions } = {},
  ): Promise<DocumentArray> {
    const { client: overrides, ...postOptions } = options;
    if (overrides) {
      await using client = flowClient(this._protocols, this.ports, this.gateway, overrides);
      return client.post(on, inputs, { ...postOptions, returnResponses: false });
    }
    this.client ??= flowClient(this._protocols, this.ports, this.gateway);
    return this.client.post(on, inputs, { ...postOptions, returnResponses: false });
  }

  /**
   * Streams from a streaming endpoint of this started Flow with the Client (`Client.streamDoc`),
   * over the Gateway's first protocol; `options.client` overrides the Client's options. Leaving
   * the loop early (`break`) cancels the stream end to end.
   *
   * @example
   * ```ts
   * await flow.start();
   * for await (const token of flow.streamDoc({ on: '/generate', inputs: { text: 'hello world' } }))
   *   process.stdout.write(`${token.text} `);
   * ```
   */
  async *streamDoc(options: StreamDocClientOptions & { client?: ClientOptions }): AsyncGenerator<Document> {
    const { client: overrides, ...streamOptions } = options;
    if (overrides) {
      await using client = flowClient(this._protocols, this.ports, this.gateway, overrides);
      yield* client.streamDoc(streamOptions);
      return;
    }
    this.client ??= flowClient(this._protocols, this.ports, this.gateway);
    yield* this.client.streamDoc(streamOptions);
  }

  /** Stops the Gateway (which waits for floating work), then every Executor. */
  async close(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.close();
    await run?.close();
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
    const flow = new Flow(spec.with);
    flow.configGateway(gatewayOptionsOfSpec(spec.gateway));
    for (const e of spec.executors) flow.add(addOptionsOfSpec(e));
    return flow;
  }

  /** This Flow as a {@link FlowSpec}: Executor classes become `file.ts:ClassName`. */
  toSpec(): FlowSpec {
    return flowSpecOf({
      with: { ...this.options },
      gateway: gatewaySpecOf(this.gateway, this.gatewayModule),
      executors: this.executors.map((d, i) => executorSpecOf(d, this.lastNonFloating(i))),
    });
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
