import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { Code, FlowgateError } from '../core/errors.js';
import { validateComponent } from './load.js';
import { gatewaySchema, type GatewaySpec } from './schemas.js';
import { parseYamlSource } from './yaml-source.js';

/**
 * A Gateway YAML file: the custom Gateway class (`jtype`, or the `!MyGateway` tag), the module that
 * defines it (`modules`, alias `py_modules`), its constructor arguments (`with`) and any Gateway
 * option (`port`, `protocol`, ...).
 *
 * ```yaml
 * jtype: MyGateway
 * modules: my_gateway.ts
 * with: { arg1: hello, arg2: world }
 * port: 12345
 * protocol: http
 * ```
 */
const gatewayYamlSchema = gatewaySchema.extend({ jtype: z.string().regex(/^\w+$/, 'a class name') }).strict();

/** Whether a `uses` names a Gateway (or Executor) YAML file. */
export function isYamlFile(uses: string): boolean {
  return /\.ya?ml$/i.test(uses);
}

/**
 * Reads and validates a Gateway YAML file (synchronously: `configGateway` calls it). `uses` in the
 * result is `'/abs/module.ts:ClassName'`, `usesWith` the `with:` map; every other key is a Gateway
 * option. Relative module paths are relative to the YAML file.
 *
 * @example
 * ```ts
 * loadGatewayYaml('my-gateway/config.yml');
 * // { uses: '/abs/my-gateway/my_gateway.ts:MyGateway', usesWith: { arg1: 'hello' }, port: 12345 }
 * ```
 * @throws FlowgateError naming the file, line and key of the first problem.
 */
export function loadGatewayYaml(path: string, env: NodeJS.ProcessEnv = process.env): GatewaySpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new FlowgateError(
      Code.NotFound,
      e.code === 'ENOENT' ? `${path}: no such Gateway YAML file` : `cannot read ${path}: ${e.message}`,
    );
  }
  const src = parseYamlSource(text, path, env);
  const raw = src.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('jtype' in raw))
    throw new FlowgateError(
      Code.InvalidArgument,
      `${path}: a Gateway YAML names its class with jtype: MyGateway (or the tag !MyGateway)`,
    );
  const { jtype, modules, uses, ...options } = validateComponent(
    gatewayYamlSchema,
    raw,
    src,
    [],
    'the Gateway YAML',
  );
  if (uses !== undefined)
    throw new FlowgateError(
      Code.InvalidArgument,
      `${src.locate(['uses'], true)}: a Gateway YAML names its class with jtype, not uses`,
    );
  const module = [modules ?? []].flat()[0];
  if (module === undefined)
    throw new FlowgateError(
      Code.InvalidArgument,
      `${src.locate(['jtype'])}: name the module that defines ${jtype} with modules: my_gateway.ts`,
    );
  const base = dirname(resolve(path));
  const file = isAbsolute(module) ? module : resolve(base, module);
  return { ...options, uses: `${file}:${jtype}` };
}

/**
 * Options whose `uses` is a Gateway YAML file, expanded: the file's options first, then the ones
 * given (as the original's `uses_with` overrides `with:`). Other options are returned as they are.
 *
 * @example
 * ```ts
 * withGatewayYaml({ uses: 'gw/config.yml', port: 8080 });
 * // { uses: '/abs/gw/my_gateway.ts:MyGateway', usesWith: {...}, port: 8080, protocol: 'http' }
 * ```
 */
export function withGatewayYaml<T extends { uses?: unknown; usesWith?: Record<string, unknown> }>(
  options: T,
  env: NodeJS.ProcessEnv = process.env,
): T {
  if (typeof options.uses !== 'string' || !isYamlFile(options.uses)) return options;
  const fromYaml = loadGatewayYaml(options.uses, env);
  return {
    ...(fromYaml as Partial<T>),
    ...options,
    uses: fromYaml.uses,
    usesWith: { ...fromYaml.usesWith, ...options.usesWith },
  };
}
