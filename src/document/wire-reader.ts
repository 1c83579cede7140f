/**
 * A small protobuf wire reader for code that writes JSON straight from the bytes (see
 * `wire-json.ts`): varints, lengths, fixed32 floats, fixed64 doubles, skipping unknown fields, and
 * the JSON text of strings and numbers exactly as `JSON.stringify` writes them.
 *
 * @example
 * ```ts
 * const r = new WireReader(bytes);
 * while (r.pos < r.len) {
 *   const tag = r.uint32();
 *   r.skipType(tag & 7, 0);
 * }
 * ```
 */

/** protobufjs' `util.recursionLimit`: a message nested deeper fails to decode. */
export const RECURSION_LIMIT = 100;

/** The error of a message nested deeper than {@link RECURSION_LIMIT}. */
export function tooDeep(): Error {
  return new Error('maximum nesting depth exceeded');
}

const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/**
 * The JSON text of a number, as `JSON.stringify` writes it (`null` for NaN and the infinities).
 *
 * @example
 * ```ts
 * jsonNumber(0.5); // '0.5'
 * jsonNumber(NaN); // 'null'
 * ```
 */
export function jsonNumber(n: number): string {
  return n - n === 0 ? '' + n : 'null';
}

// what JSON.stringify escapes: quote, backslash, control characters, lone surrogates
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

