import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Code, FlowgateError } from '../core/errors.js';
import { childRoleEnv } from '../runtime/class-registry.js';
import { gracePeriodFromEnv } from '../runtime/graceful-stop.js';
import type { ChildMessage } from '../runtime/ipc.js';
import { childNodeArgs } from './child-argv.js';
import { childV8Flags } from './child-v8-flags.js';

/**
 * The entry point children run (`cli/child.js <role>`): like `flowgate executor|head|gateway --ipc`,
 * without loading the rest of the command line.
 */
function cliEntry(): { path: string; needsTsx: boolean } {
  const js = fileURLToPath(new URL('../cli/child.js', import.meta.url));
  if (existsSync(js)) return { path: js, needsTsx: false };
  return { path: fileURLToPath(new URL('../cli/child.ts', import.meta.url)), needsTsx: true };
}

/** Options of {@link spawnRuntime}. */
export interface SpawnOptions {
  role: 'executor' | 'head' | 'gateway';
  /** Shown in logs and errors. */
  name: string;
  /**
   * Sent to the child over IPC. A promise lets the process start (and load its modules) before its
   * configuration is known; when it rejects, the child is killed and the spawn rejects with it.
   */
  config: unknown;
  env?: Record<string, string>;
  /** How long to wait for the child to report ready, counted from when its config is sent. */
  timeoutMs: number;
  /** Called as soon as the process exists (before it is ready), so that it can be stopped early. */
  onSpawn?: (child: ChildProcess) => void;
}

/** A running child and the ports it bound. */
export interface RunningChild {
  name: string;
  process: ChildProcess;
  ports: number[];
  /** The last lines the child wrote to stderr. */
  stderrTail(): string;
}

/**
 * Starts one part of a Flow in its own process through the CLI entry point and waits until it
 * reports its bound ports. A child that exits or fails first rejects with its error output.
 */
export function spawnRuntime(options: SpawnOptions): Promise<RunningChild> {
  const entry = cliEntry();
  const { execArgv, env } = childNodeArgs({
    role: options.role,
    entryNeedsTsx: entry.needsTsx,
    parentExecArgv: process.execArgv,
    v8Flags: childV8Flags(options.role),
  });
  const child = spawn(process.execPath, [...execArgv, entry.path, options.role], {
    // A head imports no user code: it is marked like the Gateway, as a child that is no Executor.
    env: {
      ...process.env,
      ...env,
      ...options.env,
      ...childRoleEnv(options.role === 'head' ? 'gateway' : options.role),
    },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  options.onSpawn?.(child);
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  });
  const running: RunningChild = { name: options.name, process: child, ports: [], stderrTail: () => tail };
  // "gateway gateway" would say one word twice.
  const label = options.name === options.role ? options.role : `${options.role} ${options.name}`;
  return new Promise<RunningChild>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const fail = (why: string) => {
      settled = true;
      clearTimeout(timer);
      const out = tail.trim() ? `\n--- its error output ---\n${tail.trim()}` : '';
      reject(new FlowgateError(Code.Unavailable, `${label} failed to start: ${why}${out}`));
    };
    child.once('error', (err) => fail(err.message));
    // Its last words on stderr may arrive after 'exit': wait for the stream's end to quote them.
    // (At most 1 s: a process it started may hold the stream open.)
    const afterStderr = (f: () => void) => {
      const stderr = child.stderr;
      if (!stderr || stderr.readableEnded) return f();
      const once = () => {
        clearTimeout(wait);
        stderr.off('end', once);
        f();
      };
      const wait = setTimeout(once, 1000);
      stderr.once('end', once);
    };
    child.once('exit', (code, signal) =>
      afterStderr(() =>
        fail(
          code === 13
            ? 'it exited (code 13: an await in its start-up never settled and nothing kept it running) before it was ready'
            : `it exited (${signal ?? `code ${code}`}) before it was ready`,
        ),
      ),
    );
    child.on('message', (msg: ChildMessage) => {
      if (msg.type === 'ready') {
        settled = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        running.ports = msg.ports;
        resolve(running);
      } else if (msg.type === 'failed') {
        child.removeAllListeners('exit');
        // Let stderr flush before reporting.
        setTimeout(() => fail(msg.message), 50);
      }
    });
    const send = (config: unknown) => {
      if (settled) return;
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(`did not become ready within ${options.timeoutMs} ms`);
      }, options.timeoutMs);
      child.send({ type: 'start', config });
    };
    if (!(options.config instanceof Promise)) return send(options.config);
    options.config.then(send, (err: unknown) => {
      if (settled) return;
      settled = true;
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

/**
 * Asks a child to stop (SIGTERM), and kills it if it has not exited after `graceMs` (default: the
 * runtimes' drain grace period plus 5 s to close).
 */
export async function stopChild(child: ChildProcess, graceMs = gracePeriodFromEnv() + 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
