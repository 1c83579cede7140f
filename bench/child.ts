/**
 * Starts the benchmark's own child processes (raw servers, the load generator) with tsx and IPC,
 * and waits for their `ready` message.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A child that reported ready. */
export interface BenchChild {
  process: ChildProcess;
  pid: number;
  /** The port it serves on (0 for the load generator). */
  port: number;
  stop(): Promise<void>;
}

/** Path of a file of the benchmark, relative to `bench/`. */
export function benchFile(rel: string): string {
  return fileURLToPath(new URL(rel, import.meta.url));
}

/**
 * Forks `file` (a .ts under bench/) with `args` and waits up to `timeoutMs` for `{type:'ready'}`;
 * `nodeArgs` go to node (e.g. `--cpu-prof`).
 */
export function startChild(
  file: string,
  args: string[] = [],
  timeoutMs = 30_000,
  nodeArgs: string[] = [],
): Promise<BenchChild> {
  const child = fork(file, args, {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${file} ${args.join(' ')} exited (code ${code}) before it was ready`));
    };
    child.once('exit', onExit);
    child.on('message', function onReady(msg: { type?: string; port?: number }) {
      if (msg.type !== 'ready') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onReady);
      resolve({ process: child, pid: child.pid!, port: msg.port ?? 0, stop });
    });
  });
}
