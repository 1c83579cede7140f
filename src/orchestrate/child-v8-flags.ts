/**
 * V8 flags for the processes a Flow spawns, overridable with `FLOWGATE_CHILD_V8_FLAGS`
 * (space-separated; empty for none). Figures and the choice are in docs/decisions.md.
 */

/** The environment variable that replaces the default V8 flags of spawned processes. */
export const CHILD_V8_FLAGS_ENV = 'FLOWGATE_CHILD_V8_FLAGS';

/** The flags spawned processes get by default, per role. */
const DEFAULTS: Record<'executor' | 'head' | 'gateway', readonly string[]> = {
  executor: [],
  head: [],
  gateway: [],
};

/**
 * The V8 flags for a child of `role`: `FLOWGATE_CHILD_V8_FLAGS` when set, else the defaults.
 *
 * @example
 * ```ts
 * process.env.FLOWGATE_CHILD_V8_FLAGS = '--max-semi-space-size=8';
 * childV8Flags('gateway'); // ['--max-semi-space-size=8']
 * ```
 */
export function childV8Flags(
  role: 'executor' | 'head' | 'gateway',
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const given = env[CHILD_V8_FLAGS_ENV];
  if (given !== undefined) return given.split(/\s+/).filter((f) => f.length > 0);
  return [...DEFAULTS[role]];
}
