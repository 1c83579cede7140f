import { createRequire } from 'node:module';
import { isAbsolute, relative, sep } from 'node:path';
import type { ExecutorSpec, FlowSpec } from '../../config/schemas.js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Protocol } from '../../gateway/gateway.js';
import type { Polling } from '../../runtime/head.js';
import { checkGraph } from './graph.js';

/** The port every Executor, head and shard listens on inside its Kubernetes pod. */
export const K8S_PORT = 8080;
/** The port of a head's `usesBefore` / `usesAfter` container, beside the head in its pod. */
export const K8S_USES_BEFORE_PORT = 8081;
export const K8S_USES_AFTER_PORT = 8082;
/** The port every Executor, head and shard service listens on in Docker Compose (as the original). */
export const COMPOSE_PORT = 8081;
/** The first Gateway port when the Flow gives none (or 0); the next protocols take the next ports. */
export const DEFAULT_GATEWAY_PORT = 8080;

/** Options shared by every export target. */
export interface ExportOptions {
  /** The flowgate runtime image; default `flowgate:<version>`. */
  image?: string;
  /**
   * The Flow file's folder. `uses` paths under it (absolute after `loadFlowSpec`) are written
   * relative to it: the image holds them at the same relative path under its working directory.
   */
  baseDir?: string;
  /** `FLOWGATE_LOG_LEVEL` for every container (unset: the runtime's default). */
  logLevel?: string;
}

/** What one container runs: an image, and the `--uses` it is given. */
export interface ContainerUses {
  image: string;
  uses: string;
}

interface PlannedBase {
  /** The Executor as the Flow gives it. */
  spec: ExecutorSpec;
  /** Its name in the Flow. */
  name: string;
  /** Its name as a Kubernetes object / Compose service: lowercase letters, digits and `-`. */
  id: string;
}

/** An Executor without shards: `replicas` copies of one container. */
export interface PlannedWorker extends PlannedBase {
  kind: 'worker';
  main: ContainerUses;
  replicas: number;
  env: Record<string, string>;
}

/** An Executor with shards: a head (with its `usesBefore` / `usesAfter`) and `shards` workers. */
export interface PlannedSharded extends PlannedBase {
  kind: 'sharded';
  main: ContainerUses;
  replicas: number;
  shards: number;
  polling: Polling | undefined;
  usesBefore: ContainerUses | undefined;
  usesAfter: ContainerUses | undefined;
  env: Record<string, string>;
}

/** Runs elsewhere (`external: true`) or has no `uses` (the Gateway merges): nothing to deploy. */
export interface PlannedNothing extends PlannedBase {
  kind: 'external' | 'merge';
}

export type PlannedExecutor = PlannedWorker | PlannedSharded | PlannedNothing;

/** A Flow turned into what to deploy, whatever the target. */
export interface ExportPlan {
  spec: FlowSpec;
  /** The flowgate runtime image (heads, and Executors not given as `docker://`). */
  image: string;
  /** `FLOWGATE_LOG_LEVEL` for every container, if set. */
  logLevel: string | undefined;
  /** The Flow's name (`with.name`), if any. */
  flowName: string | undefined;
  executors: PlannedExecutor[];
  gateway: { image: string; uses: string | undefined; protocols: Protocol[]; ports: number[] };
  /** Seconds a part may take to become ready (`with.timeoutReady`, default 60 s; -1 = 600 s). */
  timeoutReadySeconds: number;
  /** Things the user should know (an absolute path the image must hold, metas not passed...). */
  warnings: string[];
}

/** flowgate's own version, for the default image tag. */
export function flowgateVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('flowgate/package.json') as { version: string }).version;
}

/**
 * An Executor name as a DNS label (Kubernetes object and Compose service names): lowercase,
 * `_` becomes `-`, and a leading digit gets an `e-` prefix.
 *
 * @example
 * ```ts
 * objectName('My_Encoder'); // 'my-encoder'
 * ```
 */
export function objectName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return /^[a-z]/.test(s) ? s : `e-${s}`;
}

/** Rejects two names that would become the same object, and names too long for a DNS label. */
export function checkObjectNames(names: Iterable<[objectName: string, owner: string]>): void {
  const seen = new Map<string, string>();
  for (const [obj, owner] of names) {
    if (obj.length > 63)
      throw new FlowgateError(
        Code.InvalidArgument,
        `${owner} becomes the object name '${obj}', longer than the 63 characters of a DNS label: give it a shorter name`,
      );
    const other = seen.get(obj);
    if (other !== undefined && other !== owner)
      throw new FlowgateError(
        Code.InvalidArgument,
        `${owner} and ${other} would both be deployed as '${obj}': rename one of them`,
      );
    seen.set(obj, owner);
  }
}

/**
 * What a container runs for one `uses`. `docker://image`: that image, with `--uses config.yml` (the
 * original's convention). Anything else: the runtime image, with the path as written relative to
 * the Flow file, which the image must hold at the same place under its working directory (`/app`).
 */
