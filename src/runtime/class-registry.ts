import type { ExecutorClass } from '../executor/executor.js';

/**
 * When a Flow starts an Executor defined in the same file as the Flow, the child process imports
 * that file again. There the Flow API runs in "child mode": `add()` registers the classes it is
 * given here (so the child can find a class even if it is not exported) and `start()` never
 * resolves (so the script does not start a second Flow).
 */

const ROLE_ENV = 'FLOWGATE_CHILD_ROLE';
const registry = new Map<string, ExecutorClass>();
const waiters = new Map<string, ((cls: ExecutorClass) => void)[]>();

/** True inside a process that a Flow spawned to run one of its parts. */
export function isChildProcess(): boolean {
  return process.env[ROLE_ENV] !== undefined;
}

/** The environment variable that marks a spawned child, and its value for an Executor/Gateway. */
export function childRoleEnv(role: 'executor' | 'gateway'): Record<string, string> {
  return { [ROLE_ENV]: role };
}

/** Makes a class findable by name in this process. */
export function registerClass(cls: ExecutorClass): void {
  registry.set(cls.name, cls);
  const ws = waiters.get(cls.name);
  if (ws) {
    waiters.delete(cls.name);
    for (const w of ws) w(cls);
  }
}

/** A registered class, if any. */
export function registeredClass(name: string): ExecutorClass | undefined {
  return registry.get(name);
}

/** Resolves when a class of that name is registered. */
export function whenRegistered(name: string): Promise<ExecutorClass> {
  const found = registry.get(name);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const list = waiters.get(name) ?? [];
    list.push(resolve);
    waiters.set(name, list);
  });
}

let flowStartReached: (() => void) | undefined;
const flowStart = new Promise<void>((resolve) => (flowStartReached = resolve));

/**
 * Called by `Flow.start()` in a child: the script this child imported again has reached a Flow's
 * `start()`, which never resolves here, so the script will register no more classes.
 */
export function markChildFlowStart(): void {
  flowStartReached?.();
}

/** Resolves when the imported script reached a Flow's `start()` (see {@link markChildFlowStart}). */
export function whenChildFlowStarted(): Promise<void> {
  return flowStart;
}
