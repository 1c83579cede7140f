import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { Compression } from './link.js';

/**
 * gRPC's message framing on HTTP/2 (the "Length-Prefixed-Message" of the gRPC protocol): one byte
 * flag (1 = compressed with the call's `grpc-encoding`), a 4-byte big-endian length, the message.
 * Written here without concatenating a message's parts, read into ONE buffer of the length the
 * prefix gives (a message inside one DATA chunk is a view of that chunk, not a copy).
 */

/** The 5-byte prefix of a message of `length` bytes. */
export function framePrefix(length: number, compressed = false): Buffer {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/**
 * The frame of one message given in parts: the prefix and the parts themselves (no copy), or, with
 * compression, the prefix and the compressed message.
 *
 * @example
 * ```ts
 * for (const b of frameParts(request.encodeParts(), 'none')) stream.write(b);
 * ```
 */
export function frameParts(parts: readonly Uint8Array[], compression: Compression = 'none'): Uint8Array[] {
  if (compression !== 'none') {
    const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const packed = compression === 'gzip' ? gzipSync(whole) : deflateSync(whole);
    return [framePrefix(packed.length, true), packed];
  }
  let length = 0;
  for (const p of parts) length += p.length;
  return [framePrefix(length), ...parts];
}

/** Undoes the compression named by a response's `grpc-encoding`; throws for an unknown one. */
export function decompress(message: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return gunzipSync(message);
  if (encoding === 'deflate') return inflateSync(message);
  throw new Error(`a compressed message with grpc-encoding '${encoding ?? 'identity'}'`);
}

/**
 * Splits a stream of DATA chunks into gRPC messages. A message that spans chunks is copied once,
 * into a buffer allocated at its full length when its prefix arrives; `maxBytes` (>= 0) refuses
 * larger ones before allocating.
 *
 * @example
 * ```ts
 * const reader = new FrameReader((m, compressed) => handle(m), -1);
 * stream.on('data', (chunk: Buffer) => reader.push(chunk));
 * ```
 */
export class FrameReader {
  private readonly head = Buffer.alloc(5);
  private headLength = 0;
  private body: Buffer | undefined;
  private bodyLength = 0;
  private compressed = false;

  constructor(
    private readonly onMessage: (message: Buffer, compressed: boolean) => void,
    private readonly maxBytes = -1,
  ) {}

  /** True when no message is partly read (a stream may end here). */
  get idle(): boolean {
    return this.headLength === 0 && this.body === undefined;
  }

  /** Feeds one chunk; throws (RangeError) when a message is larger than `maxBytes`. */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      const body = this.body;
      if (body !== undefined) {
        const n = Math.min(body.length - this.bodyLength, end - pos);
        chunk.copy(body, this.bodyLength, pos, pos + n);
        this.bodyLength += n;
        pos += n;
        if (this.bodyLength === body.length) {
          this.body = undefined;
          this.onMessage(body, this.compressed);
        }
        continue;
      }
      if (this.headLength === 0 && end - pos >= 5) {
        // The usual case: the prefix in one piece; the message too, when it fits in this chunk.
        const length = this.check(chunk.readUInt32BE(pos + 1));
        const compressed = chunk[pos] === 1;
        pos += 5;
        if (end - pos >= length) {
          this.onMessage(chunk.subarray(pos, pos + length), compressed);
          pos += length;
        } else this.start(length, compressed);
        continue;
      }
      const n = Math.min(5 - this.headLength, end - pos);
      chunk.copy(this.head, this.headLength, pos, pos + n);
      this.headLength += n;
      pos += n;
      if (this.headLength < 5) continue;
      this.headLength = 0;
      const length = this.check(this.head.readUInt32BE(1));
      if (length === 0) this.onMessage(Buffer.alloc(0), this.head[0] === 1);
      else this.start(length, this.head[0] === 1);
    }
  }

  private start(length: number, compressed: boolean): void {
    this.body = Buffer.allocUnsafe(length);
    this.bodyLength = 0;
    this.compressed = compressed;
  }

  private check(length: number): number {
    if (this.maxBytes >= 0 && length > this.maxBytes)
      throw new RangeError(`received a message of ${length} bytes, more than the limit of ${this.maxBytes}`);
    return length;
  }
}
