import { Code, FlowgateError } from '../core/errors.js';

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