export function containerUses(
  uses: string,
  modules: string | string[] | undefined,
  options: { image: string; baseDir?: string; what: string; warnings: string[] },
): ContainerUses {
  const docker = /^docker:\/\/(.+)$/.exec(uses);
  if (docker) return { image: docker[1]!, uses: 'config.yml' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uses))
    throw new FlowgateError(
      Code.InvalidArgument,
      `${options.what}: uses '${uses}' cannot be exported: give a path in the Flow's folder or docker://image`,
    );
  const rel = (p: string): string => {
    if (!isAbsolute(p)) return p;
    const r = options.baseDir === undefined ? p : relative(options.baseDir, p);
    if (r === p || r.startsWith('..') || isAbsolute(r)) {
      options.warnings.push(
        `${options.what}: ${p} is outside the Flow's folder; the image must hold it at that absolute path`,
      );
      return p;
    }
    return r.split(sep).join('/');
  };
  const firstModule = [modules ?? []].flat()[0];
  if (/^\w+$/.test(uses)) {
    if (firstModule !== undefined) return { image: options.image, uses: `${rel(firstModule)}:${uses}` };
    options.warnings.push(
      `${options.what}: uses '${uses}' names a class without modules; the container cannot find it`,
    );
    return { image: options.image, uses };
  }
  return { image: options.image, uses: rel(uses) };
}

function stringEnv(env: ExecutorSpec['env'], logLevel: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (logLevel !== undefined) out.FLOWGATE_LOG_LEVEL = logLevel;
  for (const [k, v] of Object.entries(env ?? {})) out[k] = String(v);
  return out;
}

/**
 * The Gateway's protocols and ports: the Flow's, with 8080, 8081... where it gives none or 0. One
 * port given for several built-in protocols stays one port (every protocol served on it).
 */
export function gatewayPorts(spec: FlowSpec): { protocols: Protocol[]; ports: number[] } {
  const protocols = [spec.gateway.protocol ?? 'grpc'].flat();
  const given = spec.gateway.port === undefined ? [] : [spec.gateway.port].flat();
  if (given.length === 1 && protocols.length > 1 && spec.gateway.uses === undefined)
    return { protocols, ports: [given[0] || DEFAULT_GATEWAY_PORT] };
  if (given.length > 0 && given.length !== protocols.length)
    throw new FlowgateError(
      Code.InvalidArgument,
      `the gateway has ${protocols.length} protocols but ${given.length} ports: give one port per protocol, or one port for all`,
    );
  const ports = protocols.map((_, i) => given[i] || DEFAULT_GATEWAY_PORT + i);
  if (new Set(ports).size !== ports.length)
    throw new FlowgateError(Code.InvalidArgument, `the gateway ports ${ports.join(', ')} repeat a port`);
  return { protocols, ports };
}

/**
 * Turns a Flow into what to deploy: one entry per Executor, with the image and `--uses` of each
 * container. Checks the graph (unknown `needs`, cycles) and that every name makes a distinct object.
 */
export function planExport(spec: FlowSpec, options: ExportOptions = {}): ExportPlan {
  checkGraph(spec);
  const image = options.image ?? `flowgate:${flowgateVersion()}`;
  const warnings: string[] = [];
  const executors = spec.executors.map((e, i): PlannedExecutor => {
    const name = e.name ?? `executor${i}`;
    const base = { spec: e, name, id: objectName(name) };
    if (e.external) return { ...base, kind: 'external' };
    if (e.uses === undefined) return { ...base, kind: 'merge' };
    const what = `Executor '${name}'`;
    const cu = (u: string, label: string) =>
      containerUses(u, e.modules, { image, baseDir: options.baseDir, what: label, warnings });
    if (e.metas !== undefined && Object.keys(e.metas).length > 0)
      warnings.push(
        `${what}: metas are not passed to the container (flowgate executor has no flag for them)`,
      );
    const env = stringEnv(e.env, options.logLevel);
    const main = cu(e.uses, what);
    const replicas = e.replicas ?? 1;
    const shards = e.shards ?? 1;
    if (shards === 1) {
      if (e.usesBefore !== undefined || e.usesAfter !== undefined)
        warnings.push(`${what}: usesBefore / usesAfter only apply with shards > 1; left out`);
      return { ...base, kind: 'worker', main, replicas, env };
    }
    return {
      ...base,
      kind: 'sharded',
      main,
      replicas,
      shards,
      polling: e.polling,
      usesBefore: e.usesBefore === undefined ? undefined : cu(e.usesBefore, `${what} (usesBefore)`),
      usesAfter: e.usesAfter === undefined ? undefined : cu(e.usesAfter, `${what} (usesAfter)`),
      env,
    };
  });
  const gw = spec.gateway.uses;
  const gwUses =
    gw === undefined
      ? undefined
      : containerUses(gw, spec.gateway.modules, {
          image,
          baseDir: options.baseDir,
          what: 'the gateway',
          warnings,
        });
  const gateway = { ...gatewayPorts(spec), image: gwUses?.image ?? image, uses: gwUses?.uses };
  if (gw !== undefined)
    warnings.push(
      'the gateway has uses: a custom Gateway cannot be started from Flow YAML yet (flowgate flow rejects gateway.uses)',
    );
  const timeoutReady = spec.with.timeoutReady ?? 60_000;
  return {
    spec,
    image,
    logLevel: options.logLevel,
    flowName: spec.with.name,
    executors,
    gateway,
    timeoutReadySeconds: Math.ceil((timeoutReady < 0 ? 600_000 : timeoutReady) / 1000),
    warnings,
  };
}
