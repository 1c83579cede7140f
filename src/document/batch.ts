import { Document, type DocumentInit } from './document.js';
import { DocumentArray } from './document-array.js';

/**
 * Groups documents into DocumentArrays of at most `size` (Infinity = one batch), as the Client and
 * the streamer cut inputs into requests. No input still gives one empty batch, so that a request is
 * sent. Plain objects become Documents.
 *
 * @example
 * ```ts
 * for await (const batch of batchDocs([{ text: 'a' }, { text: 'b' }, { text: 'c' }], 2)) batch.length; // 2, then 1
 * ```
 */
export async function* batchDocs(
  source: Iterable<Document | DocumentInit> | AsyncIterable<Document | DocumentInit>,
  size: number,
): AsyncGenerator<DocumentArray> {
  let batch = new DocumentArray();
  let yielded = false;
  for await (const item of source) {
    batch.push(item instanceof Document ? item : new Document(item));
    if (batch.length >= size) {
      yield batch;
      yielded = true;
      batch = new DocumentArray();
    }
  }
  if (batch.length > 0 || !yielded) yield batch;
}
