/**
 * docarray v1's query language (`DocumentArray.find(query)`), used by a Flow's `when` conditions:
 * a MongoDB-style filter over Document fields, with `__` separating the parts of a path.
 *
 * @example
 * ```ts
 * const isFive = compileQuery({ tags__key: { $eq: 5 } });
 * isFive(new Document({ tags: { key: 5 } })); // true
 * compileQuery({ $or: [{ text: { $regex: '^a' } }, { tags__n: { $gte: 2 } }] });
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import { Document } from './document.js';
import { DocumentArray } from './document-array.js';
import { NdArray } from './ndarray.js';

/** A query: `{ <path>: { <$op>: value } }`, `{ $and: [...] }`, `{ $or: [...] }`. */
export type Query = { [key: string]: unknown };

/** A compiled query: true when a Document matches. */
export type DocumentPredicate = (doc: Document) => boolean;

const COMPARISON = ['$eq', '$ne', '$neq', '$gt', '$gte', '$lt', '$lte'] as const;
const OTHER = ['$in', '$nin', '$regex', '$size', '$exists'] as const;
const OPERATORS = new Set<string>([...COMPARISON, ...OTHER]);

function invalid(message: string): FlowgateError {
  return new FlowgateError(Code.InvalidArgument, message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Compiles a query into a predicate, checking it first: an unknown operator, a malformed clause or
 * an invalid regex throws a FlowgateError (InvalidArgument) that names it.
 *
 * Semantics, as docarray v1: keys at one level are ANDed; `$and` / `$or` take a list of queries; a
 * path such as `tags__a__b` walks `doc.tags.a.b` (numeric parts index lists, missing parts give
 * null); `$gt`/`$gte`/`$lt`/`$lte`/`$regex`/`$size` are false on a missing value; `$exists: true`
 * matches a non-empty value; a value `'{tags__x}'` is replaced by that field of the same Document.
 */
export function compileQuery(query: Query): DocumentPredicate {
  if (!isPlainObject(query)) throw invalid(`a query must be an object, got ${JSON.stringify(query)}`);
  const clauses: DocumentPredicate[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' || key === '$or') clauses.push(compileLogical(key, value));
    else if (key.startsWith('$'))
      throw invalid(`the query operator ${key} is not supported: use $and or $or at this level`);
    else clauses.push(compileField(key, value));
  }
  return (doc) => clauses.every((c) => c(doc));
}

function compileLogical(op: '$and' | '$or', value: unknown): DocumentPredicate {
  const list = Array.isArray(value) ? value : isPlainObject(value) ? [value] : undefined;
  if (!list || list.length === 0)
    throw invalid(`${op} needs a non-empty list of queries, got ${JSON.stringify(value)}`);
  const parts = list.map((q) => compileQuery(q as Query));
  return op === '$and' ? (d) => parts.every((p) => p(d)) : (d) => parts.some((p) => p(d));
}

function compileField(path: string, clause: unknown): DocumentPredicate {
  if (!isPlainObject(clause) || Object.keys(clause).length === 0)
    throw invalid(`the condition on '${path}' must be an object like { $eq: value }`);
  const tests: DocumentPredicate[] = [];
  for (const [op, operand] of Object.entries(clause)) {
    if (op === '$and' || op === '$or') {
      tests.push(compileLogical(op, operand));
      continue;
    }
    if (!OPERATORS.has(op))
      throw invalid(
        `the query operator ${op} (on '${path}') is not supported: use ${[...OPERATORS].join(' ')} $and $or`,
      );
    tests.push(compileOperator(path, op, operand));
  }
  return (doc) => tests.every((t) => t(doc));
}

const PLACEHOLDER = /^\{\s*([A-Za-z0-9_]+)\s*\}$/;

function compileOperator(path: string, op: string, operand: unknown): DocumentPredicate {
  const placeholder = typeof operand === 'string' ? PLACEHOLDER.exec(operand)?.[1] : undefined;
  const operandOf = placeholder ? (d: Document) => lookup(d, placeholder) : () => operand;
  const nested = path.includes('__');
  switch (op) {
    case '$eq':
      return (d) => deepEqual(lookup(d, path), operandOf(d));
    case '$ne':
    case '$neq':
      return (d) => !deepEqual(lookup(d, path), operandOf(d));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return (d) => compare(op, lookup(d, path), operandOf(d));
    case '$in':
    case '$nin': {
      if (!placeholder && !Array.isArray(operand))
        throw invalid(`${op} on '${path}' needs a list, got ${JSON.stringify(operand)}`);
      const inList = (d: Document) => {
        const list = operandOf(d);
        const v = lookup(d, path);
        return Array.isArray(list) && list.some((x) => deepEqual(v, x));
      };
      return op === '$in' ? inList : (d) => !inList(d);
    }
    case '$regex': {
      if (!placeholder && typeof operand !== 'string')
        throw invalid(`$regex on '${path}' needs a string pattern, got ${JSON.stringify(operand)}`);
      let re: RegExp | undefined;
      if (!placeholder) {
        try {
          re = new RegExp(operand as string);
        } catch (err) {
          throw invalid(`$regex on '${path}' is not a valid pattern: ${(err as Error).message}`);
        }
      }
      return (d) => {
        const v = lookup(d, path);
        const pattern = re ?? new RegExp(String(operandOf(d)));
        return typeof v === 'string' && pattern.test(v);
      };
    }
    case '$size':
      return (d) => {
        const n = sizeOf(lookup(d, path));
        return n !== undefined && n === operandOf(d);
      };
    case '$exists':
      if (typeof operand !== 'boolean')
        throw invalid(`$exists on '${path}' takes true or false, got ${JSON.stringify(operand)}`);
      return (d) => isPresent(lookup(d, path), nested) === operand;
    default:
      throw invalid(`the query operator ${op} is not supported`);
  }
}

/** docarray's snake_case field names, as written in queries, mapped to flowgate's. */
const FIELD_ALIASES: Record<string, string> = {
  mime_type: 'mimeType',
  parent_id: 'parentId',
  content_type: 'contentType',
};

/**
 * The value at a `__`-separated path of a Document: `text`, `tags__a__b`, `matches__0__id`...
 * Missing parts give null.
 *
 * @example
 * ```ts
 * lookup(new Document({ tags: { a: { b: 1 } } }), 'tags__a__b'); // 1
 * ```
 */
export function lookup(doc: Document, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('__')) {
    if (cur === null || cur === undefined) return null;
    if (cur instanceof Document) {
      const field = FIELD_ALIASES[part] ?? part;
      cur = (cur as unknown as Record<string, unknown>)[field];
    } else if (Array.isArray(cur)) {
      cur = /^-?\d+$/.test(part) ? cur.at(Number(part)) : undefined;
    } else if (isPlainObject(cur)) {
      cur = Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
    } else return null;
  }
  return cur ?? null;
}

function sizeOf(v: unknown): number | undefined {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof NdArray) return v.shape[0] ?? 0;
  if (isPlainObject(v)) return Object.keys(v).length;
  return undefined;
}

/** Python truthiness for nested values; for a Document's own fields, "set and not empty". */
function isPresent(v: unknown, nested: boolean): boolean {
  if (v === null || v === undefined) return false;
  if (v instanceof NdArray) return true;
  if (typeof v === 'number') return nested ? v !== 0 : true;
  if (typeof v === 'boolean') return nested ? v : true;
  const n = sizeOf(v);
  return n === undefined ? true : n > 0;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return ordered(op, a, b);
  if (typeof a === 'string' && typeof b === 'string') return ordered(op, a, b);
  return false;
}

function ordered<T extends number | string>(op: string, x: T, y: T): boolean {
  switch (op) {
    case '$gt':
      return x > y;
    case '$gte':
      return x >= y;
    case '$lt':
      return x < y;
    default:
      return x <= y;
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (a instanceof DocumentArray || b instanceof DocumentArray) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The Documents of `docs` that match `query`, in their order.
 *
 * @example
 * ```ts
 * findDocs(da, { text: { $exists: true } });
 * ```
 */
export function findDocs(docs: DocumentArray, query: Query | DocumentPredicate): DocumentArray {
  const match = typeof query === 'function' ? query : compileQuery(query);
  return new DocumentArray(docs.filter((d) => match(d)));
}
