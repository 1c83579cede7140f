import type { GatewayClass, Protocol } from './gateway.js';
import { GraphqlGateway } from './graphql-gateway.js';
import { GrpcGateway } from './grpc-gateway.js';
import { HttpGateway } from './http-gateway.js';
import { WebSocketGateway } from './websocket-gateway.js';

/**
 * The built-in Gateway for each protocol: an explicit registry (no dispatch on class-name strings).
 * Protocol implementations register themselves here from `src/gateway/index.ts`.
 */
export const builtinGateways: Partial<Record<Protocol, GatewayClass>> = {
  grpc: GrpcGateway,
  http: HttpGateway,
  graphql: GraphqlGateway,
  websocket: WebSocketGateway,
};

/** Adds or replaces the built-in Gateway of a protocol. */
export function registerBuiltinGateway(protocol: Protocol, cls: GatewayClass): void {
  builtinGateways[protocol] = cls;
}
