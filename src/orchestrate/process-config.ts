import type { z } from 'zod';
import type { executorServeSchema, headSchema } from '../config/schemas.js';
import type { DynamicBatchingConfig } from '../executor/dynamic-batching.js';
import type { GatewayConfig } from '../serve/gateway-runtime.js';
import type { HeadRuntimeOptions } from '../runtime/head.js';
import { observabilitySettings, type ObservabilityOptions } from '../runtime/observability.js';
import type { GatewayUsesRef } from './custom-gateway.js';

/** What a Flow sends an Executor process over IPC. */
export interface ExecutorProcessConfig {
  name: string;
  /** A class in a module, or a `uses` string (module path, `file.ts:Class`, or YAML file). */
  uses: { module?: string; className?: string; spec?: string };
  usesWith: Record<string, unknown>;
  /** Dynamic batching per endpoint (`usesDynamicBatching`), over the decorators and Executor YAML. */
  dynamicBatching?: DynamicBatchingConfig;
  metas: Record<string, unknown>;
  runtimeArgs: Record<string, unknown>;
  host: string;
  port: number;
  /** Metrics and tracing of this process (its metrics port already chosen by the Flow). */
  observability?: ObservabilityOptions;
  /** Serve TLS with this certificate and key (PEM files), for a Gateway that reaches it with `tls`. */
  ssl?: { certfile: string; keyfile: string };
}

/**
 * What a Flow sends the Gateway process over IPC (a JSON-safe GatewayConfig). A custom Gateway
 * class travels as the module that defines or imports it and its name, or as a `uses` string.
 */
export type GatewayProcessConfig = Omit<GatewayConfig, 'uses' | 'credentials'> & {
  uses?: GatewayUsesRef;
};

/** What a Flow sends the head of a sharded deployment over IPC (a JSON-safe HeadRuntimeOptions). */
export type HeadProcessConfig = Omit<HeadRuntimeOptions, 'logger'>;

/** The config of `flowgate executor` (an Executor served on its own) from its validated options. */
export function executorServeConfig(o: z.infer<typeof executorServeSchema>): ExecutorProcessConfig {
  const name = o.name ?? 'executor';
  return {
    name,
    uses: { spec: o.uses ?? '' },
    usesWith: o.usesWith ?? {},
    dynamicBatching: o.usesDynamicBatching,
    metas: o.metas ?? {},
    runtimeArgs: {},
    host: o.host ?? '0.0.0.0',
    port: o.port ?? 0,
    ssl:
      o.sslCertfile || o.sslKeyfile
        ? { certfile: o.sslCertfile ?? '', keyfile: o.sslKeyfile ?? '' }
        : undefined,
    observability: observabilitySettings(o) && { ...observabilitySettings(o), runtimeName: name },
  };
}

/** The config of `flowgate head` from its validated options. */
export function headServeConfig(o: z.infer<typeof headSchema>): HeadProcessConfig {
  const name = o.name ?? 'executor';
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : [v].flat());
  return {
    name,
    host: o.host ?? '0.0.0.0',
    port: o.port ?? 0,
    shards: o.shards ?? [],
    polling: o.polling,
    usesBefore: list(o.usesBefore),
    usesAfter: list(o.usesAfter),
    noReduce: o.noReduce,
    timeoutSendMs: o.timeoutSend,
    retries: o.retries,
    observability: observabilitySettings(o) && { ...observabilitySettings(o), runtimeName: `${name}/head` },
  };
}
