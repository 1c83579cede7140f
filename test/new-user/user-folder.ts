/**
 * Helpers for tests that act as a new user: a temporary folder outside the repository, flowgate
 * installed in it as npm would install a `file:` dependency (a link to this package), and the
 * built CLI (dist/cli/main.js, which `npm test` builds first) run as a separate process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The repository root (flowgate's package root). */
export const repo = resolve('.');
/** The built CLI a user runs as `flowgate`. */
export const cliPath = join(repo, 'dist/cli/main.js');

/** The environment of a user's shell: no test-runner context, no tsx loader inherited. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _ctx, NODE_OPTIONS: _opts, ...env } = process.env;
  return { ...env, ...extra };
}

/** A new empty folder in the OS temp dir; `files` (path -> text) are written into it. */
export async function userFolder(
  files: Record<string, string> = {},
  { linkFlowgate = true } = {},
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-user-'));
  if (linkFlowgate) {
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await symlink(repo, join(dir, 'node_modules/flowgate'), 'dir');
  }
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The result of a finished command. */
export interface Finished {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `command args` in `cwd` to the end (killed after `timeoutMs`). */
export async function run(
  command: string,
  args: string[],
  cwd: string,
  { env = userEnv(), timeoutMs = 120_000 } = {},
): Promise<Finished> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out, err };
}

/** Runs the built CLI (`flowgate args`) in `cwd` to the end. */
export function flowgate(
  args: string[],
  cwd: string,
  options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number },
) {
  return run(process.execPath, [cliPath, ...args], cwd, options);
}

/** A long-running CLI command, once its output matched `ready` (or it exited first). */
export interface Serving {
  child: ChildProcess;
  /** Everything it wrote to stderr and stdout so far. */
  log(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `flowgate args` in `cwd` and resolves once its output matches `ready`; rejects with its
 * output if it exits first.
 */
export async function serve(
  args: string[],
  cwd: string,
  ready = /is ready/,
  env = userEnv(),
): Promise<Serving> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = once(child, 'exit') as Promise<[number | null]>;
  await new Promise<void>((resolveReady, reject) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      if (ready.test(log)) resolveReady();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(([code]) => reject(new Error(`flowgate ${args.join(' ')} exited ${code}:\n${log}`)));
  });
  return {
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited)[0];
    },
  };
}
