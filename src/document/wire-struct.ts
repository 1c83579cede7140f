/**
 * `google.protobuf.Struct` (tags, parameters) as JSON text straight from its bytes: what
 * `JSON.stringify(structToJson(Struct.decode(bytes)))` writes. Keys keep the order a JS object
 * gives them (integer-like keys first, a repeated key in its first place with its last value),
 * `__proto__` is dropped as the object copy drops it, and a `Value` with several members set reads
 * as `valueToJson` reads it (string, number, bool, struct, list).
 *
 * @example
 * ```ts
 * const r = new WireReader(google.protobuf.Struct.encode(jsonToStruct({ k: [1, 'a'] })).finish());
 * structJsonFromWire(r, r.len, 0); // '{"k":[1,"a"]}'
 * ```
 */
import type { WireReader } from './wire-reader.js';
import { RECURSION_LIMIT, jsonNumber, jsonString, tooDeep } from './wire-reader.js';

/**
 * The JSON text of an encoded `google.protobuf.Struct` ending at `end`, as
 * `JSON.stringify(structToJson(Struct.decode(bytes)))` writes it (`{}` when empty).
 *
 * @example
 * ```ts
 * const r = new WireReader(google.protobuf.Struct.encode(jsonToStruct({ k: 1 })).finish());
 * structJsonFromWire(r, r.len, 0); // '{"k":1}'
 * ```
 */
export function structJsonFromWire(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  // A JS object orders keys as structToJson's output does: integer-like keys first, a repeated key
  // keeps its first place and its last value. `__proto__` never reaches the output.
  let entries: Record<string, string> | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 !== 1) {
      r.skipType(tag & 7, depth);
      continue;
    }
    const e = r.lengthEnd(end);
    let kS = 0;
    let kE = 0;
    let value = 'null';
    while (r.pos < e) {
      const t = r.uint32();
      const f = t >>> 3;
      if (f === 1) {
        kE = r.lengthEnd(e);
        kS = r.pos;
        r.pos = kE;
      } else if (f === 2) {
        const ve = r.lengthEnd(e);
        value = valueJson(r, ve, depth + 1);
      } else r.skipType(t & 7, depth);
    }
    r.checkEnd(e);
    const key = r.str(kS, kE);
    if (key !== '__proto__') (entries ??= {})[key] = value;
  }
  r.checkEnd(end);
  if (entries === undefined) return '{}';
  let out = '';
  for (const k of Object.keys(entries)) out += (out === '' ? '{' : ',') + jsonString(k) + ':' + entries[k]!;
  return out === '' ? '{}' : out + '}';
}

/** The JSON of a `google.protobuf.Value` (valueToJson's precedence: string, number, bool, struct, list). */
function valueJson(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  let str: string | undefined;
  let num: string | undefined;
  let bool: string | undefined;
  let struct: string | undefined;
  let list: string | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        r.uint32();
        break;
      case 2:
        num = jsonNumber(r.double());
        break;
      case 3: {
        const e = r.lengthEnd(end);
        str = r.json(r.pos, e);
        r.pos = e;
        break;
      }
      case 4:
        bool = r.uint32() !== 0 ? 'true' : 'false';
        break;
      case 5:
        struct = structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      case 6:
        list = listJson(r, r.lengthEnd(end), depth + 1);
        break;
      default:
        r.skipType(t & 7, depth);
    }
  }
  r.checkEnd(end);
  return str ?? num ?? bool ?? struct ?? list ?? 'null';
}

function listJson(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  let out = '[';
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      const v = valueJson(r, r.lengthEnd(end), depth + 1);
      out += out.length === 1 ? v : ',' + v;
    } else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
  return out + ']';
}
