import { createServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import { consoleLogger } from '../core/logger.js';
import { gracePeriodFromEnv } from '../runtime/graceful-stop.js';
import { Observability, type ObservabilityOptions } from '../runtime/observability.js';
import { TRACE_CONTEXT_KEYS } from '../runtime/trace-context.js';
import type { Compression } from '../transport/grpc/link.js';
import { loadBuiltinGateway, loadGraphqlRoutes } from './builtin-gateways.js';
import { startMemoryRelief, type MemoryRelief } from './memory-relief.js';
import { isOnePort, startOnePort, type RunningOnePort } from './one-port-runtime.js';
import { ConnectionPool, type DeploymentCallOptions } from '../gateway/connection-pool.js';
import { executorStreamers } from '../gateway/executor-streamer.js';
import { StreamWalker } from '../gateway/stream-walker.js';
import { FlowStats } from '../gateway/flow-stats.js';
import type { Gateway, GatewayClass, Protocol } from '../gateway/gateway.js';
import { GraphWalker } from '../gateway/graph-walker.js';
import { drainGateways } from '../gateway/readiness.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  resolveGatewaySecurity,
  type GatewaySecurity,
  type GatewaySecurityOptions,
} from '../gateway/security.js';
import { GatewayStreamer } from '../gateway/streamer.js';
import { buildTopology, type TopologyNode } from '../gateway/topology.js';

/** Everything a Gateway process needs to know. */
export interface GatewayConfig {
  name?: string;
  host?: string;
  protocols?: Protocol[];
  /**
   * One port per protocol; a missing or 0 port is chosen by the OS when the server binds (a custom
   * Gateway that does not call `reportListening` gets a free port chosen beforehand).
   */
  ports?: number[];
  /** The graph of Executors. */
  nodes?: TopologyNode[];
  /** The node feeding the response (default: the last non-floating). */
  output?: string;
  /** Deployment name -> replica addresses (`host:port`), or its head's address when it has shards. */
  addresses?: Record<string, string[]>;
  /** The deployments whose address is a head (sharded deployments). */
  heads?: string[];
  /** The deployments reached over TLS (see `ConnectionPoolOptions.tls`). */
  tls?: string[];
  /** Per-call deadline from the Gateway to an Executor (or head), ms; undefined = none. */
  timeoutSendMs?: number;
  /**
   * Repeating failed calls: unset/-1 moves only calls that never reached a replica; `N >= 0` also
   * repeats up to N calls that may have run (see `ReplicaSetOptions.retries`).
   */
  retries?: number;
  /**
   * Deployment name -> its own `timeoutSendMs` / `retries` (an Executor's `timeoutSend` and
   * `retries` in a Flow); `timeoutSendMs` and `retries` above are the default.
   */
  calls?: Record<string, DeploymentCallOptions>;
  /** Requests in flight per client stream at most (default 1000; 0 = unlimited). */
  prefetch?: number;
  compression?: Compression;
  /** A custom Gateway class, built instead of the built-in ones. */
  uses?: GatewayClass;
  /** Constructor arguments of the custom Gateway. */
  usesWith?: Record<string, unknown>;
  /**
   * Extra options passed to built-in Gateways (CORS...), and the security options every Gateway of
   * the process shares: TLS, authentication, forwarded metadata, limits (see `docs/security.md`).
   */
  gatewayOptions?: GatewaySecurityOptions & Record<string, unknown>;
  credentials?: grpc.ServerCredentials;
  /**
   * How long `close()` (SIGTERM) drains, ms; default `FLOWGATE_GRACE_PERIOD_MS` from the
   * environment, else 20 s (see `drainGateways`).
   */
  gracePeriodMs?: number;
  /** How often Executor addresses that are host names are resolved again, ms (see `ReplicaSet`). */
  resolveIntervalMs?: number;
  /** Prometheus metrics and OpenTelemetry tracing of this Gateway process (see `docs/observability.md`). */
  observability?: ObservabilityOptions;
  /** The Flow's picture (SVG text, from the Flow) that the HTTP Gateway's `/flow` page shows. */
  flowchartSvg?: string;
  /**
   * Give memory back after big requests: one full garbage collection when the process is idle and
   * its resident memory this many MB above its level after the last one (see `memory-relief.ts`).
   * 0 or absent: off (the process may not be the Gateway's own); a Gateway process has it at
   * `FLOWGATE_MEMORY_RELIEF_MB` (default 64).
   */
  memoryReliefMb?: number;
}

