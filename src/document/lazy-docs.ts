/**
 * A DocumentArray decoded on first use: an Executor handed one that it never reads (it returns
 * nothing, returns the array untouched, or answers from `parameters` alone) costs no decoding, and
 * its answer can carry the request's document bytes back as they came, as the original's worker
 * does with a request whose docs nobody loaded.
 *
 * The array is a `Proxy` over an empty {@link DocumentArray}: the first operation that looks at or
 * changes it (any property read, `length`, iteration, a write, `Object.keys`, `Object.freeze`, ...)
 * decodes the bytes into it, and from then on it is an ordinary DocumentArray. `instanceof`,
 * `Array.isArray` and passing the reference around do not decode. So "still encoded" means
 * "nobody could have seen or changed a document", and {@link untouchedDocsBytes} is safe to trust.
 */
import { inspect } from 'node:util';
import { Code, FlowgateError } from '../core/errors.js';
import { DocumentArray } from './document-array.js';
import { decodeDocs } from './proto-codec.js';

/** Decodes into its target on the first trap; every trap then forwards to the target. */
class LazyDocs implements ProxyHandler<DocumentArray> {
  /** The bytes still to decode; undefined once decoded. */
  bytes: Uint8Array | undefined;
  readonly target: DocumentArray;

  constructor(bytes: Uint8Array, target: DocumentArray) {
    this.bytes = bytes;
    this.target = target;
  }

  /** Decodes the documents into the target (once; a decoding error is thrown at every use). */
  load(): DocumentArray {
    const bytes = this.bytes;
    if (bytes !== undefined) {
      const docs = decodeDocs(bytes); // InvalidArgument on malformed bytes; nothing changed then
      this.bytes = undefined;
      delete (this.target as unknown as Record<symbol, unknown>)[inspect.custom];
      for (let i = 0; i < docs.length; i++) Array.prototype.push.call(this.target, docs[i]);
    }
    return this.target;
  }

  get(t: DocumentArray, key: string | symbol, receiver: unknown): unknown {
    // `await docs` (returning it from an async method) looks for `then`: the answer is the same
    // before and after decoding (a DocumentArray has none unless someone set it, which decodes).
    if (key === HANDLER) return this;
    if (this.bytes !== undefined && key !== 'then') this.load();
    return Reflect.get(t, key, receiver);
  }
  set(t: DocumentArray, key: string | symbol, value: unknown, receiver: unknown): boolean {
    if (this.bytes !== undefined) this.load();
    return Reflect.set(t, key, value, receiver);
  }
  has(t: DocumentArray, key: string | symbol): boolean {
    if (this.bytes !== undefined) this.load();
    return Reflect.has(t, key);
  }
  deleteProperty(t: DocumentArray, key: string | symbol): boolean {
    this.load();
    return Reflect.deleteProperty(t, key);
  }
  ownKeys(t: DocumentArray): (string | symbol)[] {
    this.load();
    return Reflect.ownKeys(t);
  }
  getOwnPropertyDescriptor(t: DocumentArray, key: string | symbol): PropertyDescriptor | undefined {
    this.load();
    return Reflect.getOwnPropertyDescriptor(t, key);
  }
  defineProperty(t: DocumentArray, key: string | symbol, desc: PropertyDescriptor): boolean {
    this.load();
    return Reflect.defineProperty(t, key, desc);
  }
  preventExtensions(t: DocumentArray): boolean {
    this.load();
    return Reflect.preventExtensions(t);
  }
}

/** The key under which a lazy array answers with its handler (without decoding). */
const HANDLER = Symbol('lazyDocs');

function handlerOf(docs: unknown): LazyDocs | undefined {
  if (typeof docs !== 'object' || docs === null) return undefined;
  const h = (docs as Record<symbol, unknown>)[HANDLER];
  return h instanceof LazyDocs ? h : undefined;
}

/**
 * util.inspect shows a Proxy's target without running its traps, but calls the target's
 * `inspect.custom` with the proxy as `this`: a still-encoded array decodes for it (the property is
 * an own one of the target, gone once decoded).
 */
function inspectPending(this: unknown, _depth: number, options: object): string {
  return inspect(loadedDocs(this), options);
}

/**
 * A DocumentArray of the documents encoded in `bytes` (a `docarray.DocumentArrayProto`), decoded
 * on first use. Malformed bytes fail with `InvalidArgument` at that first use, not here.
 *
 * @example
 * ```ts
 * const docs = lazyDocumentArray(req.docsBytes);
 * untouchedDocsBytes(docs) === req.docsBytes; // true: nothing read yet
 * docs.length; // decodes
 * untouchedDocsBytes(docs); // undefined
 * ```
 */
export function lazyDocumentArray(bytes: Uint8Array): DocumentArray {
  const target = new DocumentArray();
  (target as unknown as Record<symbol, unknown>)[inspect.custom] = inspectPending;
  return new Proxy(target, new LazyDocs(bytes, target));
}

/**
 * The bytes `docs` was made from when it is a {@link lazyDocumentArray} nobody has used yet (so no
 * document in it can have been read or changed); else `undefined`.
 *
 * @example
 * ```ts
 * const same = untouchedDocsBytes(result); // send these back instead of re-encoding
 * ```
 */
export function untouchedDocsBytes(docs: unknown): Uint8Array | undefined {
  return handlerOf(docs)?.bytes;
}

/**
 * The plain DocumentArray behind `docs` (decoding a lazy one), so that encoding it does not go
 * through the proxy's traps; any other array is returned as it is.
 *
 * @example
 * ```ts
 * encodeDocs(loadedDocs(result));
 * ```
 */
export function loadedDocs<T>(docs: T): T | DocumentArray {
  return handlerOf(docs)?.load() ?? docs;
}

/**
 * How many documents the bytes of a `DocumentArrayProto` hold (its field-1 entries), read without
 * decoding them. Malformed bytes fail with `InvalidArgument`.
 *
 * @example
 * ```ts
 * countEncodedDocs(encodeDocs([new Document(), new Document()])); // 2
 * ```
 */
export function countEncodedDocs(bytes: Uint8Array): number {
  let n = 0;
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = varint(bytes, pos);
    const wireType = key & 7;
    if (wireType === 2) {
      const [len, afterLen] = varint(bytes, afterKey);
      pos = afterLen + len;
      if (key >>> 3 === 1) n++;
    } else if (wireType === 0) pos = varint(bytes, afterKey)[1];
    else if (wireType === 1) pos = afterKey + 8;
    else if (wireType === 5) pos = afterKey + 4;
    else throw malformed();
  }
  if (pos !== bytes.length) throw malformed();
  return n;
}

function varint(b: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (;;) {
    if (pos >= b.length) throw malformed();
    const byte = b[pos++]!;
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return [value, pos];
    mul *= 128;
  }
}

function malformed(): FlowgateError {
  return new FlowgateError(Code.InvalidArgument, 'malformed DocumentArrayProto');
}
