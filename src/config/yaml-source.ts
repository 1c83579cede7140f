import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { Code, FlowgateError } from '../core/errors.js';

/** A path into a YAML document: keys and list indexes. */
export type YamlPath = (string | number)[];

/**
 * A parsed YAML file that remembers where each value came from, so that errors can say
 * `flow.yml:12:5: executors[1].replicas ...`.
 */
export interface YamlSource {
  /** The plain value, after `${{ ENV.X }}` substitution; the root tag (`!MyExec`) as `jtype`. */
  value: unknown;
  /** The file name (or `<string>`). */
  file: string;
  /** `file:line:col` of the value (or key) at `path`; the nearest existing parent when absent. */
  locate(path: YamlPath, key?: boolean): string;
}

/** `executors[1].replicas`: a path as a user reads it. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

const ENV_REF = /\$\{\{\s*ENV\.([A-Za-z_][A-Za-z0-9_]*)\s*(?::-([^}]*?))?\s*\}\}/g;

/**
 * Replaces `${{ ENV.NAME }}` and `${{ ENV.NAME:-default }}` in a string. A value that is only a
 * reference is re-read as YAML, so `replicas: ${{ ENV.N }}` gives a number.
 *
 * @throws FlowgateError InvalidArgument when a variable is unset and has no default.
 */
export function substituteEnv(
  text: string,
  env: NodeJS.ProcessEnv,
  where: () => string,
): string | number | boolean | null {
  if (!text.includes('${{')) return text;
  const whole = /^\s*\$\{\{[^}]*\}\}\s*$/.test(text);
  const out = text.replace(ENV_REF, (_m, name: string, def: string | undefined) => {
    const v = env[name];
    if (v !== undefined) return v;
    if (def !== undefined) return def;
    throw new FlowgateError(
      Code.InvalidArgument,
      `${where()}: environment variable ${name} is not set: set it, or give a default with \${{ ENV.${name}:-value }}`,
    );
  });
  if (!whole) return out;
  const parsed = parseDocument(out).toJS() as unknown;
  return typeof parsed === 'number' || typeof parsed === 'boolean' || parsed === null ? parsed : out;
}

function nodeAt(doc: Document, path: YamlPath): { node: Node | undefined; keyNode: Node | undefined } {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === p);
      if (!pair) return { node: node, keyNode: undefined };
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof p === 'number') {
      const next = node.items[p];
      if (next === undefined) return { node: node, keyNode: undefined };
      keyNode = undefined;
      node = next;
    } else {
      return { node: node as Node, keyNode: undefined };
    }
  }
  return { node: node as Node, keyNode };
}

/** Walks a plain value and substitutes environment references in every string. */
function substituteAll(
  value: unknown,
  env: NodeJS.ProcessEnv,
  at: (path: YamlPath) => string,
  path: YamlPath,
): unknown {
  if (typeof value === 'string') return substituteEnv(value, env, () => at(path));
  if (Array.isArray(value)) return value.map((v, i) => substituteAll(v, env, at, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteAll(v, env, at, [...path, k]);
    return out;
  }
  return value;
}

/**
 * Parses YAML text, keeping locations. Tags such as `!MyExecutor` on the root map become `jtype`.
 *
 * @example
 * ```ts
 * const src = parseYamlSource('executors:\n  - uses: a.ts\n', 'flow.yml');
 * src.locate(['executors', 0, 'uses']); // 'flow.yml:2:11'
 * ```
 */
export function parseYamlSource(
  text: string,
  file = '<string>',
  env: NodeJS.ProcessEnv = process.env,
): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'silent' });
  const locateOffset = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new FlowgateError(
      Code.InvalidArgument,
      `${locateOffset(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`,
    );
  }
  const locate = (path: YamlPath, key = false): string => {
    const { node, keyNode } = nodeAt(doc, path);
    const target = key && keyNode ? keyNode : (node ?? keyNode);
    return target?.range ? locateOffset(target.range[0]) : `${file}:1:1`;
  };
  let value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const root = doc.contents;
  const tag = root && 'tag' in root ? root.tag : undefined;
  if (
    tag &&
    tag.startsWith('!') &&
    !tag.startsWith('!!') &&
    value &&
    typeof value === 'object' &&
    !Array.isArray(value)
  ) {
    const obj = value as Record<string, unknown>;
    if (obj.jtype === undefined) value = { jtype: tag.slice(1), ...obj };
  }
  value = substituteAll(value, env, (p) => locate(p), []);
  return { value, file, locate };
}

/** Reads and parses a YAML file (see {@link parseYamlSource}). */
export async function readYamlSource(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<YamlSource> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new FlowgateError(
      Code.NotFound,
      err.code === 'ENOENT' ? `${path}: no such file` : `cannot read ${path}: ${err.message}`,
    );
  });
  return parseYamlSource(text, path, env);
}