/** A free TCP port on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Builds the streamer for a graph and runs the Gateway(s) in this process: the custom class if one
 * is given, else one built-in Gateway per protocol, each on its own port.
 *
 * @example
 * ```ts
 * const rt = new GatewayRuntime({ protocols: ['grpc'], nodes: [{ name: 'a', needs: ['gateway'] }],
 *   addresses: { a: ['127.0.0.1:5001'] } });
 * const ports = await rt.start();
 * ```
 */
export class GatewayRuntime {
  private gateways: Gateway[] = [];
  private running: Promise<void>[] = [];
  private pool: ConnectionPool | undefined;
  private closing: Promise<void> | undefined;
  private observability: Observability | undefined;
  /** Gives memory back after big requests (see `memory-relief.ts`). */
  private relief: MemoryRelief | undefined;
  streamer: GatewayStreamer | undefined;
  /** With one port for several protocols: the listener in front of the Gateways. */
  private front: RunningOnePort | undefined;
  ports: number[] = [];

  /** The Gateways this runtime serves, one per port (known from `start()` on). */
  get served(): readonly Gateway[] {
    return this.gateways;
  }

  /** The port the Prometheus metrics are served on, when `observability.monitoring` is on. */
  get monitoringPort(): number | undefined {
    return this.observability?.monitoringPort;
  }

  constructor(private readonly config: GatewayConfig) {}

