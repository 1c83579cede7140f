import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const sessionId = randomUUID();
const startedAt = new Date().toISOString();

/** The environment variables flowgate reads; `/status` and `_status` report each, `(unset)` when unset. */
export const FLOWGATE_ENV_VARS = [
  'FLOWGATE_AUTH_TOKEN',
  'FLOWGATE_LOG_LEVEL',
  'FLOWGATE_DEFAULT_HOST',
  'FLOWGATE_GRPC_SEND_BYTES',
  'FLOWGATE_GRPC_RECV_BYTES',
  'FLOWGATE_RANDOM_PORT_MIN',
  'FLOWGATE_RANDOM_PORT_MAX',
  'FLOWGATE_DEPLOYMENT_NAME',
] as const;

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return '(unknown)';
  }
}

/**
 * The environment information of this process: the `jina` and `envs` maps of `JinaInfoProto`.
 * Every value is a string, as on the wire.
 *
 * @example
 * ```ts
 * const { jina, envs } = environmentInfo();
 * jina.flowgate; // '0.1.0'
 * ```
 */
export function environmentInfo(): { jina: Record<string, string>; envs: Record<string, string> } {
  const flowgate = versionOf('flowgate');
  const jina: Record<string, string> = {
    flowgate,
    jina: flowgate,
    'jina-proto': '0.1.27',
    docarray: '0.21.0',
    node: process.versions.node,
    'grpc-js': versionOf('@grpc/grpc-js'),
    protobufjs: versionOf('protobufjs'),
    'proto-backend': 'protobufjs',
    platform: os.platform(),
    'platform-release': os.release(),
    'platform-version': os.version(),
    architecture: os.arch(),
    processor: os.cpus()[0]?.model ?? '(unknown)',
    uid: String(process.getuid?.() ?? ''),
    'session-id': sessionId,
    uptime: startedAt,
    'ci-vendor': process.env.CI ? 'unknown-ci' : '(unset)',
  };
  const envs: Record<string, string> = {};
  for (const name of FLOWGATE_ENV_VARS) {
    const v = process.env[name];
    // Secrets are reported as set or unset, never shown.
    envs[name] = v === undefined ? '(unset)' : name.endsWith('_TOKEN') ? '(set)' : v;
  }
  return { jina, envs };
}
