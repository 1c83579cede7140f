/**
 * A list of Documents: a real `Array<Document>` (iteration, `length`, indexing, `filter`, `slice`
 * all work) plus docarray's bulk accessors (`texts`, `embeddings`, `tensors`) and id lookup.
 *
 * @example
 * ```ts
 * const da = new DocumentArray([{ text: 'a' }, { text: 'b' }]);
 * da.texts; // ['a', 'b']
 * da.filter((d) => d.text === 'a'); // a DocumentArray of one
 * ```
 */
import { Code, FlowgateError } from '../core/errors.js';
import { Document, type DocumentInit } from './document.js';
import { NdArray } from './ndarray.js';

function toDocument(d: Document | DocumentInit): Document {
  return d instanceof Document ? d : new Document(d);
}

function stackField(da: DocumentArray, field: 'embedding' | 'tensor'): NdArray | undefined {
  const arrays: NdArray[] = [];
  for (const d of da) {
    const a = d[field];
    if (a !== undefined) arrays.push(a);
  }
  if (arrays.length === 0) return undefined;
  if (arrays.length !== da.length) {
    const i = da.findIndex((d) => d[field] === undefined);
    throw new FlowgateError(Code.FailedPrecondition, `document ${i} (id ${da[i]?.id}) has no ${field}`);
  }
  return NdArray.stack(arrays);
}

function unstackField(da: DocumentArray, field: 'embedding' | 'tensor', value: NdArray): void {
  const n = value.shape[0];
  if (value.shape.length === 0 || n !== da.length) {
    throw new FlowgateError(
      Code.InvalidArgument,
      `cannot set ${field}s of ${da.length} documents from shape [${value.shape.join(', ')}]`,
    );
  }
  const rowShape = value.shape.slice(1);
  const per = n === 0 ? 0 : value.size / n;
  da.forEach((d, i) => {
    d[field] = new NdArray(value.data.subarray(i * per, (i + 1) * per), rowShape, value.dtype);
  });
}

/**
 * An `Array<Document>` with docarray's helpers. `filter`, `slice`, `concat`, `splice` return
 * DocumentArrays (via `Symbol.species`); `map` and `flatMap` return plain arrays since they may
 * produce anything.
 */
export class DocumentArray extends Array<Document> {
  /**
   * Builds an array from Documents or {@link DocumentInit}s (which become Documents). A number is
   * accepted for `Array`'s own use (species construction) and gives that many empty slots.
   *
   * @example
   * ```ts
   * new DocumentArray([new Document({ text: 'a' }), { text: 'b' }]).length; // 2
   * ```
   */
  constructor(docs?: Iterable<Document | DocumentInit> | number) {
    super();
    if (typeof docs === 'number') this.length = docs;
    else if (docs !== undefined) for (const d of docs) super.push(toDocument(d));
  }

  /**
   * `n` new empty Documents, like docarray's `DocumentArray.empty(n)`.
   *
   * @example
   * ```ts
   * DocumentArray.empty(3).length; // 3
   * ```
   */
  static empty(n: number): DocumentArray {
    return new DocumentArray(Array.from({ length: n }, () => new Document()));
  }

  /**
   * Appends Documents or {@link DocumentInit}s; returns the new length.
   *
   * @example
   * ```ts
   * da.push({ text: 'c' });
   * ```
   */
  override push(...items: (Document | DocumentInit)[]): number {
    for (const d of items) super.push(toDocument(d));
    return this.length;
  }

  /**
   * Appends everything an iterable yields; returns this array.
   *
   * @example
   * ```ts
   * da.extend([{ text: 'x' }, { text: 'y' }]);
   * ```
   */
  extend(docs: Iterable<Document | DocumentInit>): this {
    for (const d of docs) super.push(toDocument(d));
    return this;
  }

  /** Maps to a plain array (the results need not be Documents). */
  override map<U>(fn: (value: Document, index: number, array: Document[]) => U, thisArg?: unknown): U[] {
    const out = new Array<U>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = fn.call(thisArg, this[i] as Document, i, this);
    return out;
  }

  /** Flat-maps to a plain array (the results need not be Documents). */
  override flatMap<U, This = undefined>(
    fn: (this: This, value: Document, index: number, array: Document[]) => U | ReadonlyArray<U>,
    thisArg?: This,
  ): U[] {
    return this.map((d, i) => fn.call(thisArg as This, d, i, this)).flat() as U[];
  }

  /**
   * The Document with this id, or `undefined`.
   *
   * @example
   * ```ts
   * da.getById('abc')?.text;
   * ```
   */
  getById(id: string): Document | undefined {
    return this.find((d) => d.id === id);
  }

  /**
   * Whether a Document with this id is present.
   *
   * @example
   * ```ts
   * da.has('abc'); // false
   * ```
   */
  has(id: string): boolean {
    return this.some((d) => d.id === id);
  }

  /** The ids, in order. */
  get ids(): string[] {
    return this.map((d) => d.id);
  }

  /**
   * The texts, in order; `''` for Documents without text (as docarray's `da.texts`). Setting needs
   * one string per Document.
   *
   * @example
   * ```ts
   * da.texts = ['a', 'b'];
   * ```
   */
  get texts(): string[] {
    return this.map((d) => d.text ?? '');
  }
  set texts(values: readonly string[]) {
    if (values.length !== this.length) {
      throw new FlowgateError(
        Code.InvalidArgument,
        `cannot set ${values.length} texts on ${this.length} documents`,
      );
    }
    this.forEach((d, i) => (d.text = values[i]));
  }

  /**
   * All embeddings stacked into one array of shape `[n, ...]`; `undefined` when no Document has
   * one; a `FailedPrecondition` error when only some have one. Setting splits the rows (views, no
   * copy) over the Documents.
   *
   * @example
   * ```ts
   * da.embeddings = NdArray.from(new Float32Array(2 * 128), { shape: [2, 128] });
   * da.embeddings?.shape; // [2, 128]
   * ```
   */
  get embeddings(): NdArray | undefined {
    return stackField(this, 'embedding');
  }
  set embeddings(value: NdArray) {
    unstackField(this, 'embedding', value);
  }

  /**
   * All tensors stacked into one array of shape `[n, ...]`, like {@link embeddings}.
   *
   * @example
   * ```ts
   * da.tensors?.shape; // [2, 3, 224, 224]
   * ```
   */
  get tensors(): NdArray | undefined {
    return stackField(this, 'tensor');
  }
  set tensors(value: NdArray) {
    unstackField(this, 'tensor', value);
  }
}
