import { dirname, join } from 'node:path';
import type { Http2Server } from 'node:http2';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { Code, FlowgateError } from '../../core/errors.js';
import { defaultGrpcOptions } from './grpc-options.js';

/** Where the `.proto` files of the wire contract live (shipped with the package). */
export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../proto');

export { defaultGrpcOptions } from './grpc-options.js';

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** Extra gRPC server options (override the defaults). */
  serverOptions?: grpc.ServerOptions;
  /** Message size limit in bytes, -1 for none. */
  maxMessageBytes?: number;
}

/** A grpc-js server with the standard health service and reflection attached. */
export interface FlowgateGrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** Registered service names (for health status and reflection). */
  serviceNames: string[];
  /** Binds and starts; resolves to the bound port. */
  listen(host: string, port: number, credentials?: grpc.ServerCredentials): Promise<number>;
  /**
   * Starts serving without binding a port: connections accepted elsewhere (the one-port front)
   * are handed over with `injectConnection` (HTTP/2, TLS already ended by the front).
   */
  injector(): ConnectionInjector;
  /** Sets every registered service (and the overall `""`) to `status`. */
  setServing(serving: boolean): void;
  /** Graceful stop: waits for calls in flight up to `graceMs`, then forces. */
  close(graceMs?: number): Promise<void>;
}

/** Takes connections accepted elsewhere (grpc-js `Server.createConnectionInjector`). */
export interface ConnectionInjector {
  /** The HTTP/2 server the connections are given to (when grpc-js lets it be found). */
  http2?: Http2Server;
  injectConnection(connection: Duplex): void;
  drain(graceTimeMs: number): void;
  destroy(): void;
}

let reflectionPackage: protoLoader.PackageDefinition | undefined;

function loadReflectionPackage(): protoLoader.PackageDefinition {
  reflectionPackage ??= protoLoader.loadSync(['jina.proto', healthProtoPath], {
    includeDirs: [PROTO_DIR, dirname(healthProtoPath)],
    keepCase: true,
  });
  return reflectionPackage;
}

/**
 * Creates a gRPC server with health checking and server reflection.
 *
 * @example
 * ```ts
 * const s = createGrpcServer();
 * s.server.addService(JinaInfoRPCService, { _status: ... });
 * s.serviceNames.push('jina.JinaInfoRPC');
 * const port = await s.listen('127.0.0.1', 0);
 * ```
 */
export function createGrpcServer(options: GrpcServerOptions = {}): FlowgateGrpcServer {
  const server = new grpc.Server({
    ...defaultGrpcOptions(options.maxMessageBytes),
    ...options.serverOptions,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  const serviceNames: string[] = [];
  let reflectionAdded = false;
  const addReflection = () => {
    if (reflectionAdded) return;
    new ReflectionService(loadReflectionPackage()).addToServer(server);
    reflectionAdded = true;
  };

  const api: FlowgateGrpcServer = {
    server,
    health,
    serviceNames,
    injector() {
      addReflection();
      const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
      // grpc-js keeps the HTTP/2 server of the injector in a private map (the one added last): the
      // front shares its streams with the REST routes (see `one-port.ts`); absent, gRPC only.
      const servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
      const http2 = servers ? [...servers.keys()].at(-1) : undefined;
      api.setServing(true);
      return { ...injector, http2 };
    },
    async listen(host, port, credentials = grpc.ServerCredentials.createInsecure()) {
      addReflection();
      const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
      const bound = await new Promise<number>((resolve, reject) => {
        server.bindAsync(address, credentials, (err, p) => {
          if (err) {
            const inUse = /EADDRINUSE|address already in use/i.test(err.message);
            reject(
              new FlowgateError(
                inUse ? Code.AlreadyExists : Code.Unavailable,
                inUse
                  ? `port ${port} on ${host} is already in use: pick another port or stop what is using it`
                  : `cannot listen on ${address}: ${err.message}`,
                { cause: err },
              ),
            );
          } else resolve(p);
        });
      });
      api.setServing(true);
      return bound;
    },
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      for (const name of serviceNames) health.setStatus(name, status);
    },
    async close(graceMs = 1000) {
      api.setServing(false);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
  return api;
}
