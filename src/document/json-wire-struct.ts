/**
 * JSON values written straight as `google.protobuf.Struct` / `Value` bytes into a
 * {@link WireWriter}: the bytes `Struct.encode(jsonToStruct(obj))` gives, without the object tree
 * in between (tags of documents, parameters of requests).
 *
 * @example
 * ```ts
 * const w = new WireWriter();
 * writeStruct(w, { k: [1, 'a'] });
 * ```
 */
import protobuf from 'protobufjs/minimal.js';
import type { WireWriter } from './wire-writer.js';

/** `Struct.fields = 1` entries are `{ key = 1; value = 2 }`. */
const TAG_FIELD = 10;
const TAG_KEY = 10;
const TAG_VALUE = 18;
/** `Value`: null_value = 1 (varint), number_value = 2 (double), string_value = 3, bool_value = 4, struct_value = 5, list_value = 6. */
const TAG_NULL = 8;
const TAG_NUMBER = 17;
const TAG_STRING = 26;
const TAG_BOOL = 32;
const TAG_STRUCT = 42;
const TAG_LIST = 50;
/** `ListValue.values = 1`. */
const TAG_LIST_VALUE = 10;

function checkDepth(depth: number): void {
  if (depth > protobuf.util.recursionLimit) throw Error('max depth exceeded');
}

/**
 * The fields of a `Struct` for `obj` (its entries; the caller frames them). `undefined` members are
 * left out, as `jsonToStruct` leaves them out. `depth` is the nesting depth protobufjs would count
 * for this Struct (its "max depth exceeded" comes at the same depth).
 *
 * @example
 * ```ts
 * const at = w.fork(138); // DocumentProto.tags = 17
 * writeStruct(w, doc.tags);
 * w.ldelim(at);
 * ```
 */
export function writeStruct(w: WireWriter, obj: Record<string, unknown>, depth = 0): void {
  checkDepth(depth);
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue;
    const entry = w.fork(TAG_FIELD);
    w.tag(TAG_KEY).string(key);
    const value = w.fork(TAG_VALUE);
    writeValue(w, v, depth + 1);
    w.ldelim(value);
    w.ldelim(entry);
  }
}

/** One `Value`'s fields, as `jsonToValue` builds it. */
function writeValue(w: WireWriter, v: unknown, depth: number): void {
  checkDepth(depth);
  switch (typeof v) {
    case 'string':
      w.tag(TAG_STRING).string(v);
      return;
    case 'number':
      w.tag(TAG_NUMBER).double(v);
      return;
    case 'bigint':
      w.tag(TAG_NUMBER).double(Number(v));
      return;
    case 'boolean':
      w.tag(TAG_BOOL).uint32(v ? 1 : 0);
      return;
    case 'object': {
      if (v === null) break;
      if (Array.isArray(v)) {
        const at = w.fork(TAG_LIST);
        checkDepth(depth + 1);
        for (const x of v) {
          const item = w.fork(TAG_LIST_VALUE);
          writeValue(w, x, depth + 2);
          w.ldelim(item);
        }
        w.ldelim(at);
        return;
      }
      if (v instanceof Date) {
        w.tag(TAG_STRING).string(v.toISOString());
        return;
      }
      const at = w.fork(TAG_STRUCT);
      writeStruct(w, v as Record<string, unknown>, depth + 1);
      w.ldelim(at);
      return;
    }
    default:
  }
  w.tag(TAG_NULL).uint32(0);
}
