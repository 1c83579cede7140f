import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Code, FlowgateError } from '../core/errors.js';
import { parseBatchingConfig, type DynamicBatchingConfig } from '../executor/dynamic-batching.js';
import { Executor, type ExecutorClass } from '../executor/executor.js';
import { registeredClass, whenChildFlowStarted, whenRegistered } from './class-registry.js';
import { importUserModule } from './user-module.js';

/** Where to find an Executor class: a module (path or file URL) and the class name in it. */
export interface ExecutorRef {
  module: string;
  className?: string;
}

/** A loaded Executor definition: the class plus the arguments a YAML file gave it. */
export interface LoadedExecutor {
  cls: ExecutorClass;
  usesWith: Record<string, unknown>;
  metas: Record<string, unknown>;
  /** The YAML's `dynamic_batching` section: endpoint -> batching options. */
  dynamicBatching?: DynamicBatchingConfig;
}

function toUrl(module: string, base = process.cwd()): string {
  if (module.startsWith('file://')) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(base, module)).href;
}

/** What {@link loadClass} looks for: which values are classes of the wanted kind. */
export interface ClassKind {
  /** `Executor`, `Gateway`: used in error messages. */
  kind: string;
  /** True for a class of that kind (used when the module is searched without a class name). */
  accepts: (value: unknown) => boolean;
  /** How a class that is not exported can still be found, e.g. `pass it to flow.add({ uses })`. */
  registerHint: string;
}

const EXECUTOR_KIND: ClassKind = {
  kind: 'Executor',
  accepts: (v) => typeof v === 'function' && (v as ExecutorClass).prototype instanceof Executor,
  registerHint: 'pass it to flow.add({ uses })',
};

/**
 * Loads an Executor class from a module. The module may still be evaluating (a script that defines
 * the class and then awaits `flow.start()` never finishes evaluating in a child), so a class that
 * the script registers through `Flow.add()` is taken as soon as it appears.
 *
 * @example
 * ```ts
 * const cls = await loadExecutorClass({ module: './my-exec.ts', className: 'MyExec' });
 * ```
 */
export async function loadExecutorClass(ref: ExecutorRef, timeoutMs = 30_000): Promise<ExecutorClass> {
  return loadClass<ExecutorClass>(ref, EXECUTOR_KIND, timeoutMs);
}

/**
 * Loads a class of any kind (an Executor, a custom Gateway) from a module, as
 * {@link loadExecutorClass} does: an export of that name, or a class of that name that the module
 * registers while it evaluates (`registerClass`), whichever comes first. Without a class name: the
 * default export, or the one exported class that `kind.accepts`.
 *
 * @example
 * ```ts
 * const cls = await loadClass<GatewayClass>({ module: 'gw.ts', className: 'MyGateway' }, gatewayKind);
 * ```
 */
export async function loadClass<T>(ref: ExecutorRef, kind: ClassKind, timeoutMs = 30_000): Promise<T> {
  const url = toUrl(ref.module);
  const importing = importUserModule(url).then((mod) => pickClass(mod, ref, url, kind));
  if (!ref.className) return importing as Promise<T>;
  const registered = whenRegistered(ref.className);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FlowgateError(
            Code.NotFound,
            `class ${ref.className} was not found in ${url} within ${timeoutMs} ms: export it, or ${kind.registerHint}`,
          ),
        ),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return (await Promise.race([importing, registered, stuckAtFlowStart(ref, url, kind), timeout])) as T;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Rejects when the module being imported (a script that defines the class and runs Flows) reached a
 * Flow's `start()` without registering the class: in a child that `start()` never returns, so the
 * class, passed to a later Flow, can never be found. Waits one macrotask first, in case it is
 * registered right after an un-awaited `start()`.
 */
