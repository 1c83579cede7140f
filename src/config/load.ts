import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { Code, FlowgateError } from '../core/errors.js';
import {
  executorSchema,
  flowOptionsSchema,
  gatewaySchema,
  keyAliases,
  type ExecutorSpec,
  type FlowOptionsSpec,
  type FlowSpec,
  type GatewaySpec,
} from './schemas.js';
import {
  formatPath,
  parseYamlSource,
  readYamlSource,
  type YamlPath,
  type YamlSource,
} from './yaml-source.js';

/** `uses_with` -> `usesWith`; aliases such as `with` -> `usesWith`. */
export function camelKey(key: string): string {
  return keyAliases[key] ?? key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * The command-line flag of an option key, without the dashes: `timeoutSend` -> `timeout-send`.
 * `flowgate gateway`'s flags and the flags a Flow gives a Gateway container both come from it.
 */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Closest known key by edit distance, for "did you mean" hints. */
function closest(key: string, known: string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dd = dist(key.toLowerCase(), k.toLowerCase());
    if (dd < bestD) [best, bestD] = [k, dd];
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Validates one component object (an Executor entry, the gateway section...) against its schema.
 * Keys may be camelCase or snake_case. Errors name the file, line, key and the rule broken.
 */
export function validateComponent<S extends z.ZodObject>(
  schema: S,
  raw: unknown,
  src: Pick<YamlSource, 'locate'>,
  path: YamlPath,
  what: string,
): z.infer<S> {
  if (!isPlainObject(raw)) {
    throw new FlowgateError(
      Code.InvalidArgument,
      `${src.locate(path)}: ${formatPath(path)} (${what}) must be a map of options`,
    );
  }
  const known = Object.keys(schema.shape);
  const original = new Map<string, string>();
  const value: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const key = camelKey(k);
    if (original.has(key)) {
      problems.push(
        `${src.locate([...path, k], true)}: ${what} gives '${key}' twice (as ${original.get(key)} and ${k}): keep one`,
      );
      continue;
    }
    original.set(key, k);
    value[key] = v;
  }
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success && problems.length === 0) return result.data;
  for (const issue of result.error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const orig = original.get(key) ?? key;
        const hint = closest(key, known);
        problems.push(
          `${src.locate([...path, orig], true)}: unknown key '${orig}' in ${what}${hint ? `: did you mean '${hint}'?` : ''} (known: ${known.join(', ')})`,
        );
      }
      continue;
    }
    const [first, ...rest] = issue.path as (string | number)[];
    const origFirst = typeof first === 'string' ? (original.get(first) ?? first) : first;
    const at = origFirst === undefined ? path : [...path, origFirst, ...rest];
    const expected =
      rest.length === 0 && typeof first === 'string' ? expectation(schema.shape[first]) : undefined;
    problems.push(`${src.locate(at)}: ${formatPath(at)} in ${what}: ${describeIssue(issue, expected)}`);
  }
  throw new FlowgateError(Code.InvalidArgument, problems.join('\n'));
}

/** What a simple field expects, in words ("a whole number >= 1"); undefined for composite ones. */
function expectation(field: unknown): string | undefined {
  let s = field as { unwrap?: () => unknown } | undefined;
  while (s && typeof s.unwrap === 'function' && !(s instanceof z.ZodNumber)) s = s.unwrap() as typeof s;
  if (s instanceof z.ZodNumber) {
    const min = s.minValue !== null && Number.isFinite(s.minValue) ? ` >= ${s.minValue}` : '';
    return `${s.isInt ? 'a whole number' : 'a number'}${min}`;
  }
  if (s instanceof z.ZodString) return 'a string';
  if (s instanceof z.ZodBoolean) return 'true or false';
  return undefined;
}

/** A value as a user reads it: "the string 'two'", "the number 2.5", "a list". */
function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (typeof v === 'string') return `the string '${v}'`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return Array.isArray(v) ? 'a list' : 'a map';
}