  async start(): Promise<number[]> {
    const c = this.config;
    const host = c.host ?? '127.0.0.1';
    const protocols = c.protocols ?? ['grpc'];
    const given = c.ports ?? [];
    // One port for several built-in protocols (see one-port.ts); else one port per protocol.
    const onePort = isOnePort(protocols, given, c.uses !== undefined);
    if (!onePort && given.length > 0 && given.length !== protocols.length && !(c.uses && given.length >= 1)) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `${protocols.length} protocols (${protocols.join(', ')}) but ${given.length} ports: give one port per protocol, or one port for all`,
      );
    }
    const ports: number[] = [];
    // Built-in servers bind port 0 and report the port they got (no race with other processes
    // between choosing a port and binding it); a custom Gateway may not report, so it gets one.
    for (let i = 0; i < protocols.length; i++) ports.push(given[i] || (c.uses ? await freePort(host) : 0));
    this.ports = ports;
    const topology = buildTopology(c.nodes ?? [], c.output);
    const missing = topology.nodes
      .filter((n) => !n.passThrough && !(c.addresses?.[n.name]?.length ?? 0))
      .map((n) => n.name);
    if (missing.length > 0)
      throw new FlowgateError(Code.InvalidArgument, `no address for Executor(s) ${missing.join(', ')}`);
    const name = c.name ?? 'gateway';
    const obs = await Observability.start(name, c.observability, host);
    this.observability = obs;
    const flowStats = new FlowStats({
      names: topology.nodes.filter((n) => !n.passThrough).map((n) => n.name),
      health: () => this.pool?.health() ?? {},
    });
    const pool = new ConnectionPool(c.addresses ?? {}, {
      onCall: flowStats.record,
      metrics: obs?.metrics,
      timeoutSendMs: c.timeoutSendMs,
      retries: c.retries,
      calls: c.calls,
      compression: c.compression,
      heads: c.heads,
      tls: c.tls,
      resolveIntervalMs: c.resolveIntervalMs,
    });
    this.pool = pool;
    const security = resolveGatewaySecurity(c.gatewayOptions ?? {});
    // A client's W3C trace context reaches the walker as forwarded metadata (every protocol).
    if (obs?.tracing)
      security.forwardMetadata = [...new Set([...(security.forwardMetadata ?? []), ...TRACE_CONTEXT_KEYS])];
    const logger = consoleLogger(name);
    const walker = new GraphWalker(topology, pool, logger, obs?.tracing);
    const streams = new StreamWalker(topology, pool, obs?.metrics, obs?.tracing);
    const streamer = new GatewayStreamer(walker, pool, c.prefetch ?? 1000, obs?.metrics, streams);
    this.streamer = streamer;
    GatewayStreamer.setCurrent(streamer);
    const common = {
      name,
      host,
      streamer,
      executor: executorStreamers(pool),
      logger,
      runtimeArgs: { ...c } as Record<string, unknown>,
      protocols,
      ports,
    };
    if (c.uses) {
      const g = new c.uses({ ...(c.usesWith ?? {}), ...common, port: ports[0]! });
      g.inject({ ...common, port: ports[0]! });
      // A FastifyBaseGateway gets TLS and authentication; other custom Gateways serve their own way.
      (g as Partial<{ useSecurity(s: GatewaySecurity): void }>).useSecurity?.(security);
      this.gateways.push(g);
    } else {
      // Only the Gateways this process serves are imported (see builtin-gateways.ts).
      const classes = await Promise.all(protocols.map((p) => loadBuiltinGateway(p)));
      protocols.forEach((protocol, i) => {
        const cls = classes[i];
        if (!cls)
          throw new FlowgateError(Code.Unimplemented, `no built-in Gateway serves protocol '${protocol}'`);
        const g = new cls({
          ...(c.gatewayOptions ?? {}),
          ...common,
          ...security,
          credentials: c.credentials,
          flowStats,
          flowchartSvg: c.flowchartSvg,
          loadGraphqlRoutes,
          port: ports[i]!,
          protocols: [protocol],
          ports: [ports[i]!],
          // On one port the front ends TLS; the Gateways bind nothing.
          ...(onePort ? { attached: true, tls: undefined, credentials: undefined } : {}),
        });
        this.gateways.push(g);
      });
    }
    for (const g of this.gateways) await g.setupServer();
    this.running = this.gateways.map((g) => g.runServer());
    // A server that fails to bind rejects runServer(): surface that instead of hanging. A custom
    // Gateway's runServer() that returns while nothing listens on its port is an error too.
    const bound = c.uses
      ? this.waitListening(host, ports).then(() => ports)
      : Promise.all(this.gateways.map((g) => g.listening));
    const failure = Promise.race(
      this.running.map((p, i) =>
        p.then(() =>
          c.uses
            ? this.returnedEarly(this.gateways[i]!, ports[i]!, bound)
            : new Promise<never>(() => undefined),
        ),
      ),
    );
    this.ports = await Promise.race([failure, bound]);
    if (onePort) {
      this.front = await startOnePort(this.gateways, {
        host,
        port: given[0]!,
        tls: security.tls,
        slowClientTimeout: c.gatewayOptions?.slowClientTimeout as number | undefined,
        logger,
        grpcWeb: {
          streamer,
          authenticator: security.authenticator,
          forwardMetadata: security.forwardMetadata,
          maxMessageBytes: c.gatewayOptions?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
          cors: c.gatewayOptions?.cors === true,
        },
      });
      this.ports = protocols.map(() => this.front!.port);
    }
    const reliefMb = c.memoryReliefMb ?? 0;
    if (reliefMb > 0) this.relief = startMemoryRelief({ thresholdMb: reliefMb });
    return this.ports;
  }

  /** After a Gateway's runServer() returned: rejects unless its port listens within 2 s. */
  private async returnedEarly(g: Gateway, port: number, listened: Promise<unknown>): Promise<never> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 2000)));
    const first = await Promise.race([listened, late]);
    clearTimeout(timer);
    if (first !== 'late') return new Promise<never>(() => undefined);
    throw new FlowgateError(
      Code.FailedPrecondition,
      `${g.constructor.name}.runServer() returned, and nothing listens on port ${port}: runServer() must start the server on this.port and resolve only when it stops (after shutdown())`,
    );
  }

  private async waitListening(host: string, ports: number[]): Promise<void> {
    const { connect } = await import('node:net');
    for (const port of ports) {
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
          const s = connect(port, host);
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        });
        if (ok) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /**
   * Graceful stop (SIGTERM): reports not ready (gRPC NOT_SERVING, HTTP `GET /` 503), keeps serving
   * the requests in flight, shuts every Gateway down within the grace period (see
   * `drainGateways`), waits for floating work, closes connections.
   */
  close(): Promise<void> {
    this.relief?.stop();
    this.closing ??= drainGateways({
      gateways: this.gateways,
      running: this.running,
      inFlight: () => this.pool?.inFlight ?? 0,
      gracePeriodMs: this.config.gracePeriodMs ?? gracePeriodFromEnv(),
    })
      .then(() => this.front?.close())
      .then(() => this.streamer?.close())
      .finally(() => this.observability?.close());
    return this.closing;
  }
}
