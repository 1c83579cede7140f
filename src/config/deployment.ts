import { dirname, isAbsolute, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import { Code, FlowgateError } from '../core/errors.js';
import { loadFlowSpec, validateComponent } from './load.js';
import { authenticateOption, usesExecutor } from './options.js';
import {
  BUILTIN_GATEWAY_OPTIONS,
  executorSchema,
  flowOptionsSchema,
  gatewaySchema,
  type FlowSpec,
} from './schemas.js';
import { readYamlSource, type YamlSource } from './yaml-source.js';

/**
 * A Deployment: one Executor (its replicas, shards) served on a port and protocol, without writing a
 * Flow. Its schema is composed from the Executor's and the Gateway's: every Executor key but those
 * that place it in a graph or outside the Flow, plus the Gateway keys a client sees.
 */

/** The Gateway keys of a Deployment: where and how clients reach it. */
export const DEPLOYMENT_GATEWAY_KEYS = [
  'protocol',
  'port',
  'host',
  'prefetch',
  'compression',
  ...BUILTIN_GATEWAY_OPTIONS,
] as const;

const gatewayPick = Object.fromEntries(DEPLOYMENT_GATEWAY_KEYS.map((k) => [k, true])) as {
  [K in (typeof DEPLOYMENT_GATEWAY_KEYS)[number]]: true;
};

/** A Deployment's options (`with:` of `jtype: Deployment`, `flowgate deployment` flags). */
export const deploymentSchema = executorSchema
  .omit({ host: true, port: true, external: true, needs: true, when: true, floating: true, tls: true })
  .extend(gatewaySchema.pick(gatewayPick).shape)
  .extend(flowOptionsSchema.pick({ timeoutReady: true }).shape);

export type DeploymentSpec = z.infer<typeof deploymentSchema>;

/** {@link deploymentSchema} with what only code gives: Executor classes, an `authenticate` function. */
export const deploymentOptionsSchema = deploymentSchema.extend({
  /** An Executor class, a module path (`exec.ts:ClassName`), an Executor YAML file, or `docker://image`. */
  uses: usesExecutor.optional(),
  /** With shards: an Executor every request goes through before the shards. */
  usesBefore: usesExecutor.optional(),
  /** With shards: an Executor that receives all shards' answers and answers. */
  usesAfter: usesExecutor.optional(),
  /** A check run on every request: `'auth.ts:check'`, or a named function of the calling file. */
  authenticate: authenticateOption.optional(),
});

/** Options of `new Deployment()`. */
export type DeploymentOptions = z.input<typeof deploymentOptionsSchema>;

const GATEWAY_KEYS = new Set<string>(DEPLOYMENT_GATEWAY_KEYS);

/**
 * A Deployment's options split into the one-Executor Flow it is: the Flow's options, its Gateway's,
 * and its Executor's (named `executor` unless `name` says otherwise).
 *
 * @example
 * ```ts
 * splitDeployment({ uses: 'upper.ts:Upper', port: 12345, replicas: 2 });
 * // { flow: {}, gateway: { port: 12345 }, executor: { name: 'executor', uses: 'upper.ts:Upper', replicas: 2 } }
 * ```
 */
export function splitDeployment<T extends Record<string, unknown>>(
  options: T,
): {
  flow: { timeoutReady?: number };
  gateway: Record<string, unknown>;
  executor: Record<string, unknown> & { name: string };
} {
  const gateway: Record<string, unknown> = {};
  const executor: Record<string, unknown> = {};
  const flow: { timeoutReady?: number } = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (k === 'timeoutReady') flow.timeoutReady = v as number;
    else (GATEWAY_KEYS.has(k) ? gateway : executor)[k] = v;
  }
  return {
    flow,
    gateway,
    executor: { ...executor, name: (executor.name as string | undefined) ?? 'executor' },
  };
}

/** The one-Executor Flow YAML form of a Deployment. */
export function deploymentFlowSpec(spec: DeploymentSpec): FlowSpec {
  const { flow, gateway, executor } = splitDeployment(spec);
  return { jtype: 'Flow', with: flow, gateway, executors: [executor] };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a parsed Deployment YAML (`jtype: Deployment`, options under `with:`). */
export function deploymentSpecFromSource(src: YamlSource): DeploymentSpec {
  const doc = src.value;
  if (!isPlainObject(doc))
    throw new FlowgateError(Code.InvalidArgument, `${src.file}: a Deployment YAML must be a map`);
  for (const k of Object.keys(doc))
    if (!['jtype', 'version', 'with'].includes(k))
      throw new FlowgateError(
        Code.InvalidArgument,
        `${src.locate([k], true)}: unknown key '${k}' in the Deployment (known: jtype, version, with)`,
      );
  if (doc.jtype !== 'Deployment')
    throw new FlowgateError(
      Code.InvalidArgument,
      `${src.locate(['jtype'])}: a Deployment YAML needs jtype: Deployment (or the tag !Deployment)`,
    );
  return validateComponent(deploymentSchema, doc.with ?? {}, src, ['with'], 'the Deployment');
}

/** Relative paths of a Deployment YAML are relative to its file. */
function resolvePaths(spec: DeploymentSpec, base: string): DeploymentSpec {
  const local = (p: string) =>
    !/^[a-z+]+:\/\//i.test(p) &&
    !isAbsolute(p) &&
    (/[\\/]/.test(p) || /\.(ya?ml|[cm]?[jt]sx?)(:\w+)?$/i.test(p));
  const fix = (p: string) => (local(p) ? resolve(base, p) : p);
  const out: DeploymentSpec = { ...spec };
  for (const k of ['uses', 'usesBefore', 'usesAfter', 'authenticate'] as const)
    if (out[k]) out[k] = fix(out[k]);
  if (out.modules !== undefined) out.modules = [out.modules].flat().map(fix);
  return out;
}

/**
 * Reads, substitutes and validates a Deployment YAML file; relative paths become absolute.
 *
 * @example
 * ```ts
 * const spec = await loadDeploymentSpec('dep.yml'); // jtype: Deployment, with: { uses: Upper, ... }
 * ```
 */
export async function loadDeploymentSpec(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeploymentSpec> {
  return resolvePaths(deploymentSpecFromSource(await readYamlSource(path, env)), dirname(resolve(path)));
}

/** Whether a YAML file is a Deployment's (`jtype: Deployment` or `!Deployment`). */
export async function isDeploymentYaml(path: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const src = await readYamlSource(path, env);
  return isPlainObject(src.value) && src.value.jtype === 'Deployment';
}

/** A Flow YAML, or a Deployment YAML as its one-Executor Flow (for export). */
export async function loadFlowOrDeploymentSpec(path: string): Promise<FlowSpec> {
  if (await isDeploymentYaml(path)) return deploymentFlowSpec(await loadDeploymentSpec(path));
  return loadFlowSpec(path);
}

/** A Deployment as YAML (`jtype: Deployment`, snake_case keys under `with:`). */
export function stringifyDeploymentSpec(spec: DeploymentSpec): string {
  const snake = Object.fromEntries(
    Object.entries(spec)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
  return stringify({ jtype: 'Deployment', with: snake });
}
