/**
 * Child entry of one raw server: `node --import tsx bench/raw/serve.ts <kind> [backend host:port]`.
 * Reports `{ type: 'ready', port }` over IPC and serves until its parent disconnects.
 */
import { startGrpcEcho, startHttpEcho, startWsEcho, type RawServer } from './echo-servers.js';
import { startGrpcH2Forwarder } from './forwarder-h2.js';
import { startGrpcForwarder, startHttpForwarder, startWsForwarder } from './forwarders.js';

/** The raw servers a child can run. */
export const RAW_KINDS = [
  'grpc-echo',
  'http-echo',
  'ws-echo',
  'grpc-fwd',
  'http-fwd',
  'ws-fwd',
  'grpc-fwd-h2',
] as const;
export type RawKind = (typeof RAW_KINDS)[number];

const starters: Record<RawKind, (backend: string) => Promise<RawServer>> = {
  'grpc-echo': () => startGrpcEcho(),
  'http-echo': () => startHttpEcho(),
  'ws-echo': () => startWsEcho(),
  'grpc-fwd': startGrpcForwarder,
  'http-fwd': startHttpForwarder,
  'ws-fwd': startWsForwarder,
  'grpc-fwd-h2': startGrpcH2Forwarder,
};

const isMain = process.argv[1]?.endsWith('serve.ts') && process.send !== undefined;
if (isMain) {
  const kind = process.argv[2] as RawKind;
  const start = starters[kind];
  if (!start) throw new Error(`unknown raw server '${kind}': one of ${RAW_KINDS.join(', ')}`);
  const server = await start(process.argv[3] ?? '');
  process.send!({ type: 'ready', port: server.port });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
