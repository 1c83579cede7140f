/**
 * Starts a Flow of `n` chained {@link EchoExecutor}s behind one Gateway protocol and times
 * `flow.start()`. A protocol whose Gateway does not exist yet is reported as unavailable.
 */
import { fileURLToPath } from 'node:url';
import type { Protocol } from '../../src/index.js';
import { api, apiSource } from '../api.js';

// In dist mode the Executor is plain JavaScript, as in a compiled application (see echo-executor.mjs).
const EXECUTOR_FILE = apiSource === 'dist' ? './echo-executor.mjs' : './echo-executor.ts';
const EXECUTOR = `${fileURLToPath(new URL(EXECUTOR_FILE, import.meta.url))}:EchoExecutor`;

/** A started Flow and what the benchmark watches of it. */
export interface RunningFlow {
  flow: InstanceType<typeof api.Flow>;
  port: number;
  /** The Gateway's process id (the last of `flow.pids`). */
  gatewayPid: number;
  /** From `flow.start()` to resolved, ms. */
  startMs: number;
}

/** A Flow that could not start because its protocol has no Gateway yet. */
export interface UnavailableFlow {
  unavailable: string;
}

const NOT_AVAILABLE = /no built-in Gateway serves protocol|not (yet )?(available|implemented)|unimplemented/i;

/**
 * Starts `executors` EchoExecutors in a chain behind a `protocol` Gateway. Rejects when the Flow is
 * broken; resolves to `{ unavailable }` when the protocol is simply not there.
 */
export async function startEchoFlow(
  protocol: Protocol,
  executors: number,
  gatewayOptions: Record<string, unknown> = {},
): Promise<RunningFlow | UnavailableFlow> {
  const flow = new api.Flow({ timeoutReady: 60_000 }).configGateway({ ...gatewayOptions, protocol });
  for (let i = 0; i < executors; i++) flow.add({ uses: EXECUTOR, name: `echo${i}` });
  const t0 = performance.now();
  try {
    await flow.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (protocol !== 'grpc' && NOT_AVAILABLE.test(message)) return { unavailable: message.split('\n')[0]! };
    throw err;
  }
  const startMs = performance.now() - t0;
  const gatewayPid = flow.pids.at(-1)!;
  return { flow, port: flow.port, gatewayPid, startMs };
}
