/**
 * flowgate: serve pipelines of Executors behind a multi-protocol Gateway, wire-compatible with
 * Jina 3.x.
 *
 * @example
 * ```ts
 * import { Flow, Executor, requests, Document, DocumentArray, Client } from 'flowgate';
 * ```
 */
export { VERSION } from './core/version.js';

export { Code, FlowgateError, ExecutorError } from './core/errors.js';
export { createLogger } from './core/logger.js';
export type { Logger, LoggerOptions, LogLevel } from './core/logger.js';
export * from './document/index.js';
export type { JsonObject, JsonValue } from './proto/struct.js';
export { Executor } from './executor/executor.js';
export type {
  ExecutorArgs,
  ExecutorMetas,
  HandlerArgs,
  RuntimeArgs,
  ExecutorClass,
} from './executor/executor.js';
export { requests, DEFAULT_ENDPOINT, DRY_RUN_ENDPOINT } from './executor/requests.js';
export type { StreamArgs, StreamItem } from './executor/streaming.js';
export type { StreamDocOptions } from './gateway/stream-walker.js';
export type { StreamDocClientOptions } from './client/stream.js';
export { dynamicBatching } from './executor/dynamic-batching.js';
export type { DynamicBatchingOptions, DynamicBatchingConfig } from './executor/dynamic-batching.js';
export { WorkerRuntime } from './runtime/worker.js';
export type { WorkerRuntimeOptions } from './runtime/worker.js';
export type { ObservabilityOptions, ObservabilitySettings } from './runtime/observability.js';
export { Gateway } from './gateway/gateway.js';
export type { GatewayOptions, Protocol } from './gateway/gateway.js';
export { GatewayStreamer } from './gateway/streamer.js';
export { FastifyBaseGateway } from './transport/http/server-fastify-base.js';
export { addHealthService } from './transport/grpc/health.js';
export type { StreamerApi } from './gateway/worker-streamer.js';
export type { HealthService } from './transport/grpc/health.js';
export { graphFromFlags, graphDescriptionOf } from './gateway/graph-description.js';
export type { GraphDescription, GraphFlags } from './gateway/graph-description.js';
export type { GatewayClass } from './gateway/gateway.js';
export type { ExecutorStreamer, ExecutorPostOptions } from './gateway/executor-streamer.js';
export type { StreamDocsOptions } from './gateway/streamer.js';
export { GatewayRuntime } from './serve/gateway-runtime.js';
export type { GatewayConfig } from './serve/gateway-runtime.js';
export { AUTH_TOKEN_ENV, createAuthenticator } from './gateway/auth.js';
export type { AuthHook, AuthOutcome, AuthRequest, AuthResult, Authenticator } from './gateway/auth.js';
export type { GatewaySecurityOptions, TlsKeyPair } from './gateway/security.js';
export { HttpGateway } from './transport/http/server.js';
export type { HttpGatewayOptions } from './transport/http/server.js';
export type { ExposeEndpointOptions } from './transport/http/server-data-routes.js';
export { GraphqlGateway } from './transport/graphql/server.js';
export type { GraphqlGatewayOptions } from './transport/graphql/server.js';
export { WebSocketGateway } from './transport/websocket/server.js';
export type { WebSocketGatewayOptions } from './transport/websocket/server.js';
export { Client } from './client/client.js';
export type { ClientOptions, PostOptions, PostInputs } from './client/client.js';
export { Response } from './client/response.js';
export { HttpTransport } from './transport/http/client.js';
export type { HttpTransportOptions } from './transport/http/client.js';
export { WebSocketTransport } from './transport/websocket/client.js';
export type { WebSocketTransportOptions } from './transport/websocket/client.js';
export { Flow } from './orchestrate/flow.js';
export type { AddOptions, GatewayConfigOptions, FlowOptions } from './orchestrate/flow.js';
