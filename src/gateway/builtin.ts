import type { GatewayClass, Protocol } from './gateway.js';
import { GrpcGateway } from './grpc-gateway.js';

/**
 * The built-in Gateway for each protocol: an explicit registry (no dispatch on class-name strings).
 * Protocol implementations register themselves here from `src/gateway/index.ts`.
 */
export const builtinGateways: Partial<Record<Protocol, GatewayClass>> = {
  grpc: GrpcGateway,
};

/** Adds or replaces the built-in Gateway of a protocol. */
export function registerBuiltinGateway(protocol: Protocol, cls: GatewayClass): void {
  builtinGateways[protocol] = cls;
}
