import type { google } from './gen/wire.js';

/** A JSON value, as carried by `google.protobuf.Struct` (tags, parameters). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type IValue = google.protobuf.IValue;
type IStruct = google.protobuf.IStruct;

/**
 * Converts a decoded `google.protobuf.Struct` into a plain JSON object.
 *
 * @example
 * ```ts
 * structToJson({ fields: { k: { stringValue: 'v' } } }); // { k: 'v' }
 * ```
 */
export function structToJson(struct: IStruct | null | undefined): JsonObject {
  const out: JsonObject = {};
  const fields = struct?.fields;
  if (!fields) return out;
  for (const key of Object.keys(fields)) {
    out[key] = valueToJson(fields[key]);
  }
  return out;
}

/**
 * Converts a decoded `google.protobuf.Value` into its JSON value (`null` when absent).
 *
 * @example
 * ```ts
 * valueToJson({ numberValue: 2 }); // 2
 * ```
 */
export function valueToJson(v: IValue | null | undefined): JsonValue {
  if (!v) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.numberValue != null) return v.numberValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.structValue != null) return structToJson(v.structValue);
  if (v.listValue != null) return (v.listValue.values ?? []).map(valueToJson);
  return null;
}

/**
 * Converts a plain JSON object into a `google.protobuf.Struct` ready to encode. `undefined`
 * members are dropped, as `JSON.stringify` drops them.
 *
 * @example
 * ```ts
 * jsonToStruct({ k: [1, 'a'] }); // { fields: { k: { listValue: { values: [...] } } } }
 * ```
 */
export function jsonToStruct(obj: Record<string, unknown>): IStruct {
  const fields: Record<string, IValue> = {};
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue;
    fields[key] = jsonToValue(v);
  }
  return { fields };
}

function jsonToValue(v: unknown): IValue {
  if (v === null || v === undefined) return { nullValue: 0 };
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'number':
      return { numberValue: v };
    case 'bigint':
      return { numberValue: Number(v) };
    case 'boolean':
      return { boolValue: v };
    case 'object':
      if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } };
      if (v instanceof Date) return { stringValue: v.toISOString() };
      return { structValue: jsonToStruct(v as Record<string, unknown>) };
    default:
      return { nullValue: 0 };
  }
}
