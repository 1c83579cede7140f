import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code, FlowgateError } from '../core/errors.js';

/**
 * Imports a user's module (an Executor, a custom Gateway, an `authenticate` hook) the way their
 * project says it is written: `.mts`/`.mjs` and `.ts`/`.js` under `"type": "module"` as ESM;
 * `.cts`/`.cjs` and `.ts`/`.js` under `"type": "commonjs"` or without a package.json as CommonJS.
 * TypeScript goes through tsx (both its ESM and CommonJS hooks). A CommonJS module's
 * `require('flowgate')` is given this process's own flowgate (see {@link shareFlowgateWithCommonJs}),
 * so that its classes extend the very `Executor` the runtime checks for.
 */

/** `module` or `commonjs`: how Node (and tsx) will load a file. */
export type ModuleFormat = 'module' | 'commonjs';

/** The `type` of the nearest package.json above a file, or `undefined` without one. */
function packageType(file: string): { type: string | undefined; packageJson?: string } {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        const type = (JSON.parse(readFileSync(pj, 'utf8')) as { type?: unknown }).type;
        return { type: typeof type === 'string' ? type : undefined, packageJson: pj };
      } catch {
        return { type: undefined, packageJson: pj };
      }
    }
    if (dirname(dir) === dir) return { type: undefined };
  }
}

/** How a file will be loaded, from its extension and the nearest package.json's `type`. */
export function moduleFormatOf(file: string): ModuleFormat {
  if (/\.m[jt]sx?$/.test(file)) return 'module';
  if (/\.c[jt]sx?$/.test(file)) return 'commonjs';
  return packageType(file).type === 'module' ? 'module' : 'commonjs';
}

type FlowgateProvider = () => Promise<{ file: string; exports: unknown }>;
let provider: FlowgateProvider | undefined;
let shared: Promise<void> | undefined;

/**
 * Tells the loader where this process's flowgate entry point is (the CLI does this; lower layers
 * cannot import it). Before a CommonJS user module is loaded, the entry is put in `require.cache`,
 * so `require('flowgate')` returns the same classes as the ESM graph instead of a second copy.
 *
 * @example
 * ```ts
 * shareFlowgateWithCommonJs(async () => ({ file: indexPath, exports: await import('../index.js') }));
 * ```
 */
export function shareFlowgateWithCommonJs(p: FlowgateProvider): void {
  provider = p;
}

async function seedRequireCache(): Promise<void> {
  if (!provider) return;
  const { file, exports } = await provider();
  const require = createRequire(import.meta.url);
  if (!existsSync(file)) return; // best effort: without it, a CommonJS module gets a copy of its own
  const real = realpathSync(file);
  const Module = require('node:module') as {
    new (id: string): { filename: string; loaded: boolean; exports: unknown; paths: string[] };
    _cache: Record<string, unknown>;
  };
  const mod = new Module(real);
  mod.filename = real;
  mod.loaded = true;
  mod.exports = exports;
  Module._cache[real] = mod;
}

let tsxEsm = false;
let tsxCjs = false;

/**
 * Set (to `1`) in a child whose parent ran with tsx but which was started without it (a Gateway or
 * a head, see `orchestrate/child-argv.ts`): tsx is registered before any user module is imported,
 * TypeScript or not, as the parent's `--import tsx` would have done.
 */
export const TSX_DEFERRED_ENV = 'FLOWGATE_TSX_DEFERRED';

function tsxActive(): boolean {
  return process.execArgv.some((a) => a.includes('tsx'));
}

async function registerTypeScript(format: ModuleFormat): Promise<void> {
  if (tsxActive()) return;
  if (!tsxEsm) {
    tsxEsm = true;
    const api = (await import('tsx/esm/api')) as { register: () => unknown };
    api.register();
  }
  if (format === 'commonjs' && !tsxCjs) {
    tsxCjs = true;
    const api = (await import('tsx/cjs/api')) as { register: () => unknown };
    api.register();
  }
}

/**
 * What to change when a file loaded as CommonJS uses what only ESM allows: top-level await, or
 * `import`/`export` in a .js file (esbuild's and Node's errors say neither why nor what to do).
 */
function explainLoadError(err: unknown, file: string, format: ModuleFormat): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (format !== 'commonjs') return err;
  const { packageJson } = packageType(file);
  const why = /\.c[jt]sx?$/.test(file)
    ? 'its extension makes it CommonJS'
    : packageJson
      ? `${packageJson} has no "type": "module"`
      : 'no package.json above it says "type": "module"';
  const fix = 'rename it to .mts (or .mjs), or set "type": "module" in its package.json';
  if (/top-level await|await is only valid/i.test(message))
    return new FlowgateError(
      Code.InvalidArgument,
      `${file} uses top-level await, but it is loaded as CommonJS (${why}), where top-level await is not allowed: ${fix}, or move the await into a function`,
    );
  if (/Cannot use import statement outside a module|Unexpected token 'export'/.test(message))
    return new FlowgateError(
      Code.InvalidArgument,
      `${file} is written as an ES module (import/export), but it is loaded as CommonJS (${why}): ${fix}`,
    );
  return err;
}

/**
 * Imports a user's module by URL, registering tsx and sharing flowgate with CommonJS first when
 * the file needs it.
 *
 * @example
 * ```ts
 * const mod = await importUserModule(pathToFileURL('upper.ts').href);
 * ```
 */
export async function importUserModule(url: string): Promise<Record<string, unknown>> {
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  pending.add(file);
  try {
    return await importByFormat(url, file);
  } finally {
    pending.delete(file);
  }
}

const pending = new Set<string>();

/**
 * The user modules whose import has not finished: when a process ends with an unsettled top-level
 * await (exit code 13), these are the likely culprits.
 */
export function pendingUserImports(): string[] {
  return [...pending];
}

async function importByFormat(url: string, file: string): Promise<Record<string, unknown>> {
  const format = moduleFormatOf(file);
  // Deferred: both hooks, as the parent's `--import tsx` had.
  if (process.env[TSX_DEFERRED_ENV] === '1') await registerTypeScript('commonjs');
  else if (/\.[cm]?tsx?$/.test(file)) await registerTypeScript(format);
  if (format === 'commonjs') await (shared ??= seedRequireCache());
  try {
    if (format === 'module') return (await import(url)) as Record<string, unknown>;
    // Through Node's CommonJS loader (with tsx's require hook), not import(): Node's ESM loader
    // runs a CommonJS module with a require() of its own that cannot load flowgate (ESM).
    return commonJsExports({ default: createRequire(file)(file) as unknown });
  } catch (err) {
    throw explainLoadError(err, file, format);
  }
}

/**
 * A CommonJS module's exports as named exports: Node only sees the names its lexer can find, and
 * compiled TypeScript defines them with getters it cannot see; `exports.default` (from `export
 * default`) becomes the default export.
 */
function commonJsExports(mod: Record<string, unknown>): Record<string, unknown> {
  const exportsObj = mod.default;
  if (exportsObj === null || (typeof exportsObj !== 'object' && typeof exportsObj !== 'function')) return mod;
  const named: Record<string, unknown> = { ...mod };
  for (const key of Object.keys(exportsObj)) named[key] = (exportsObj as Record<string, unknown>)[key];
  const esModule = (exportsObj as { __esModule?: unknown }).__esModule === true;
  named.default = esModule ? (exportsObj as { default?: unknown }).default : exportsObj;
  return named;
}
