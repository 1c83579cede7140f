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

  /**
   * A writer on this module's scratch buffer, for one synchronous run that ends with
   * {@link finishCopy}: no buffer grows request after request. (Not for nested use.)
   */
  static scratch(): WireWriter {
    const w = (scratchWriter ??= new WireWriter(64 * 1024));
    w.pos = 0;
    return w;
  }

  /**
   * The bytes written, copied out (for {@link scratch} writers: the scratch is reused). A scratch
   * buffer that grew past 1 MiB for a big request is let go.
   */
  finishCopy(): Uint8Array {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    if (this === scratchWriter && this.buf.length > SCRATCH_KEEP_BYTES) scratchWriter = undefined;
    return out;
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
    const len = s.length;
    if (len < 128) {
      // short strings (ids, mime types, keys): ASCII by hand, cheaper than a call into Buffer#write
      this.ensure(1 + len * 3);
      const b = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      if (i === len) {
        b[this.pos] = len;
        this.pos = start + len;
        return this;
      }
      if (len * 3 < 128) {
        const n = b.write(s, start, 'utf8');
        b[this.pos] = n;
        this.pos = start + n;
        return this;
      }
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

/** The shared writer of {@link WireWriter.scratch}. */
let scratchWriter: WireWriter | undefined;
/** A scratch buffer larger than this is not kept after its request. */
const SCRATCH_KEEP_BYTES = 1024 * 1024;
