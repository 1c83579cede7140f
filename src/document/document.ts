/**
 * The Document of docarray < 0.30, the unit of data a Flow processes: an id, one content (text,
 * blob or tensor), an embedding, tags, nested chunks and matches, and scores.
 *
 * @example
 * ```ts
 * const doc = new Document({ text: 'hello', tags: { lang: 'en' } });
 * doc.embedding = new Float32Array([0.1, 0.2]);
 * doc.matches.push({ text: 'hi', scores: { cosine: 0.9 } });
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../proto/struct.js';
import { DocumentArray } from './document-array.js';
import { NdArray, type NestedNumbers, type TypedArray } from './ndarray.js';

/** A score or evaluation, relative to `refId`: docarray's `NamedScore`. */
export interface NamedScore {
  value: number;
  opName?: string;
  description?: string;
  refId?: string;
}

/**
 * What a tensor or embedding may be given as: an {@link NdArray} (kept as is), a 1-d typed array
 * (wrapped without copying, dtype from its kind: `Float32Array` is float32), or nested JS arrays
 * (float64, numpy's default; booleans give bool). Use `NdArray.from(x, { dtype })` for another dtype.
 */
export type NdArrayLike = NdArray | TypedArray | NestedNumbers;

/** The fields a {@link Document} is built from; all optional. */
export interface DocumentInit {
  /** Default: a new random 32-hex-char id. */
  id?: string;
  text?: string;
  blob?: Uint8Array;
  tensor?: NdArrayLike;
  /** Sets `text` (a string), `blob` (a `Uint8Array`) or `tensor` (anything else), as docarray does. */
  content?: string | Uint8Array | NdArrayLike;
  embedding?: NdArrayLike;
  tags?: Record<string, JsonValue>;
  uri?: string;
  /** Default: `'text/plain'` when `text` is non-empty, as docarray does. */
  mimeType?: string;
  granularity?: number;
  adjacency?: number;
  parentId?: string;
  weight?: number;
  modality?: string;
  offset?: number;
  location?: number[];
  chunks?: Iterable<Document | DocumentInit>;
  matches?: Iterable<Document | DocumentInit>;
  /** A bare number is the score's `value`. */
  scores?: Record<string, number | NamedScore>;
  evaluations?: Record<string, number | NamedScore>;
}

/**
 * A new random document id: 32 lowercase hex characters, like docarray's `uuid.hex`.
 *
 * @example
 * ```ts
 * newDocumentId(); // 'f3a1c0...' (32 chars)
 * ```
 */
export function newDocumentId(): string {
  return randomUUID().replace(/-/g, '');
}

/**
 * Converts an {@link NdArrayLike} to an {@link NdArray}.
 *
 * @example
 * ```ts
 * toNdArray([[1, 2]]).shape; // [1, 2]
 * ```
 */
export function toNdArray(value: NdArrayLike): NdArray {
  return value instanceof NdArray ? value : NdArray.from(value);
}

function toScores(scores: Record<string, number | NamedScore> | undefined): Record<string, NamedScore> {
  const out: Record<string, NamedScore> = {};
  if (!scores) return out;
  for (const [name, s] of Object.entries(scores)) out[name] = typeof s === 'number' ? { value: s } : { ...s };
  return out;
}

/** Reads a Document's chunks and matches without creating them (set by the class). */
let nestedOf: (doc: Document) => [DocumentArray | undefined, DocumentArray | undefined];

/**
 * A Document's chunks and matches as they are, `undefined` where they were never touched: what an
 * encoder reads so that encoding a Document does not give it two empty arrays (internal; not
 * exported from the package).
 *
 * @example
 * ```ts
 * const [chunks, matches] = nestedDocs(doc);
 * if (chunks && chunks.length > 0) encodeThem(chunks);
 * ```
 */
export function nestedDocs(doc: Document): [DocumentArray | undefined, DocumentArray | undefined] {
  return nestedOf(doc);
}

/** One Document. Exactly one of `text`, `blob`, `tensor` is set at a time (or none). */
export class Document {
  /** The id; default a new random 32-hex-char id. */
  id: string;
  /** Free-form JSON metadata, carried as a `google.protobuf.Struct`. */
  tags: Record<string, JsonValue>;
  uri?: string;
  mimeType?: string;
  /** The depth in a chunk tree (0 for a root). */
  granularity: number;
  /** The depth in a match tree (0 for a root). */
  adjacency: number;
  parentId?: string;
  weight?: number;
  modality?: string;
  offset?: number;
  location: number[];
  /** Scores by name, e.g. `{ cosine: { value: 0.9 } }`. */
  scores: Record<string, NamedScore>;
  /** Evaluations by name, same shape as scores. */
  evaluations: Record<string, NamedScore>;
  #text?: string;
  #blob?: Uint8Array;
  #tensor?: NdArray;
  #embedding?: NdArray;
  // created on first access: most Documents never have chunks or matches
  #chunks?: DocumentArray;
  #matches?: DocumentArray;

