import type { GatewayClass, Protocol } from '../gateway/gateway.js';
import type { RegisterGraphqlRoutes } from '../transport/http/server.js';

/** Loads the class of a built-in Gateway (its module and dependencies are imported on first use). */
export type GatewayLoader = () => Promise<GatewayClass>;

/**
 * The built-in Gateway for each protocol: an explicit registry (no dispatch on class-name strings)
 * of loaders, so that a process imports only the Gateways it serves. Importing every Gateway costs
 * each process about 0.35 s and 13 MB (Fastify, GraphQL, swagger, ws), and every process a Flow
 * starts (each Executor too) would pay for it.
 */
const loaders: Partial<Record<Protocol, GatewayLoader>> = {
  grpc: async () => (await import('../transport/grpc/server.js')).GrpcGateway,
  http: async () => (await import('../transport/http/server.js')).HttpGateway,
  graphql: async () => (await import('../transport/graphql/server.js')).GraphqlGateway,
  websocket: async () => (await import('../transport/websocket/server.js')).WebSocketGateway,
};

/**
 * The GraphQL routes the HTTP Gateway serves with `exposeGraphqlEndpoint`, imported on first use:
 * given to it here because no protocol folder imports another.
 */
export async function loadGraphqlRoutes(): Promise<RegisterGraphqlRoutes> {
  return (await import('../transport/graphql/server-routes.js')).registerGraphqlRoutes;
}

/**
 * Adds or replaces the built-in Gateway of a protocol: a class, or a loader that imports it.
 *
 * @example
 * ```ts
 * registerBuiltinGateway('http', MyHttpGateway);
 * registerBuiltinGateway('http', async () => (await import('../gateway/my-http-gateway.js')).MyHttpGateway);
 * ```
 */
export function registerBuiltinGateway(protocol: Protocol, cls: GatewayClass | GatewayLoader): void {
  loaders[protocol] = isGatewayClass(cls) ? () => Promise.resolve(cls) : cls;
}

/** The built-in Gateway class of `protocol`, imported now if needed; undefined when there is none. */
export async function loadBuiltinGateway(protocol: Protocol): Promise<GatewayClass | undefined> {
  return loaders[protocol]?.();
}

/** A class has a prototype object; a loader (an async arrow function) has none. */
function isGatewayClass(v: GatewayClass | GatewayLoader): v is GatewayClass {
  return typeof (v as { prototype?: unknown }).prototype === 'object';
}