// a byte (read as latin1) that JSON escapes, or that starts a UTF-8 sequence
// eslint-disable-next-line no-control-regex
const SPECIAL_BYTE = /[\u0000-\u001f"\\\u0080-\u00ff]/;

/**
 * The JSON text of a string, as `JSON.stringify` writes it.
 *
 * @example
 * ```ts
 * jsonString('a"b'); // '"a\\"b"'
 * ```
 */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Buffer's own slicers, without `toString`'s argument checks (protobufjs calls them too). */
interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

function outOfRange(r: WireReader, n: number): RangeError {
  return new RangeError(`index out of range: ${r.pos} + ${n} > ${r.len}`);
}

/** A cursor over protobuf bytes; nested messages are read with an explicit end position. */
export class WireReader {
  /** The bytes, as a Buffer view (no copy). */
  readonly buf: Buffer;
  /** The read position. */
  pos = 0;
  /** The number of bytes. */
  readonly len: number;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.len = this.buf.length;
  }

  /** A varint's low 32 bits, unsigned (as protobufjs' `uint32()`). */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.len) throw outOfRange(this, 1);
    let c = b[p++]!;
    let v = c & 127;
    if (c >= 128) {
      let shift = 7;
      for (;;) {
        if (p >= this.len) throw outOfRange(this, p - this.pos);
        c = b[p++]!;
        if (shift < 32) v |= (c & 127) << shift;
        if (c < 128) break;
        shift += 7;
        if (shift >= 70) throw new Error(`invalid varint encoding at offset ${this.pos}`);
      }
      v >>>= 0;
    }
    this.pos = p;
    return v;
  }

  /** A varint as a signed 64-bit integer in a JS number (as protobufjs' `int64()` then `Number()`). */
  int64(): number {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; ; i++) {
      if (p >= this.len) throw outOfRange(this, p - this.pos + 1);
      if (i >= 10) throw new Error(`invalid varint encoding at offset ${this.pos}`);
      const c = b[p++]!;
      if (i < 4) lo |= (c & 127) << (7 * i);
      else if (i === 4) {
        lo |= (c & 15) << 28;
        hi |= (c & 127) >> 4;
      } else hi |= (c & 127) << (7 * i - 32);
      if (c < 128) break;
    }
    this.pos = p;
    return (hi | 0) * 4294967296 + (lo >>> 0);
  }

  /** A fixed32 float, little-endian. */
  float(): number {
    const p = this.pos;
    if (p + 4 > this.len) throw outOfRange(this, 4);
    const b = this.buf;
    f32Bytes[0] = b[p]!;
    f32Bytes[1] = b[p + 1]!;
    f32Bytes[2] = b[p + 2]!;
    f32Bytes[3] = b[p + 3]!;
    this.pos = p + 4;
    return f32[0]!;
  }

  /** A fixed64 double, little-endian. */
  double(): number {
    const p = this.pos;
    if (p + 8 > this.len) throw outOfRange(this, 8);
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.buf[p + i]!;
    this.pos = p + 8;
    return f64[0]!;
  }

  /** Reads a length prefix; returns where the field ends, checked against `limit`. */
  lengthEnd(limit: number): number {
    const n = this.uint32();
    const e = this.pos + n;
    if (e > limit) throw outOfRange(this, n);
    return e;
  }

  /** Throws unless a nested message was read exactly to its end. */
  checkEnd(end: number): void {
    if (this.pos !== end) throw outOfRange(this, end - this.pos);
  }

  /** The UTF-8 text of bytes `s` to `e` (invalid sequences become U+FFFD, as Buffer decodes them). */
  str(s: number, e: number): string {
    return s === e ? '' : (this.buf as FastBuffer).utf8Slice(s, e);
  }

  /**
   * The JSON string of the UTF-8 bytes `s` to `e`, as `JSON.stringify` writes the decoded text.
   * Read from the bytes: printable ASCII without `"` or `\\` (most ids and texts) needs no escaping.
   */
  json(s: number, e: number): string {
    const b = this.buf as FastBuffer;
    if (e - s <= 32) {
      // short (ids, names): checked in JS, cheaper than a regular expression call
      for (let i = s; i < e; i++) {
        const c = b[i]!;
        if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) return jsonString(b.utf8Slice(s, e));
      }
      return '"' + b.latin1Slice(s, e) + '"';
    }
    const latin1 = b.latin1Slice(s, e);
    if (!SPECIAL_BYTE.test(latin1)) return '"' + latin1 + '"';
    return jsonString(b.utf8Slice(s, e));
  }

  /** The JSON string of bytes `s` to `e`, or `null` when empty (the `x || null` of documentToJson). */
  strOrNull(s: number, e: number): string {
    return s === e ? 'null' : this.json(s, e);
  }

  /** Appends a packed or unpacked `repeated uint32` field to `out` (`tag` was just read). */
  uint32List(tag: number, limit: number, out: number[]): void {
    if ((tag & 7) !== 2) {
      out.push(this.uint32());
      return;
    }
    const e = this.lengthEnd(limit);
    while (this.pos < e) out.push(this.uint32());
    if (this.pos !== e) throw outOfRange(this, e - this.pos);
  }

  /**
   * A packed or unpacked `repeated float` field as JSON numbers joined by commas, appended to
   * `prev` (`tag` was just read); `prev` again when the field holds no number.
   */
  floatList(tag: number, limit: number, prev: string | undefined): string | undefined {
    if ((tag & 7) !== 2) {
      const n = jsonNumber(this.float());
      return prev === undefined ? n : prev + ',' + n;
    }
    const e = this.lengthEnd(limit);
    let out = prev;
    while (this.pos < e) {
      if (this.pos + 4 > e) throw outOfRange(this, 4);
      const n = jsonNumber(this.float());
      out = out === undefined ? n : out + ',' + n;
    }
    return out;
  }

  /** Skips a field of wire type `wireType` (as protobufjs' `skipType`). */
  skipType(wireType: number, depth: number): void {
    if (depth > RECURSION_LIMIT) throw tooDeep();
    switch (wireType) {
      case 0:
        this.uint32();
        break;
      case 1:
        this.skip(8);
        break;
      case 2:
        this.skip(this.uint32());
        break;
      case 3:
        for (;;) {
          const wt = this.uint32() & 7;
          if (wt === 4) break;
          this.skipType(wt, depth + 1);
        }
        break;
      case 5:
        this.skip(4);
        break;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  private skip(n: number): void {
    if (this.pos + n > this.len) throw outOfRange(this, n);
    this.pos += n;
  }
}
