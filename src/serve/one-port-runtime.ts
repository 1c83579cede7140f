import type { FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Gateway, Protocol } from '../gateway/gateway.js';
import type { TlsKeyPair } from '../gateway/security.js';
import type { GrpcWebOptions } from '../transport/grpc/server-grpc-web.js';
import type { ConnectionInjector } from '../transport/grpc/rpc-server.js';
import type { OnePortTargets } from './one-port.js';

/**
 * Whether a Gateway process serves several protocols on one port: several built-in protocols and
 * exactly one port given (`configGateway({ protocol: ['grpc', 'http'], port: 12345 })`; port 0
 * lets the OS choose it). One port per protocol keeps one server per protocol, as the original.
 */
export function isOnePort(protocols: Protocol[], ports: number[], custom: boolean): boolean {
  return !custom && protocols.length > 1 && ports.length === 1;
}

/** The one-port front once listening. */
export interface RunningOnePort {
  port: number;
  close(): Promise<void>;
}

/** Options of {@link startOnePort}. */
export interface StartOnePortOptions {
  host: string;
  port: number;
  tls?: TlsKeyPair;
  slowClientTimeout?: number;
  logger: Logger;
  /** gRPC-Web for browsers (served when a gRPC Gateway is on the port). */
  grpcWeb: Omit<GrpcWebOptions, 'logger'>;
}

/**
 * Starts the listener of one port in front of Gateways built with `attached: true` (they are
 * running: their servers exist), handing each connection or request to the Gateway it is for.
 *
 * @example
 * ```ts
 * const front = await startOnePort(gateways, { host: '127.0.0.1', port: 0, logger });
 * console.log(front.port);
 * ```
 */
export async function startOnePort(
  gateways: Gateway[],
  options: StartOnePortOptions,
): Promise<RunningOnePort> {
  const targets: OnePortTargets = {};
  for (const g of gateways) {
    const protocol = g.protocols[0];
    if (protocol === 'grpc') {
      const injector = (g as Gateway & { injector?: ConnectionInjector }).injector;
      if (!injector)
        throw new FlowgateError(Code.FailedPrecondition, 'the gRPC Gateway is not running on the one port');
      targets.grpc = injector;
    } else if (protocol) {
      const app = (g as Gateway & { fastifyApp?: FastifyInstance }).fastifyApp;
      if (!app)
        throw new FlowgateError(
          Code.FailedPrecondition,
          `the ${protocol} Gateway is not running on the one port`,
        );
      targets[protocol] = app;
    }
  }
  const { OnePortServer } = await import('./one-port.js');
  const grpcWeb = targets.grpc
    ? (await import('../transport/grpc/server-grpc-web.js')).createGrpcWebHandler({
        ...options.grpcWeb,
        logger: options.logger,
      })
    : undefined;
  const front = new OnePortServer({ ...options, targets, intercept: grpcWeb });
  const port = await front.listen();
  options.logger.debug('one port for every protocol', {
    port,
    protocols: gateways.map((g) => g.protocols[0]),
  });
  return {
    port,
    async close() {
      await front.close();
      front.destroy();
    },
  };
}
