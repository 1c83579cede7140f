import type { GatewayClass, Protocol } from './gateway.js';

/** Loads the class of a built-in Gateway (its module and dependencies are imported on first use). */
export type GatewayLoader = () => Promise<GatewayClass>;

/**
 * The built-in Gateway for each protocol: an explicit registry (no dispatch on class-name strings)
 * of loaders, so that a process imports only the Gateways it serves. Importing every Gateway costs
 * each process about 0.35 s and 13 MB (Fastify, GraphQL, swagger, ws), and every process a Flow
 * starts (each Executor too) would pay for it.
 */
const loaders: Partial<Record<Protocol, GatewayLoader>> = {
  grpc: async () => (await import('./grpc-gateway.js')).GrpcGateway,
  http: async () => (await import('./http-gateway.js')).HttpGateway,
  graphql: async () => (await import('./graphql-gateway.js')).GraphqlGateway,
  websocket: async () => (await import('./websocket-gateway.js')).WebSocketGateway,
};

/**
 * Adds or replaces the built-in Gateway of a protocol: a class, or a loader that imports it.
 *
 * @example
 * ```ts
 * registerBuiltinGateway('http', MyHttpGateway);
 * registerBuiltinGateway('http', async () => (await import('./my-http-gateway.js')).MyHttpGateway);
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