function describeIssue(issue: z.core.$ZodIssue, expected: string | undefined): string {
  const got = describeValue(issue.input);
  if (issue.code === 'invalid_type') return `expected ${expected ?? issue.expected}, got ${got}`;
  if ((issue.code === 'too_small' || issue.code === 'too_big') && expected)
    return `expected ${expected}, got ${got}`;
  if (issue.code === 'invalid_value')
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
  if (issue.code === 'invalid_union') return `has the wrong type or value (got ${got})`;
  return issue.message;
}

const FLOW_KEYS = new Set(['jtype', 'version', 'with', 'gateway', 'executors', 'deployments']);

/**
 * Validates a parsed Flow YAML document. Gateway options found under `with:` (as older Flow YAML
 * files put them) are moved to `gateway`.
 *
 * @example
 * ```ts
 * const spec = flowSpecFromSource(parseYamlSource('jtype: Flow\nexecutors:\n  - uses: a.ts\n'));
 * spec.executors[0].uses; // 'a.ts'
 * ```
 */
export function flowSpecFromSource(src: YamlSource): FlowSpec {
  const doc = src.value ?? {};
  if (!isPlainObject(doc))
    throw new FlowgateError(Code.InvalidArgument, `${src.file}: a Flow YAML must be a map`);
  // Every mistake of the file is reported at once, one line each.
  const problems: string[] = [];
  const check = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof FlowgateError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  for (const k of Object.keys(doc)) {
    if (!FLOW_KEYS.has(k)) {
      const hint = closest(k, [...FLOW_KEYS]);
      problems.push(
        `${src.locate([k], true)}: unknown key '${k}' in the Flow${hint ? `: did you mean '${hint}'?` : ''} (known: ${[...FLOW_KEYS].join(', ')})`,
      );
    }
  }
  if (doc.jtype !== undefined && doc.jtype !== 'Flow') {
    problems.push(
      `${src.locate(['jtype'])}: jtype is ${JSON.stringify(doc.jtype)}, a Flow YAML needs jtype: Flow`,
    );
  }
  const flowKeys = new Set(Object.keys(flowOptionsSchema.shape));
  const withRaw = doc.with ?? {};
  if (!isPlainObject(withRaw))
    throw new FlowgateError(Code.InvalidArgument, `${src.locate(['with'])}: with must be a map`);
  const flowPart: Record<string, unknown> = {};
  const gatewayFromWith: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(withRaw))
    (flowKeys.has(camelKey(k)) ? flowPart : gatewayFromWith)[k] = v;
  const withSpec: FlowOptionsSpec | undefined = check(() =>
    validateComponent(flowOptionsSchema, flowPart, src, ['with'], 'the Flow options'),
  );
  const gwFromWith = check(() =>
    validateComponent(gatewaySchema, gatewayFromWith, src, ['with'], 'the Flow options'),
  );
  const gateway: GatewaySpec = {
    ...gwFromWith,
    ...check(() => validateComponent(gatewaySchema, doc.gateway ?? {}, src, ['gateway'], 'the gateway')),
  };
  const listKey = doc.executors !== undefined ? 'executors' : 'deployments';
  const list = doc[listKey] ?? [];
  if (!Array.isArray(list))
    throw new FlowgateError(Code.InvalidArgument, `${src.locate([listKey])}: ${listKey} must be a list`);
  const executors = list.map((e, i) =>
    check(() =>
      validateComponent(
        executorSchema,
        e,
        src,
        [listKey, i],
        `Executor ${isPlainObject(e) && typeof e.name === 'string' ? `'${e.name}'` : `#${i}`}`,
      ),
    ),
  );
  if (problems.length > 0) throw new FlowgateError(Code.InvalidArgument, problems.join('\n'));
  const spec: FlowSpec = {
    jtype: 'Flow',
    with: withSpec!,
    gateway,
    executors: executors as ExecutorSpec[],
  };
  if (doc.version !== undefined)
    spec.version = typeof doc.version === 'string' ? doc.version : JSON.stringify(doc.version);
  return spec;
}

