import type { GatewayConfig } from '../gateway/gateway-runtime.js';
import type { HeadRuntimeOptions } from '../runtime/head.js';

/** What a Flow sends an Executor process over IPC. */
export interface ExecutorProcessConfig {
  name: string;
  /** A class in a module, or a `uses` string (module path, `file.ts:Class`, or YAML file). */
  uses: { module?: string; className?: string; spec?: string };
  usesWith: Record<string, unknown>;
  metas: Record<string, unknown>;
  runtimeArgs: Record<string, unknown>;
  host: string;
  port: number;
}

/** What a Flow sends the Gateway process over IPC (a JSON-safe GatewayConfig). */
export type GatewayProcessConfig = Omit<GatewayConfig, 'uses' | 'credentials'>;

/** What a Flow sends the head of a sharded deployment over IPC (a JSON-safe HeadRuntimeOptions). */
export type HeadProcessConfig = Omit<HeadRuntimeOptions, 'logger'>;