async function stuckAtFlowStart(ref: ExecutorRef, url: string, kind: ClassKind): Promise<never> {
  await whenChildFlowStarted();
  await new Promise((r) => setImmediate(r));
  const found = registeredClass(ref.className!);
  if (found) return found as never;
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  throw new FlowgateError(
    Code.FailedPrecondition,
    `${ref.className} (${kind.kind}) is defined in ${file}, which this child process imports again ` +
      `to find it; there the script stops at an earlier Flow's start() (a child never starts a Flow), ` +
      `before the code that passes ${ref.className} runs. Move ${ref.className} into its own module ` +
      `and import it into ${basename(file)}.`,
  );
}

function pickClass(mod: Record<string, unknown>, ref: ExecutorRef, url: string, kind: ClassKind): unknown {
  if (ref.className) {
    const cls = mod[ref.className] ?? registeredClass(ref.className);
    if (typeof cls === 'function') return cls;
    throw new FlowgateError(
      Code.NotFound,
      `module ${url} has no export named ${ref.className}: export the class, or ${kind.registerHint}`,
    );
  }
  if (kind.accepts(mod.default)) return mod.default;
  const classes = Object.values(mod).filter((v) => kind.accepts(v)) as { name: string }[];
  if (classes.length === 1) return classes[0];
  throw new FlowgateError(
    Code.InvalidArgument,
    classes.length === 0
      ? `module ${url} exports no ${kind.kind} class`
      : `module ${url} exports several ${kind.kind}s (${classes.map((c) => c.name).join(', ')}): name one`,
  );
}

/** A `uses` string naming a class in a module: `file.ts:ClassName`, or just `file.ts`. */
export function parseClassSpec(uses: string): ExecutorRef {
  const m = /^(.*\.[cm]?[jt]sx?):(\w+)$/.exec(uses);
  return m ? { module: m[1]!, className: m[2]! } : { module: uses };
}

/**
 * Loads an Executor from `uses`: a YAML file (`jtype: MyExec`, `modules: my_exec.ts`,
 * `with: {...}`, `metas: {...}`; the `!MyExec` tag form too) or a module path (`my_exec.ts` or
 * `my_exec.ts:MyExec`).
 */
export async function loadExecutorFromUses(uses: string): Promise<LoadedExecutor> {
  if (/\.ya?ml$/i.test(uses)) return loadExecutorYaml(uses);
  return { cls: await loadExecutorClass(parseClassSpec(uses)), usesWith: {}, metas: {} };
}

async function loadExecutorYaml(path: string): Promise<LoadedExecutor> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new FlowgateError(Code.NotFound, `cannot read Executor YAML ${path}: ${err.message}`);
  });
  // `!MyExec` tags are unknown to the YAML schema; they are read from the text instead.
  const doc = parseYaml(text, { logLevel: 'error' }) as Record<string, unknown> | null;
  const tag = /^\s*!(\w+)/m.exec(text)?.[1];
  const jtype = (doc?.jtype as string | undefined) ?? tag;
  const modulesValue = doc?.modules ?? doc?.py_modules;
  const modules = (
    Array.isArray(modulesValue) ? modulesValue : modulesValue ? [modulesValue] : []
  ) as string[];
  if (!jtype)
    throw new FlowgateError(Code.InvalidArgument, `${path}: no jtype (or !Tag) names the Executor class`);
  const base = dirname(resolve(path));
  let cls: ExecutorClass | undefined;
  for (const m of modules) {
    const mod = await importUserModule(toUrl(m, base));
    if (typeof mod[jtype] === 'function') cls = mod[jtype] as ExecutorClass;
  }
  cls ??= registeredClass(jtype);
  if (!cls)
    throw new FlowgateError(
      Code.NotFound,
      `${path}: class ${jtype} is not exported by ${modules.join(', ') || '(no modules listed)'}`,
    );
  return {
    cls,
    usesWith: (doc?.with as Record<string, unknown> | undefined) ?? {},
    metas: (doc?.metas as Record<string, unknown> | undefined) ?? {},
    dynamicBatching: parseBatchingConfig(
      doc?.dynamic_batching ?? doc?.dynamicBatching,
      `${path}: dynamic_batching`,
    ),
  };
}
