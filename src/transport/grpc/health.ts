import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

/** The standard gRPC health service of a server (`grpc.health.v1.Health`), as {@link addHealthService} returns it. */
export type HealthService = HealthImplementation;

/**
 * Registers the standard gRPC health service (`grpc.health.v1.Health`, Check and Watch) on a
 * grpc-js server, reporting SERVING for the server as a whole (`''`) and for each name given. This
 * is the health check a Flow, `flowgate ping` and Kubernetes probes send to a custom Gateway that
 * serves gRPC. Call it before `bindAsync`; `setStatus('', 'NOT_SERVING')` on the result when
 * draining.
 *
 * @example
 * ```ts
 * const server = new grpc.Server();
 * server.addService(MyService, handlers);
 * addHealthService(server);
 * ```
 */
export function addHealthService(server: grpc.Server, services: string[] = []): HealthService {
  const health = new HealthImplementation({
    '': 'SERVING',
    ...Object.fromEntries(services.map((s) => [s, 'SERVING' as const])),
  });
  health.addToServer(server);
  return health;
}
