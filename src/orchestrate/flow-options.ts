import { Code, FlowgateError } from '../core/errors.js';
import type { DynamicBatchingConfig } from '../executor/dynamic-batching.js';
import type { ExecutorClass } from '../executor/executor.js';
import type { AuthHook } from '../gateway/auth.js';
import type { GatewayClass, Protocol } from '../gateway/gateway.js';
import type { JsonObject } from '../proto/struct.js';
import type { Polling } from '../runtime/head.js';
import { observabilitySettings, type ObservabilitySettings } from '../runtime/observability.js';
import type { Compression } from '../transport/grpc/link.js';
import type { GatewayProcessConfig } from './process-config.js';
import type { RestartPolicy } from './supervisor.js';

/**
 * The options of a Flow, of its Executors (`flow.add`) and of its Gateway (`flow.configGateway`),
 * and the checks made when they are given (before anything starts).
 */

/**
 * Options of {@link Flow.add}. `monitoring`, `portMonitoring` (the first process's; the others get
 * free ports, see `flow.monitoringPorts`), `tracing`, `tracesExporterHost` and `tracesExporterPort`
 * apply to every process of the Executor, its head included (see docs/observability.md).
 */
export interface AddOptions extends ObservabilitySettings {
  /** An Executor class, a module path (`exec.ts` or `exec.ts:ClassName`), or an Executor YAML file. */
  uses?: ExecutorClass | string;
  /** Unique name in the Flow; default `executor<N>`. */
  name?: string;
  /** Constructor arguments of the Executor. */
  usesWith?: Record<string, unknown>;
  /**
   * Dynamic batching per endpoint, e.g. `{ '/embed': { preferredBatchSize: 32, timeout: 10 } }`
   * (snake_case keys too): overrides the `@dynamicBatching` decorators key by key.
   */
  usesDynamicBatching?: DynamicBatchingConfig;
  /** Extra `metas` for the Executor. */
  metas?: Record<string, unknown>;
  /** Environment variables of the Executor's process. */
  env?: Record<string, string>;
  /** Upstream Executors; default: the last non-floating one added. `'gateway'` = from the client. */
  needs?: string | string[];
  /** The Executor gets each request, but the response does not wait for it (nor for its downstream). */
  floating?: boolean;
  /**
   * Only documents matching this filter (docarray v1 query language, e.g.
   * `{ tags__key: { $eq: 5 } }`) reach this Executor and its downstream.
   */
  when?: JsonObject;
  /**
   * At a join: hand the Executor every upstream part (`docsMatrix`, `docsMap`) instead of one request
   * reduced by document id. With shards: concatenate the shards' documents instead of reducing them.
   */
  noReduce?: boolean;
  /** Number of processes serving this Executor (of each shard, with `shards`); default 1. */
  replicas?: number;
  /** Split the Executor into this many shards behind a head; default 1 (no head). */
  shards?: number;
  /**
   * With shards: send each request to one shard (`'ANY'`, default) or to all (`'ALL'`), or choose
   * per endpoint: `{ '/search': 'ALL', '*': 'ANY' }`. `/search` is ALL and `/index` ANY unless named.
   */
  polling?: Polling;
  /** With shards: an Executor every request goes through before the shards. */
  usesBefore?: ExecutorClass | string;
  /** With shards: an Executor that receives all shards' answers (as `docsMatrix`) and answers. */
  usesAfter?: ExecutorClass | string;
  /** For an external Executor: where it already runs (a list of hosts = replicas; `'h:p'` allowed). */
  host?: string | string[];
  port?: number | number[];
  external?: boolean;
  /**
   * Reach this (external) Executor over TLS, trusting the system's CAs (and `NODE_EXTRA_CA_CERTS`);
   * it serves TLS with `flowgate executor --ssl-certfile --ssl-keyfile`. Off by default, as in the
   * original; the Flow's own Executors listen on loopback without TLS.
   */
  tls?: boolean;
  /**
   * When one of its processes exits on its own: `'on-failure'` (default) restarts it after a crash
   * (non-zero exit, a signal), `'always'` after any exit, `'never'` leaves it down. Restarts back
   * off exponentially (0.5 s doubling to 30 s) on the same port.
   */
  restartPolicy?: RestartPolicy;
  /** Restarts in a row before giving up (the count resets after a minute up); default 10. */
  maxRestarts?: number;
}

/**
 * Options of {@link Flow.configGateway}; `monitoring`, `portMonitoring`, `tracing`,
 * `tracesExporterHost` and `tracesExporterPort` are the Gateway's (see docs/observability.md).
 */
