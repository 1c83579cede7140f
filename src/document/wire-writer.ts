/**
 * A protobuf writer into one growing Buffer, for code that writes many small fields (the JSON ->
 * wire path of the HTTP Gateway): protobufjs's `Writer` queues one operation object per field and
 * copies everything in `finish()`; this one writes in place. A length-delimited field reserves one
 * byte for its length and moves its content when the length needs more. The bytes are the same as
 * protobufjs writes for the same calls.
 *
 * @example
 * ```ts
 * const w = new WireWriter();
 * const at = w.fork(10); // DocumentArrayProto.docs = 1
 * w.tag(10).string('doc-0'); // DocumentProto.id = 1
 * w.ldelim(at);
 * const bytes = w.finish();
 * ```
 */
export class WireWriter {
  private buf: Buffer;
  /** Where the next byte goes. */
  pos = 0;

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Room for `n` more bytes. */
  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A varint (a tag, a length, a `uint32` value). */
  uint32(v: number): this {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    v >>>= 0;
    while (v > 127) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
    return this;
  }

  /** A field's tag (`field << 3 | wire type`, already combined). */
  tag(t: number): this {
    return this.uint32(t);
  }

  /** A length-prefixed UTF-8 string. */
  string(s: string): this {
    const max = s.length * 3;
    if (max < 128) {
      this.ensure(1 + max);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return this;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uint32(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    this.uint32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A 32-bit float, little-endian (a `float` field or a packed element). */
  float(v: number): this {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /** A 64-bit float, little-endian (a `double` field). */
  double(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /**
   * Starts a length-delimited field: writes `tag` and reserves its length; returns where, for
   * {@link ldelim}.
   */
  fork(tag: number): number {
    this.uint32(tag);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the field {@link fork} started: writes its length, moving the content if it needs more than one byte. */
  ldelim(at: number): this {
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return this;
    }
    let extra = 1;
    while (len >= 128 ** (extra + 1)) extra++;
    this.ensure(extra);
    this.buf.copy(this.buf, at + 1 + extra, at + 1, this.pos);
    let v = len;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[p] = v;
    this.pos += extra;
    return this;
  }

  /** The bytes written (a view of the writer's buffer; write no more after this). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
