import { Option } from 'commander';
import type { z } from 'zod';
import { flagName } from '../config/load.js';

/** The JSON-schema-like kind of a zod type, looking through optional/default wrappers. */
function kindOf(t: z.ZodType): { kind: string; values?: string[] } {
  const def = (t as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const type = def.type as string;
  if (type === 'optional' || type === 'default' || type === 'nullable')
    return kindOf(def.innerType as z.ZodType);
  if (type === 'enum') return { kind: 'enum', values: Object.values(def.entries as Record<string, string>) };
  if (type === 'union') {
    const options = (def.options as z.ZodType[]).map(kindOf);
    const first = options[0]!;
    // a value or a map (polling: 'ANY' or { '/search': 'ALL' }) -> the value, or JSON
    if (first.kind !== 'record' && options.some((o) => o.kind === 'record'))
      return { kind: 'valueOrJson', values: first.values };
    // oneOrMany(x): a value or a list of values -> a comma-separated list on the command line
    return { kind: first.kind === 'record' ? 'record' : `list:${first.kind}`, values: first.values };
  }
  if (type === 'array') return { kind: 'json' }; // a nested list: JSON
  return { kind: type };
}

/** The description given with `.describe()`, looking through the optional wrapper of `.partial()`. */
function descriptionOf(t: z.ZodType): string {
  if (t.description) return t.description;
  const def = (t as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.innerType ? descriptionOf(def.innerType as z.ZodType) : '';
}

/**
 * The options a user gave on the command line, keyed as the schema keys them. Commander reads a
 * flag named `--no-x` as `x: false` (and `x: true` when absent); this maps it back to `noX: true`.
 */
export function optionsFromFlags(
  schema: z.ZodObject,
  opts: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const m = /^no([A-Z].*)$/.exec(key);
    if (m) {
      const positive = m[1]!.charAt(0).toLowerCase() + m[1]!.slice(1);
      if (opts[positive] === false) out[key] = true;
    } else if (opts[key] !== undefined) out[key] = opts[key];
  }
  return out;
}

function parseJson(flag: string, raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new Error(`--${flag} expects JSON, got '${raw}'`);
  }
}

function parseScalar(kind: string, flag: string, raw: string): unknown {
  if (kind === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`--${flag} expects a number, got '${raw}'`);
    return n;
  }
  return raw;
}

/**
 * Commander options for every key of a component schema, so that CLI flags, YAML keys and option
 * objects stay one list: `prefetch` -> `--prefetch <number>`, `cors` -> `--cors`,
 * `protocol` -> `--protocol <grpc,http>`, `exposeEndpoints` -> `--expose-endpoints <json>`.
 *
 * @example
 * ```ts
 * for (const o of optionsFromSchema(gatewaySchema, ['uses'])) command.addOption(o);
 * ```
 */
export function optionsFromSchema(schema: z.ZodObject, skip: string[] = []): Option[] {
  const out: Option[] = [];
  for (const [key, t] of Object.entries(schema.shape) as [string, z.ZodType][]) {
    if (skip.includes(key)) continue;
    const flag = flagName(key);
    const { kind, values } = kindOf(t);
    const description = descriptionOf(t);
    let o: Option;
    if (kind === 'boolean') o = new Option(`--${flag}`, description);
    else if (kind === 'valueOrJson') {
      o = new Option(`--${flag} <${values ? values.join('|') : 'value'}|json>`, description).argParser(
        (raw) => (/^\s*[[{]/.test(raw) ? parseJson(flag, raw) : raw),
      );
    } else if (kind === 'record' || kind === 'json') {
      o = new Option(`--${flag} <json>`, description).argParser((raw) => parseJson(flag, raw));
    } else if (kind.startsWith('list:')) {
      const item = kind.slice(5);
      o = new Option(
        `--${flag} <${item === 'enum' ? values!.join('|') : item}[,...]>`,
        description,
      ).argParser((raw) => {
        const items = raw.split(',').map((s) => parseScalar(item, flag, s.trim()));
        return items.length === 1 ? items[0] : items;
      });
    } else if (kind === 'enum') o = new Option(`--${flag} <value>`, description).choices(values!);
    else o = new Option(`--${flag} <${kind}>`, description).argParser((raw) => parseScalar(kind, flag, raw));
    out.push(o);
  }
  return out;
}