  static {
    nestedOf = (doc) => [doc.#chunks, doc.#matches];
  }

  /**
   * Builds a Document; see {@link DocumentInit} for the fields and their defaults.
   *
   * @example
   * ```ts
   * new Document({ tensor: new Float32Array([1, 2, 3]), tags: { k: 'v' } });
   * ```
   */
  constructor(init: DocumentInit = {}) {
    this.id = init.id ?? newDocumentId();
    this.tags = init.tags ?? {};
    this.uri = init.uri;
    this.mimeType = init.mimeType;
    this.granularity = init.granularity ?? 0;
    this.adjacency = init.adjacency ?? 0;
    this.parentId = init.parentId;
    this.weight = init.weight;
    this.modality = init.modality;
    this.offset = init.offset;
    this.location = init.location ?? [];
    this.scores = toScores(init.scores);
    this.evaluations = toScores(init.evaluations);
    if (init.chunks !== undefined) this.chunks = init.chunks;
    if (init.matches !== undefined) this.matches = init.matches;
    if (init.content !== undefined) this.content = init.content;
    if (init.blob !== undefined) this.blob = init.blob;
    if (init.tensor !== undefined) this.tensor = init.tensor;
    if (init.text !== undefined) this.text = init.text;
    if (init.embedding !== undefined) this.embedding = init.embedding;
  }

  /** The text content. Setting it clears `blob` and `tensor`, and sets `mimeType` if unset. */
  get text(): string | undefined {
    return this.#text;
  }
  set text(value: string | undefined) {
    if (value !== undefined) {
      this.#blob = undefined;
      this.#tensor = undefined;
      if (value !== '' && !this.mimeType) this.mimeType = 'text/plain';
    }
    this.#text = value;
  }

  /** The binary content. Setting it clears `text` and `tensor`. */
  get blob(): Uint8Array | undefined {
    return this.#blob;
  }
  set blob(value: Uint8Array | undefined) {
    if (value !== undefined) {
      this.#text = undefined;
      this.#tensor = undefined;
    }
    this.#blob = value;
  }

  /** The n-d array content. Setting it clears `text` and `blob`; accepts any {@link NdArrayLike}. */
  get tensor(): NdArray | undefined {
    return this.#tensor;
  }
  set tensor(value: NdArrayLike | undefined) {
    if (value !== undefined) {
      this.#text = undefined;
      this.#blob = undefined;
    }
    this.#tensor = value === undefined ? undefined : toNdArray(value);
  }

  /** The embedding; accepts any {@link NdArrayLike}. */
  get embedding(): NdArray | undefined {
    return this.#embedding;
  }
  set embedding(value: NdArrayLike | undefined) {
    this.#embedding = value === undefined ? undefined : toNdArray(value);
  }

  /** Sub-documents (e.g. sentences of a paragraph). Assigning an iterable replaces them. */
  get chunks(): DocumentArray {
    return (this.#chunks ??= new DocumentArray());
  }
  set chunks(value: Iterable<Document | DocumentInit>) {
    this.#chunks = value instanceof DocumentArray ? value : new DocumentArray(value);
  }

  /** Search results for this document. Assigning an iterable replaces them. */
  get matches(): DocumentArray {
    return (this.#matches ??= new DocumentArray());
  }
  set matches(value: Iterable<Document | DocumentInit>) {
    this.#matches = value instanceof DocumentArray ? value : new DocumentArray(value);
  }

  /**
   * Whichever of `text`, `blob`, `tensor` is set. Setting a string sets `text`, a `Uint8Array`
   * sets `blob`, anything else sets `tensor`.
   *
   * @example
   * ```ts
   * new Document({ content: 'hi' }).contentType; // 'text'
   * ```
   */
  get content(): string | Uint8Array | NdArray | undefined {
    return this.#text ?? this.#blob ?? this.#tensor;
  }
  set content(value: string | Uint8Array | NdArrayLike | undefined) {
    if (value === undefined) {
      this.#text = this.#blob = this.#tensor = undefined;
    } else if (typeof value === 'string') this.text = value;
    else if (value instanceof Uint8Array) this.blob = value;
    else this.tensor = value;
  }

  /**
   * Which content field is set.
   *
   * @example
   * ```ts
   * new Document({ blob: new Uint8Array(1) }).contentType; // 'blob'
   * ```
   */
  get contentType(): 'text' | 'blob' | 'tensor' | undefined {
    if (this.#text !== undefined) return 'text';
    if (this.#blob !== undefined) return 'blob';
    if (this.#tensor !== undefined) return 'tensor';
    return undefined;
  }

  /**
   * A deep copy: arrays, bytes, tags, scores, chunks and matches are copied, the id is kept.
   *
   * @example
   * ```ts
   * const copy = doc.clone();
   * copy.tags.k = 'changed'; // doc.tags is untouched
   * ```
   */
  clone(): Document {
    const d = new Document({
      id: this.id,
      tags: structuredClone(this.tags),
      uri: this.uri,
      mimeType: this.mimeType,
      granularity: this.granularity,
      adjacency: this.adjacency,
      parentId: this.parentId,
      weight: this.weight,
      modality: this.modality,
      offset: this.offset,
      location: [...this.location],
      scores: this.scores,
      evaluations: this.evaluations,
      chunks: this.#chunks?.map((c) => c.clone()),
      matches: this.#matches?.map((m) => m.clone()),
    });
    if (this.#text !== undefined) d.#text = this.#text;
    if (this.#blob !== undefined) d.#blob = this.#blob.slice();
    if (this.#tensor !== undefined) d.#tensor = this.#tensor.clone();
    if (this.#embedding !== undefined) d.#embedding = this.#embedding.clone();
    return d;
  }
}
