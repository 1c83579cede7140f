import { TSX_DEFERRED_ENV } from '../runtime/user-module.js';

/**
 * The Node command line of the processes a Flow spawns, from the parent's `process.execArgv`.
 *
 * A parent run with `--import tsx` (or `--loader tsx`, `--require tsx/cjs`...) would pass tsx's
 * hooks on to every child: a hooks thread of its own, about 30 MB of resident memory and 0.3 s of
 * start-up in each. A Gateway or a head runs no TypeScript unless it loads a custom Gateway or an
 * `authenticate` hook, so when it runs the compiled entry point it starts without them, and the
 * loader of user modules registers tsx if such a module comes (see `TSX_DEFERRED_ENV`). An
 * Executor keeps them: its user module is the reason the parent runs tsx.
 */

/** Node options that take the next argument as their value (when not written `--opt=value`). */
const WITH_VALUE = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);

/** A module specifier or path that names tsx (`tsx`, `tsx/esm`, `.../node_modules/tsx/...`). */
function namesTsx(value: string): boolean {
  return /^tsx(\/|$)|[/\\]node_modules[/\\]tsx[/\\]/.test(value);
}

/** The parent's Node options without the ones that load tsx; and whether there were any. */
export function withoutTsx(execArgv: readonly string[]): { argv: string[]; removed: boolean } {
  const argv: string[] = [];
  let removed = false;
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (WITH_VALUE.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : (execArgv[i + 1] ?? '');
      if (eq < 0) i++;
      if (namesTsx(value)) removed = true;
      else argv.push(...(eq > 0 ? [a] : [a, value]));
    } else argv.push(a);
  }
  return { argv, removed };
}

/** Options of {@link childNodeArgs}. */
export interface ChildNodeArgsOptions {
  role: 'executor' | 'head' | 'gateway';
  /** The entry point is TypeScript (flowgate run from its sources): tsx is needed. */
  entryNeedsTsx: boolean;
  /** The parent's `process.execArgv`. */
  parentExecArgv: readonly string[];
  /** V8 flags added for this child (see `child-v8-flags.ts`). */
  v8Flags?: readonly string[];
}

/**
 * The Node options and extra environment of one child.
 *
 * @example
 * ```ts
 * const { execArgv, env } = childNodeArgs({ role: 'gateway', entryNeedsTsx: false,
 *   parentExecArgv: ['--import', 'tsx'] });
 * // execArgv: [], env: { FLOWGATE_TSX_DEFERRED: '1' }
 * ```
 */
export function childNodeArgs(o: ChildNodeArgsOptions): { execArgv: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  let execArgv = [...o.parentExecArgv];
  if (o.entryNeedsTsx) {
    if (!execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', 'tsx');
  } else if (o.role !== 'executor') {
    const { argv, removed } = withoutTsx(execArgv);
    execArgv = argv;
    if (removed) env[TSX_DEFERRED_ENV] = '1';
  }
  // Flags given later win: the parent's own execArgv still overrides them (NODE_OPTIONS does not:
  // the command line wins over it; FLOWGATE_CHILD_V8_FLAGS replaces them).
  return { execArgv: [...(o.v8Flags ?? []), ...execArgv], env };
}
