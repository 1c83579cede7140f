import { explain } from '../core/known-errors.js';
import { consoleLogger, type Logger } from '../core/logger.js';
import type { ExecutorClass } from '../executor/executor.js';
import type { AuthHook } from '../gateway/auth.js';
import { Gateway, type GatewayClass } from '../gateway/gateway.js';
import type { GatewayRuntime } from '../serve/gateway-runtime.js';
import type {
  ExecutorProcessConfig,
  GatewayProcessConfig,
  HeadProcessConfig,
} from '../orchestrate/process-config.js';
import type { HeadRuntime } from '../runtime/head.js';
import { hasParent, receiveConfig, tellParent, watchParent } from '../runtime/ipc.js';
import type { ClassKind } from '../runtime/load-executor.js';
import type { WorkerRuntime } from '../runtime/worker.js';
import { shareFlowgateWithCommonJs } from '../runtime/user-module.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The runtimes are imported by role (below), so that an Executor process does not load the
// Gateway's dependencies, nor a Gateway process the Executor's (nor the loader of user modules and
// its YAML parser unless it has a custom Gateway or an `authenticate` module to load).

// A user's CommonJS module that does `require('flowgate')` gets this very flowgate (loaded only
// when such a module is), not a second copy whose Executor the runtime would not recognise.
// (From the sources, run with tsx, the entry is index.ts.)
shareFlowgateWithCommonJs(async () => {
  const js = fileURLToPath(new URL('../index.js', import.meta.url));
  return { file: existsSync(js) ? js : js.replace(/\.js$/, '.ts'), exports: await import('../index.js') };
});

/** Something that can be stopped on SIGTERM. */
interface Stoppable {
  close(): Promise<void>;
}

/**
 * Stops `runtime` on SIGTERM/SIGINT or when the parent Flow goes away, then exits 0; `log` gets one
 * line when stopping starts and one when it is done.
 */
export function stopOnSignals(runtime: Stoppable, log?: Logger): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    log?.info('stopping');
    runtime.close().then(
      () => {
        log?.info('stopped', { durationMs: Date.now() - started });
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`error while stopping: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (hasParent()) watchParent(stop);
}

/** The lifecycle line of a runtime that is ready: its ports, and its metrics port if any. */
/**
 * A runtime that just started: stops on SIGTERM/SIGINT from now on, tells the parent Flow its
 * ports, and logs the `started` line.
 */
function announceStarted(
  runtime: Stoppable & { monitoringPort: number | undefined },
  log: Logger,
  ports: number[],
): void {
  stopOnSignals(runtime, log);
  tellParent({ type: 'ready', ports });
  const monitoringPort = runtime.monitoringPort;
  log.info('started', monitoringPort === undefined ? { ports } : { ports, monitoringPort });
}

/** True when a base class of `cls` is named `base` but is not this copy's Executor. */
function extendsOtherCopy(cls: unknown, base = 'Executor'): boolean {
  for (let p = Object.getPrototypeOf(cls) as unknown; typeof p === 'function'; p = Object.getPrototypeOf(p)) {
    if ((p as { name?: string }).name === base) return true;
  }
  return false;
}

function reportFailure(err: unknown): never {
  const e = err instanceof Error ? err : new Error(String(err));
  // One sentence with the fix (the parent Flow prints it); the stack only when asked for.
  const sentence = explain(e);
  if (process.env.FLOWGATE_LOG_LEVEL?.toLowerCase() === 'debug')
    process.stderr.write(`${e.stack ?? e.message}\n`);
  if (hasParent()) tellParent({ type: 'failed', message: sentence, stack: e.stack });
  else process.stderr.write(`flowgate: ${sentence}\n`);
  process.exit(1);
}

/** TLS credentials of an Executor's gRPC server from PEM files; one without the other is an error. */
async function serverCredentials(ssl: { certfile: string; keyfile: string }) {
  if (!ssl.certfile || !ssl.keyfile)
    throw new TypeError(
      'TLS needs both --ssl-certfile and --ssl-keyfile (the certificate and its private key)',
    );
  const [{ readFile }, grpc] = await Promise.all([import('node:fs/promises'), import('@grpc/grpc-js')]);
  const read = (what: string, path: string) =>
    readFile(path).catch((err: Error) => {
      throw new TypeError(`cannot read the TLS ${what} ${path}: ${err.message}`);
    });
  const [cert, key] = await Promise.all([
    read('certificate', ssl.certfile),
    read('private key', ssl.keyfile),
  ]);
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }]);
}

/** Builds and serves one Executor from a process config; reports the bound port to the parent. */
export async function serveExecutor(config: ExecutorProcessConfig): Promise<WorkerRuntime> {
  try {
    const [{ Executor }, { mergeBatching }, { loadExecutorClass, loadExecutorFromUses }] = await Promise.all([
      import('../executor/executor.js'),
      import('../executor/dynamic-batching.js'),
      import('../runtime/load-executor.js'),
    ]);
    let cls: ExecutorClass;
    let usesWith = config.usesWith;
    let metas = config.metas;
    let dynamicBatching = config.dynamicBatching;
    if (config.uses.spec) {
      const loaded = await loadExecutorFromUses(config.uses.spec);
      cls = loaded.cls;
      dynamicBatching = mergeBatching(loaded.dynamicBatching, dynamicBatching);
      usesWith = { ...loaded.usesWith, ...usesWith };
      metas = { ...loaded.metas, ...metas };
    } else {
      cls = await loadExecutorClass({ module: config.uses.module!, className: config.uses.className });
    }
    if (!(cls.prototype instanceof Executor) && (cls as unknown) !== Executor) {
      throw new TypeError(
        extendsOtherCopy(cls)
          ? `${cls.name} extends a second copy of flowgate's Executor: its module was loaded as CommonJS; make it ESM ("type": "module" in its package.json, or a .mts file)`
          : `${cls.name} does not extend Executor`,
      );
    }
    const executor = new cls({
      ...usesWith,
      metas: { ...metas, name: config.name },
      runtimeArgs: { ...config.runtimeArgs, port: config.port },
    });
    const { WorkerRuntime } = await import('../runtime/worker.js');
    const worker = new WorkerRuntime({
      executor,
      host: config.host,
      port: config.port,
      observability: config.observability,
      credentials: config.ssl && (await serverCredentials(config.ssl)),
      dynamicBatching,
    });
    const port = await worker.start();
    const log = consoleLogger(config.observability?.runtimeName ?? config.name);
    announceStarted(worker, log, [port]);
    return worker;
  } catch (err) {
    reportFailure(err);
  }
}

