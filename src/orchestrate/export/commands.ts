import type { Protocol } from '../../gateway/gateway.js';
import type { Polling } from '../../runtime/head.js';

/**
 * The `flowgate` command lines that exported containers run (after the `flowgate` entrypoint).
 * Each role's flags are built in one function here, so a change of the CLI is one change here.
 */

/** Options of {@link executorArgs}. */
export interface ExecutorArgsOptions {
  name: string;
  uses: string;
  port: number;
  /** Default `0.0.0.0` (every interface of the container); `127.0.0.1` for a head's sidecar. */
  host?: string;
  usesWith?: Record<string, unknown>;
  usesDynamicBatching?: Record<string, unknown>;
}

/**
 * `flowgate executor ...` for one replica.
 *
 * @example
 * ```ts
 * executorArgs({ name: 'enc', uses: 'enc.ts:Enc', port: 8080 });
 * // ['executor', '--name', 'enc', '--uses', 'enc.ts:Enc', '--host', '0.0.0.0', '--port', '8080']
 * ```
 */
export function executorArgs(o: ExecutorArgsOptions): string[] {
  const args = ['executor', '--name', o.name, '--uses', o.uses, '--host', o.host ?? '0.0.0.0'];
  args.push('--port', String(o.port));
  if (o.usesWith !== undefined && Object.keys(o.usesWith).length > 0)
    args.push('--uses-with', JSON.stringify(o.usesWith));
  if (o.usesDynamicBatching !== undefined && Object.keys(o.usesDynamicBatching).length > 0)
    args.push('--uses-dynamic-batching', JSON.stringify(o.usesDynamicBatching));
  return args;
}

/** Options of {@link headArgs}. */
export interface HeadArgsOptions {
  name: string;
  port: number;
  /** The replica addresses (`host:port`) of each shard, in shard order. */
  shards: string[][];
  polling?: Polling;
  usesBefore?: string[];
  usesAfter?: string[];
  noReduce?: boolean;
  timeoutSend?: number;
  retries?: number;
}

/**
 * `flowgate head ...` for the head of a sharded Executor.
 *
 * @example
 * ```ts
 * headArgs({ name: 'idx', port: 8080, shards: [['idx-shard-0:8080'], ['idx-shard-1:8080']] });
 * // ['head', '--name', 'idx', '--host', '0.0.0.0', '--port', '8080', '--shards', '[["idx-shard-0:8080"],...]']
 * ```
 */
export function headArgs(o: HeadArgsOptions): string[] {
  const args = ['head', '--name', o.name, '--host', '0.0.0.0', '--port', String(o.port)];
  args.push('--shards', JSON.stringify(o.shards));
  if (o.polling !== undefined)
    args.push('--polling', typeof o.polling === 'string' ? o.polling : JSON.stringify(o.polling));
  if (o.usesBefore?.length) args.push('--uses-before', o.usesBefore.join(','));
  if (o.usesAfter?.length) args.push('--uses-after', o.usesAfter.join(','));
  if (o.noReduce) args.push('--no-reduce');
  if (o.timeoutSend !== undefined) args.push('--timeout-send', String(o.timeoutSend));
  if (o.retries !== undefined) args.push('--retries', String(o.retries));
  return args;
}

/**
 * The address `flowgate ping gateway` checks for a Gateway protocol on this host: gRPC by the
 * health service, the others by `GET /`.
 */
export function gatewayPingAddress(protocol: Protocol, port: number): string {
  const scheme = protocol === 'graphql' ? 'http' : protocol;
  return `${scheme}://127.0.0.1:${port}`;
}

/** `flowgate ping executor 127.0.0.1:<port>`: the whole health check command, for probes. */
export function pingExecutorCommand(port: number): string[] {
  return ['flowgate', 'ping', 'executor', `127.0.0.1:${port}`];
}

/** `flowgate ping gateway <protocol>://127.0.0.1:<port>`: the whole health check command. */
export function pingGatewayCommand(protocol: Protocol, port: number): string[] {
  return ['flowgate', 'ping', 'gateway', gatewayPingAddress(protocol, port)];
}
