/** The catch-all endpoint: a method bound with `@requests()` (no `on`) receives every endpoint. */
export const DEFAULT_ENDPOINT = '/default';
/** The reserved endpoint a dry run sends; answered without calling user code. */
export const DRY_RUN_ENDPOINT = '_jina_dry_run_';

/** Options of {@link requests}. */
export interface RequestsOptions {
  /** The endpoint(s) this method serves, e.g. `'/index'` or `['/a', '/b']`. Default: every endpoint. */
  on?: string | string[];
}

interface Binding {
  endpoints: string[];
  /** The file the class was defined in, so a child process can import it again. */
  file: string | undefined;
}

const bindings = new WeakMap<object, Binding>();

/**
 * Binds an Executor method to one or more endpoints. A method with no `on` binds `/default` and so
 * receives every request whose endpoint no other method binds.
 *
 * @example
 * ```ts
 * class MyExec extends Executor {
 *   @requests({ on: '/index' })
 *   index({ docs }: HandlerArgs) {
 *     for (const d of docs) d.tags.indexed = true;
 *   }
 *
 *   @requests()
 *   other({ docs }: HandlerArgs) {}
 * }
 * ```
 */
export function requests(options: RequestsOptions = {}) {
  const on =
    options.on === undefined ? [DEFAULT_ENDPOINT] : Array.isArray(options.on) ? options.on : [options.on];
  const file = callerFile();
  return function <T extends (...args: never[]) => unknown>(
    method: T,
    context: ClassMethodDecoratorContext,
  ): T {
    if (context.kind !== 'method' || context.static) {
      throw new TypeError('@requests() decorates instance methods of an Executor');
    }
    bindings.set(method, { endpoints: on.map(normaliseEndpoint), file });
    return method;
  };
}

/** `'index'` and `'/index'` name the same endpoint. */
export function normaliseEndpoint(endpoint: string): string {
  if (endpoint === DRY_RUN_ENDPOINT) return endpoint;
  return endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
}

/** The table of an Executor class: endpoint -> method name. Subclass bindings win. */
export function endpointTable(cls: abstract new (...args: never[]) => unknown): Map<string, string> {
  const table = new Map<string, string>();
  const chain: object[] = [];
  for (
    let proto = cls.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    chain.push(proto);
  }
  // Walk from the base class up so that subclasses override.
  for (const proto of chain.reverse()) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      const fn: unknown = desc?.value;
      if (typeof fn !== 'function') continue;
      const b = bindings.get(fn);
      if (!b) continue;
      for (const e of b.endpoints) table.set(e, key);
    }
  }
  return table;
}

/** The file in which the class's decorated methods were defined, if known. */
export function definingFile(cls: abstract new (...args: never[]) => unknown): string | undefined {
  for (
    let proto = cls.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const fn: unknown = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof fn === 'function') {
        const f = bindings.get(fn)?.file;
        if (f) return f;
      }
    }
  }
  return undefined;
}

/**
 * Picks the method for an endpoint: an exact binding, else `/default`, else none (the Gateway then
 * skips this Executor).
 */
export function resolveEndpoint(table: Map<string, string>, endpoint: string): string | undefined {
  return table.get(normaliseEndpoint(endpoint)) ?? table.get(DEFAULT_ENDPOINT);
}

/** flowgate's own source folders (`src/` and `dist/`), whose frames are never the caller. */
const OWN_DIRS = (() => {
  const root = new URL('../../', import.meta.url).href;
  return [`${root}src/`, `${root}dist/`];
})();

/**
 * The file URL of the first stack frame outside flowgate itself: where `@requests()` was written,
 * or the user's code that called `configGateway({ uses })`.
 */
export function callerFile(): string | undefined {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const line of stack.slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    const file = m?.[1];
    if (!file) continue;
    const url = file.startsWith('file://') ? file : `file://${file}`;
    if (OWN_DIRS.some((d) => url.startsWith(d)) && !url.endsWith('.test.ts')) continue;
    if (/node_modules[\\/](tsx|esbuild)[\\/]/.test(file)) continue;
    return url;
  }
  return undefined;
}
