import { writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import type { ClientOptions, PostInputs, PostOptions } from '../client/client.js';
import {
  deploymentOptionsSchema,
  loadDeploymentSpec,
  splitDeployment,
  stringifyDeploymentSpec,
  type DeploymentOptions,
  type DeploymentSpec,
} from '../config/deployment.js';
import { validateComponent } from '../config/load.js';
import type { StreamDocClientOptions } from '../client/stream.js';
import type { Document } from '../document/document.js';
import type { DocumentArray } from '../document/document-array.js';
import type { Protocol } from '../gateway/gateway.js';
import { Flow } from './flow.js';

export type { DeploymentOptions };

/**
 * One Executor (with its replicas and shards) served on a port and protocol, without writing a
 * Flow: underneath, a one-Executor Flow, so clients see exactly what that Flow shows (the gRPC
 * services `Call`, `process_single_data`, `dry_run`, `_status`, health and reflection; the HTTP
 * routes and OpenAPI page; WebSocket), and every Flow option of one Executor and its Gateway works.
 *
 * @example
 * ```ts
 * const dep = new Deployment({ uses: Upper, port: 12345, protocol: 'grpc', replicas: 2 });
 * await dep.start();
 * const docs = await dep.post('/', new DocumentArray([{ text: 'hi' }]));
 * await dep.block(); // or: await using dep = await new Deployment({ uses: Upper }).start();
 * ```
 */
export class Deployment {
  private readonly flow: Flow;
  private readonly options: DeploymentOptions;

  constructor(options: DeploymentOptions = {}) {
    this.options = validateComponent(
      deploymentOptionsSchema,
      options,
      { locate: () => 'new Deployment()' },
      [],
      'the Deployment',
    );
    const { flow, gateway, executor } = splitDeployment(this.options);
    this.flow = new Flow(flow).configGateway(gateway).add(executor);
  }

  /** Starts the Executor's processes and its Gateway; resolves when all are ready. */
  async start(): Promise<this> {
    await this.flow.start();
    return this;
  }

  /** The Client's `post` against this Deployment (its first protocol); `options.client` overrides the Client's options. */
  post(
    on: string,
    inputs?: PostInputs,
    options?: PostOptions & { client?: ClientOptions },
  ): Promise<DocumentArray> {
    return this.flow.post(on, inputs, options);
  }

  /**
   * The Client's `streamDoc` against this Deployment (its first protocol): the documents its
   * streaming endpoint yields, as they arrive; `options.client` overrides the Client's options.
   *
   * @example
   * ```ts
   * for await (const token of dep.streamDoc({ on: '/generate', inputs: { text: 'a b c' } }))
   *   console.log(token.text);
   * ```
   */
  streamDoc(options: StreamDocClientOptions & { client?: ClientOptions }): AsyncGenerator<Document> {
    return this.flow.streamDoc(options);
  }

  /** Serves until SIGINT or SIGTERM, then closes. */
  block(): Promise<void> {
    return this.flow.block();
  }

  /** Stops every process. */
  close(): Promise<void> {
    return this.flow.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The first port clients reach it on. */
  get port(): number {
    return this.flow.port;
  }
  /** One port per protocol. */
  get ports(): number[] {
    return this.flow.ports;
  }
  get protocols(): Protocol[] {
    return this.flow.protocols;
  }
  /** True when its Gateway serves TLS (`sslCertfile`). */
  get tls(): boolean {
    return this.flow.tls;
  }
  /** The process ids of its parts (the Executor's processes, then the Gateway). */
  get pids(): number[] {
    return this.flow.pids;
  }
  /** The Prometheus port of every process with `monitoring` on, by process name. */
  get monitoringPorts(): Record<string, number> {
    return this.flow.monitoringPorts;
  }

  /** The one-Executor Flow this Deployment runs (to plot it, or export it). */
  asFlow(): Flow {
    return this.flow;
  }

  /**
   * A Deployment from a Deployment YAML file (`jtype: Deployment` or `!Deployment`, the options
   * under `with:`), validated like a Flow YAML.
   *
   * @example
   * ```ts
   * // dep.yml: jtype: Deployment / with: { uses: Upper, py_modules: upper.ts, port: 12345, replicas: 2 }
   * const dep = await Deployment.load('dep.yml');
   * ```
   */
  static async load(path: string): Promise<Deployment> {
    return new Deployment(await loadDeploymentSpec(path));
  }

  /** This Deployment as its YAML form: Executor classes become `file.ts:ClassName`. */
  toSpec(): DeploymentSpec {
    const executor = this.flow.toSpec().executors[0]!;
    const out: Record<string, unknown> = { ...this.options };
    for (const k of ['uses', 'usesBefore', 'usesAfter'] as const)
      if (executor[k] !== undefined) out[k] = executor[k];
    if (typeof out.authenticate === 'function') out.authenticate = this.flow.toSpec().gateway.authenticate;
    return out;
  }

  /** Writes this Deployment as Deployment YAML (paths relative to the file's folder); `Deployment.load` reads it back. */
  async save(path: string): Promise<void> {
    const base = dirname(resolve(path));
    const rel = (p: unknown) => {
      if (typeof p !== 'string' || !isAbsolute(p.split(':')[0]!)) return p;
      const r = relative(base, p);
      return r.startsWith('..') ? p : r;
    };
    const spec = this.toSpec();
    for (const k of ['uses', 'usesBefore', 'usesAfter'] as const)
      if (spec[k]) spec[k] = rel(spec[k]) as string;
    await writeFile(path, stringifyDeploymentSpec(spec));
  }
}
