import { Executor, type ExecutorClass } from '../executor/executor.js';
import { Gateway, type GatewayClass } from '../gateway/gateway.js';
import { GatewayRuntime } from '../gateway/gateway-runtime.js';
import type {
  ExecutorProcessConfig,
  GatewayProcessConfig,
  HeadProcessConfig,
} from '../orchestrate/process-config.js';
import { HeadRuntime } from '../runtime/head.js';
import { hasParent, receiveConfig, tellParent, watchParent } from '../runtime/ipc.js';
import {
  loadClass,
  loadExecutorClass,
  loadExecutorFromUses,
  parseClassSpec,
  type ClassKind,
} from '../runtime/load-executor.js';
import { WorkerRuntime } from '../runtime/worker.js';

/** Something that can be stopped on SIGTERM. */
interface Stoppable {
  close(): Promise<void>;
}

/** Stops `runtime` on SIGTERM/SIGINT or when the parent Flow goes away, then exits 0. */
export function stopOnSignals(runtime: Stoppable): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    runtime.close().then(
      () => process.exit(0),
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

/** True when a base class of `cls` is named `base` but is not this copy's Executor. */
function extendsOtherCopy(cls: unknown, base = 'Executor'): boolean {
  for (let p = Object.getPrototypeOf(cls) as unknown; typeof p === 'function'; p = Object.getPrototypeOf(p)) {
    if ((p as { name?: string }).name === base) return true;
  }
  return false;
}

function reportFailure(err: unknown): never {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1).join('\n') ?? ''}\n`);
  tellParent({ type: 'failed', message: e.message, stack: e.stack });
  process.exit(1);
}

/** Builds and serves one Executor from a process config; reports the bound port to the parent. */
export async function serveExecutor(config: ExecutorProcessConfig): Promise<WorkerRuntime> {
  try {
    let cls: ExecutorClass;
    let usesWith = config.usesWith;
    let metas = config.metas;
    if (config.uses.spec) {
      const loaded = await loadExecutorFromUses(config.uses.spec);
      cls = loaded.cls;
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
    const worker = new WorkerRuntime({ executor, host: config.host, port: config.port });
    const port = await worker.start();
    stopOnSignals(worker);
    tellParent({ type: 'ready', ports: [port] });
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

/**
 * Builds and serves the Gateway from a process config (loading a custom Gateway class first, if
 * one is named); reports its ports to the parent.
 */
export async function serveGateway(config: GatewayProcessConfig): Promise<GatewayRuntime> {
  try {
    const { uses, ...rest } = config;
    const runtime = new GatewayRuntime({ ...rest, uses: uses && (await loadGatewayClass(uses)) });
    const ports = await runtime.start();
    stopOnSignals(runtime);
    tellParent({ type: 'ready', ports });
    return runtime;
  } catch (err) {
    reportFailure(err);
  }
}

/** Serves the head of a sharded deployment from a process config; reports its port to the parent. */
export async function serveHead(config: HeadProcessConfig): Promise<HeadRuntime> {
  try {
    const head = new HeadRuntime(config);
    const port = await head.start();
    stopOnSignals(head);
    tellParent({ type: 'ready', ports: [port] });
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