export interface GatewayConfigOptions extends ObservabilitySettings {
  protocol?: Protocol | Protocol[];
  /**
   * One port per protocol (as the original), or ONE port for several built-in protocols: gRPC
   * (HTTP/2), REST, WebSocket, GraphQL and gRPC-Web all on it (`port: 0` lets the OS choose it).
   * Any other count is an error. Unset: every protocol gets its own free port.
   */
  port?: number | number[];
  host?: string;
  /**
   * Per-call deadline from the Gateway to an Executor (and from a head to a shard), ms; none by
   * default. A call that runs out fails the request with DEADLINE_EXCEEDED (HTTP 504), naming the
   * Executor and its address.
   */
  timeoutSend?: number;
  /**
   * What is repeated on another replica. Default (-1): only calls that never reached a replica (it
   * could not be connected to), up to max(3, replicas) attempts; a call that may have run (the
   * replica died while working on it, or `timeoutSend` passed) fails the request instead of running
   * twice. `N >= 0`: also repeat up to N such calls that failed with UNAVAILABLE or DEADLINE_EXCEEDED;
   * an Executor may then see a request twice.
   */
  retries?: number;
  /**
   * Requests in flight per client stream at most; the Gateway stops reading the client while at the
   * limit, so its memory stays bounded. Default 1000; 0 = unlimited. A client may lower it per call.
   */
  prefetch?: number;
  compression?: Compression;
  /** HTTP: allow cross-origin requests from any origin. */
  cors?: boolean;
  /** HTTP/WebSocket: no `/post`, `/status`, `/dry_run`. */
  noDebugEndpoints?: boolean;
  /** HTTP: no `/index`, `/search`, `/update`, `/delete`. */
  noCrudEndpoints?: boolean;
  /**
   * HTTP: serve an Executor endpoint on another path or method, e.g.
   * `{ '/foo': { methods: ['GET'], path: '/bar', summary: 'Foo' } }`.
   */
  exposeEndpoints?: Record<
    string,
    { methods?: string[]; path?: string; summary?: string; description?: string }
  >;
  /** HTTP: also serve GraphQL at `/graphql`. */
  exposeGraphqlEndpoint?: boolean;
  /**
   * A custom Gateway, served instead of the built-in ones: a {@link Gateway} subclass (defined in,
   * or imported by, the file that calls `configGateway`, or in `usesModule`) or `'gw.ts:MyGateway'`.
   * Give `port` and `protocol`: the Flow health-checks the first port (`GET /` = 200, or gRPC
   * health for `grpc`) before `start()` resolves.
   */
  uses?: GatewayClass | string;
  /** Constructor arguments of the custom Gateway (JSON-safe), next to the injected values. */
  usesWith?: Record<string, unknown>;
  /** The file that defines or imports the `uses` class; default: the file calling `configGateway`. */
  usesModule?: string;
  /** HTTP: the OpenAPI title and description. */
  title?: string;
  /** The largest request or response the Gateway accepts or sends, bytes (default 64 MiB). */
  maxMessageBytes?: number;
  /**
   * How long a client may take to send one HTTP request, or leave WebSocket responses unread,
   * before the Gateway cuts it off, ms; 0 = no limit. Default 60 s.
   */
  slowClientTimeout?: number;
  /** PEM certificate of the Gateway: with `sslKeyfile`, TLS on every protocol (see docs/security.md). */
  sslCertfile?: string;
  /** PEM private key of `sslCertfile`. */
  sslKeyfile?: string;
  /** Shared secret: data and info routes need `Authorization: Bearer <token>` (or FLOWGATE_AUTH_TOKEN). */
  authToken?: string;
  /**
   * A check run on every request: a named function of the file calling `configGateway` (the Gateway
   * process imports that file again and finds it by name), or `'auth.ts:check'` (relative to the
   * working directory).
   */
  authenticate?: AuthHook | string;
  /** Request headers / gRPC metadata handed to Executors as `metadata` (an allow-list). */
  forwardMetadata?: string | string[];
  description?: string;
}

/** The options of {@link GatewayConfigOptions} that only built-in Gateways read. */
export const BUILTIN_GATEWAY_OPTIONS = [
  'cors',
  'noDebugEndpoints',
  'noCrudEndpoints',
  'exposeEndpoints',
  'exposeGraphqlEndpoint',
  'title',
  'description',
  'maxMessageBytes',
  'sslCertfile',
  'sslKeyfile',
  'authToken',
  'authenticate',
  'forwardMetadata',
  'slowClientTimeout',
] as const;

/**
 * The process-config part of Gateway options (a Flow's Gateway, or `flowgate gateway` standalone):
 * timeouts, retries, prefetch, compression, usesWith, and what only built-in Gateways read.
 */
export function gatewayProcessOptions(
  gateway: GatewayConfigOptions,
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

/** Options of the Flow itself. */
export interface FlowOptions {
  /** How long `start()` waits for each part, ms. Default 60 s. */
  timeoutReady?: number;
}

export function checkCount(name: string, option: 'replicas' | 'shards', value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1))
    throw new FlowgateError(
      Code.InvalidArgument,
      `Executor '${name}': ${option} must be a positive integer, got ${String(value)}`,
    );
}

export function checkPolling(name: string, polling: Polling | undefined): void {
  if (polling === undefined) return;
  const isMap = typeof polling === 'object' && polling !== null;
  const values: unknown[] = typeof polling === 'string' ? [polling] : isMap ? Object.values(polling) : [];
  if ((typeof polling !== 'string' && !isMap) || values.some((v) => v !== 'ANY' && v !== 'ALL'))
    throw new FlowgateError(
      Code.InvalidArgument,
      `Executor '${name}': polling must be 'ANY', 'ALL' or a map of endpoints to them, got ${JSON.stringify(polling)}`,
    );
}