/** What a custom Gateway class is, for the class loader. */
const GATEWAY_KIND: ClassKind = {
  kind: 'Gateway',
  accepts: (v) => typeof v === 'function' && (v as GatewayClass).prototype instanceof Gateway,
  registerHint: 'pass it to flow.configGateway({ uses })',
};

/** Loads the custom Gateway class a process config names. */
async function loadGatewayClass(ref: NonNullable<GatewayProcessConfig['uses']>): Promise<GatewayClass> {
  const { loadClass, parseClassSpec } = await import('../runtime/load-executor.js');
  const classRef = 'spec' in ref ? parseClassSpec(ref.spec) : ref;
  const cls = await loadClass<GatewayClass>(classRef, GATEWAY_KIND);
  if (!(cls.prototype instanceof Gateway)) {
    throw new TypeError(
      extendsOtherCopy(cls, 'Gateway')
        ? `${cls.name} extends a second copy of flowgate's Gateway: import Gateway from the same flowgate as the Flow, as ESM`
        : `${cls.name} does not extend Gateway (or FastifyBaseGateway)`,
    );
  }
  return cls;
}

/** What an `authenticate` hook is, for the loader. */
const AUTH_HOOK_KIND: ClassKind = {
  kind: 'authenticate function',
  accepts: (v) => typeof v === 'function',
  registerHint: 'pass it to flow.configGateway({ authenticate })',
};

/** The `authenticate` hook a process config names as `module.ts:function`, loaded. */
async function loadAuthHook(ref: AuthHook | string | undefined): Promise<AuthHook | undefined> {
  if (typeof ref !== 'string') return ref;
  const { loadClass, parseClassSpec } = await import('../runtime/load-executor.js');
  const spec = parseClassSpec(ref);
  if (!spec.className)
    throw new TypeError(`authenticate '${ref}' must name a function: 'auth.ts:functionName'`);
  return loadClass<AuthHook>(spec, AUTH_HOOK_KIND);
}

/**
 * Builds and serves the Gateway from a process config (loading a custom Gateway class first, if
 * one is named); reports its ports to the parent.
 */
export async function serveGateway(config: GatewayProcessConfig): Promise<GatewayRuntime> {
  try {
    const { uses, ...rest } = config;
    const { GatewayRuntime } = await import('../serve/gateway-runtime.js');
    const gatewayOptions = rest.gatewayOptions && {
      ...rest.gatewayOptions,
      authenticate: await loadAuthHook(rest.gatewayOptions.authenticate),
    };
    const { memoryReliefThresholdMb } = await import('../serve/memory-relief.js');
    const runtime = new GatewayRuntime({
      memoryReliefMb: memoryReliefThresholdMb(),
      ...rest,
      gatewayOptions,
      uses: uses && (await loadGatewayClass(uses)),
    });
    const ports = await runtime.start();
    const log = consoleLogger(config.name ?? 'gateway');
    announceStarted(runtime, log, ports);
    return runtime;
  } catch (err) {
    reportFailure(err);
  }
}

/** Serves the head of a sharded deployment from a process config; reports its port to the parent. */
export async function serveHead(config: HeadProcessConfig): Promise<HeadRuntime> {
  try {
    const { HeadRuntime } = await import('../runtime/head.js');
    const { loadObservability } = await import('../runtime/observability.js');
    await loadObservability(config.observability);
    const head = new HeadRuntime(config);
    const port = await head.start();
    const log = consoleLogger(`${config.name}/head`);
    announceStarted(head, log, [port]);
    return head;
  } catch (err) {
    reportFailure(err);
  }
}

/** In a child spawned by a Flow: waits for the config over IPC, then serves. */
export async function serveFromParent(role: 'executor' | 'head' | 'gateway'): Promise<void> {
  if (role === 'executor') await serveExecutor(await receiveConfig<ExecutorProcessConfig>());
  else if (role === 'head') await serveHead(await receiveConfig<HeadProcessConfig>());
  else await serveGateway(await receiveConfig<GatewayProcessConfig>());
}