/** Relative paths in a Flow YAML are relative to the file: makes them absolute. */
function resolvePaths(spec: FlowSpec, base: string): FlowSpec {
  const fix = (p: string) => (isLocalPath(p) ? resolve(base, p) : p);
  const fixAll = <T extends string | string[] | undefined>(v: T): T =>
    (Array.isArray(v) ? v.map(fix) : typeof v === 'string' ? fix(v) : v) as T;
  const fixKeys = <T extends Record<string, unknown>>(o: T, keys: string[]): T => {
    const out: Record<string, unknown> = { ...o };
    for (const k of keys) if (out[k] !== undefined) out[k] = fixAll(out[k] as string | string[]);
    return out as T;
  };
  return {
    ...spec,
    gateway: fixKeys(spec.gateway, ['uses', 'modules']),
    executors: spec.executors.map((e) => fixKeys(e, ['uses', 'usesBefore', 'usesAfter', 'modules'])),
  };
}

/** A file reference (not a class name, not `docker://`): has a path separator or a file extension. */
function isLocalPath(p: string): boolean {
  if (/^[a-z+]+:\/\//i.test(p) || isAbsolute(p)) return false;
  return /[\\/]/.test(p) || /\.(ya?ml|[cm]?[jt]sx?)(:\w+)?$/i.test(p);
}

/**
 * Reads, substitutes and validates a Flow YAML file; relative paths become absolute.
 *
 * @throws FlowgateError naming the file, line and key of the first problem.
 */
export async function loadFlowSpec(path: string, env: NodeJS.ProcessEnv = process.env): Promise<FlowSpec> {
  const src = await readYamlSource(path, env);
  return resolvePaths(flowSpecFromSource(src), dirname(resolve(path)));
}

/** Parses Flow YAML text (paths stay as written). */
export function parseFlowSpec(
  text: string,
  file = '<string>',
  env: NodeJS.ProcessEnv = process.env,
): FlowSpec {
  return flowSpecFromSource(parseYamlSource(text, file, env));
}

/** Validates a Gateway given as options (from code or CLI flags), for the same messages as YAML. */
export function validateGatewaySpec(options: unknown, where = 'configGateway()'): GatewaySpec {
  return validateComponent(gatewaySchema, options, { locate: () => where }, [], 'the gateway');
}

/** Validates `add()` options in the same way as a YAML entry. */
export function validateExecutorSpec(options: unknown, where = 'add()'): ExecutorSpec {
  return validateComponent(executorSchema, options, { locate: () => where }, [], 'the Executor');
}

/**
 * Writes a FlowSpec as YAML (snake_case keys, as the original's files); paths under `base` are
 * written relative to it.
 */
export function stringifyFlowSpec(spec: FlowSpec, base?: string): string {
  const rel = (p: unknown) => {
    if (typeof p !== 'string' || !base || !isAbsolute(p)) return p;
    const r = relative(base, p);
    return r.startsWith('..') ? p : r;
  };
  const snake = (o: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      const key = k === 'usesWith' ? 'with' : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      out[key] = ['uses', 'usesBefore', 'usesAfter'].includes(k)
        ? rel(v)
        : k === 'modules'
          ? ([v].flat() as unknown[]).map(rel)
          : v;
    }
    return out;
  };
  const doc: Record<string, unknown> = { jtype: 'Flow' };
  if (spec.version) doc.version = spec.version;
  if (Object.keys(spec.with).length > 0) doc.with = snake(spec.with);
  if (Object.keys(spec.gateway).length > 0) doc.gateway = snake(spec.gateway);
  doc.executors = spec.executors.map(snake);
  return stringify(doc);
}
