/**
 * Hand-written encoders for the small messages every request carries through the Gateway:
 * `jina.HeaderProto`, `jina.RouteProto` (with its `google.protobuf.Timestamp`s) and
 * `jina.StatusProto`. The generated protobufjs encoders build a linked list of operations per
 * message and per nested message, then copy it out; these measure the message first and write it
 * straight into one buffer, which matters at tens of thousands of requests per second.
 *
 * The bytes are exactly what the generated encoders write for the same object: the same fields in
 * the same order, each written when it is an own property that is not null or undefined (decoded
 * messages keep their defaults on the prototype, and those are not written). Anything these do not
 * handle (a 64-bit `Long`, a negative number, a field they do not know) makes them return
 * `undefined`, and the caller uses the generated encoder.
 */
import type { jina } from './wire.js';

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(), as the generated encoders do
const own = Object.prototype.hasOwnProperty;

/**
 * A field the generated encoders would write: set (not null or undefined) and the message's own.
 * A plain object (what the Gateway builds) has nothing on its prototype, so no own-property check.
 */
function isSet<T>(plain: boolean, m: object, v: T, key: string): v is NonNullable<T> {
  return v != null && (plain || own.call(m, key));
}

/** True for an object literal (nothing on its prototype): {@link isSet} then needs no own check. */
function isPlain(m: object): boolean {
  return Object.getPrototypeOf(m) === Object.prototype;
}

/** Size of a string field (tag, length, bytes); -1 when `v` is not a string. */
function stringFieldSize(v: unknown): number {
  if (typeof v !== 'string') return -1;
  const len = utf8Length(v);
  return 1 + varint32Size(len) + len;
}

/** Bytes of an unsigned 32-bit varint. */
export function varint32Size(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** UTF-8 length of `s`; for the ASCII strings of ids and names, without leaving JavaScript. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** A non-negative integer below 2^31 (what these encoders write as a plain varint). */
function isSmallUint(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= 0x7fffffff && Number.isInteger(v);
}

/**
 * A cursor over the buffer being written. One object per encode; its methods are monomorphic, so
 * V8 inlines them.
 */
export class WireCursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.pos++] = n;
  }

  /** A string whose UTF-8 length is `len` (from {@link utf8Length}). */
  string(s: string, len: number): void {
    this.varint(len);
    if (len === s.length) {
      const buf = this.buf;
      for (let i = 0; i < len; i++) buf[this.pos++] = s.charCodeAt(i);
    } else {
      this.buf.write(s, this.pos, len, 'utf8');
      this.pos += len;
    }
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Size of a `StatusProto`, or -1 when {@link writeStatus} cannot write it. */
function statusSize(s: jina.IStatusProto): number {
  const plainS = isPlain(s);
  let size = 0;
  if (isSet(plainS, s, s.code, 'code')) {
    if (!isSmallUint(s.code)) return -1;
    size += 1 + varint32Size(s.code);
  }
  if (isSet(plainS, s, s.description, 'description')) {
    const n = stringFieldSize(s.description);
    if (n < 0) return -1;
    size += n;
  }
  if (isSet(plainS, s, s.exception, 'exception')) {
    const e = exceptionSize(s.exception);
    if (e < 0) return -1;
    size += 1 + varint32Size(e) + e;
  }
  return size;
}

function stringsSize(list: unknown): number {
  if (!Array.isArray(list)) return -1;
  let size = 0;
  for (const x of list) {
    const n = stringFieldSize(x);
    if (n < 0) return -1;
    size += n;
  }
  return size;
}

function exceptionSize(e: jina.StatusProto.IExceptionProto): number {
  const plainE = isPlain(e);
  let size = 0;
  if (isSet(plainE, e, e.name, 'name')) {
    const n = stringFieldSize(e.name);
    if (n < 0) return -1;
    size += n;
  }
  if (e.args != null && e.args.length > 0) {
    const n = stringsSize(e.args);
    if (n < 0) return -1;
    size += n;
  }
  if (e.stacks != null && e.stacks.length > 0) {
    const n = stringsSize(e.stacks);
    if (n < 0) return -1;
    size += n;
  }
  if (isSet(plainE, e, e.executor, 'executor')) {
    const n = stringFieldSize(e.executor);
    if (n < 0) return -1;
    size += n;
  }
  return size;
}

function writeStrings(w: WireCursor, tag: number, list: readonly string[]): void {
  for (const x of list) {
    w.varint(tag);
    w.string(x, utf8Length(x));
  }
}

function writeStatus(w: WireCursor, s: jina.IStatusProto): void {
  const plainS = isPlain(s);
  if (isSet(plainS, s, s.code, 'code')) {
    w.varint(8);
    w.varint(s.code);
  }
  if (isSet(plainS, s, s.description, 'description')) {
    w.varint(18);
    w.string(s.description, utf8Length(s.description));
  }
  if (isSet(plainS, s, s.exception, 'exception')) {
    const e = s.exception;
    const plainE = isPlain(e);
    w.varint(26);
    w.varint(exceptionSize(e));
    if (isSet(plainE, e, e.name, 'name')) {
      w.varint(10);
      w.string(e.name, utf8Length(e.name));
    }
    if (e.args != null && e.args.length > 0) writeStrings(w, 18, e.args);
    if (e.stacks != null && e.stacks.length > 0) writeStrings(w, 26, e.stacks);
    if (isSet(plainE, e, e.executor, 'executor')) {
      w.varint(34);
      w.string(e.executor, utf8Length(e.executor));
    }
  }
}

/** Size of a `HeaderProto`, or -1 when {@link writeHeader} cannot write it. */
export function headerSize(h: jina.IHeaderProto): number {
  const plainH = isPlain(h);
  let size = 0;
  if (isSet(plainH, h, h.requestId, 'requestId')) {
    const n = stringFieldSize(h.requestId);
    if (n < 0) return -1;
    size += n;
  }
  if (isSet(plainH, h, h.status, 'status')) {
    const s = statusSize(h.status);
    if (s < 0) return -1;
    size += 1 + varint32Size(s) + s;
  }
  if (isSet(plainH, h, h.execEndpoint, 'execEndpoint')) {
    const n = stringFieldSize(h.execEndpoint);
    if (n < 0) return -1;
    size += n;
  }
  if (isSet(plainH, h, h.targetExecutor, 'targetExecutor')) {
    const n = stringFieldSize(h.targetExecutor);
    if (n < 0) return -1;
    size += n;
  }
  if (isSet(plainH, h, h.timeout, 'timeout')) {
    if (!isSmallUint(h.timeout)) return -1;
    size += 1 + varint32Size(h.timeout);
  }
  return size;
}

/** Writes a header {@link headerSize} measured (not the tag and length around it). */
export function writeHeader(w: WireCursor, h: jina.IHeaderProto): void {
  const plainH = isPlain(h);
  if (isSet(plainH, h, h.requestId, 'requestId')) {
    w.varint(10);
    w.string(h.requestId, utf8Length(h.requestId));
  }
  if (isSet(plainH, h, h.status, 'status')) {
    w.varint(18);
    w.varint(statusSize(h.status));
    writeStatus(w, h.status);
  }
  if (isSet(plainH, h, h.execEndpoint, 'execEndpoint')) {
    w.varint(26);
    w.string(h.execEndpoint, utf8Length(h.execEndpoint));
  }
  if (isSet(plainH, h, h.targetExecutor, 'targetExecutor')) {
    w.varint(34);
    w.string(h.targetExecutor, utf8Length(h.targetExecutor));
  }
  if (isSet(plainH, h, h.timeout, 'timeout')) {
    w.varint(40);
    w.varint(h.timeout);
  }
}

/** A `google.protobuf.Timestamp` as the Gateway builds it (numbers; a decoded one may hold Longs). */
interface Timestamp {
  seconds?: unknown;
  nanos?: unknown;
}

function timestampSize(t: Timestamp): number {
  const plainT = isPlain(t);
  let size = 0;
  if (isSet(plainT, t, t.seconds, 'seconds')) {
    // int64 as a varint: exact for the non-negative safe integers a clock gives.
    const s = t.seconds;
    if (typeof s !== 'number' || !(s >= 0) || !Number.isSafeInteger(s)) return -1;
    size += 1 + varint64Size(s);
  }
  if (isSet(plainT, t, t.nanos, 'nanos')) {
    if (!isSmallUint(t.nanos)) return -1;
    size += 1 + varint32Size(t.nanos);
  }
  return size;
}

function varint64Size(n: number): number {
  if (n < 0x10000000) return varint32Size(n);
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint64(w: WireCursor, n: number): void {
  if (n <= 0x7fffffff) return w.varint(n);
  while (n >= 0x80) {
    w.buf[w.pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  w.buf[w.pos++] = n;
}

function writeTimestamp(w: WireCursor, t: Timestamp): void {
  const plainT = isPlain(t);
  if (isSet(plainT, t, t.seconds, 'seconds')) {
    w.varint(8);
    writeVarint64(w, t.seconds as number);
  }
  if (isSet(plainT, t, t.nanos, 'nanos')) {
    w.varint(16);
    w.varint(t.nanos as number);
  }
}

/** Size of a `RouteProto`, or -1 when {@link writeRoute} cannot write it. */
export function routeSize(r: jina.IRouteProto): number {
  const plainR = isPlain(r);
  let size = 0;
  if (isSet(plainR, r, r.executor, 'executor')) {
    const n = stringFieldSize(r.executor);
    if (n < 0) return -1;
    size += n;
  }
  if (isSet(plainR, r, r.startTime, 'startTime')) {
    const t = timestampSize(r.startTime);
    if (t < 0) return -1;
    size += 1 + varint32Size(t) + t;
  }
  if (isSet(plainR, r, r.endTime, 'endTime')) {
    const t = timestampSize(r.endTime);
    if (t < 0) return -1;
    size += 1 + varint32Size(t) + t;
  }
  if (isSet(plainR, r, r.status, 'status')) {
    const s = statusSize(r.status);
    if (s < 0) return -1;
    size += 1 + varint32Size(s) + s;
  }
  return size;
}

/** Writes a route {@link routeSize} measured (not the tag and length around it). */
export function writeRoute(w: WireCursor, r: jina.IRouteProto): void {
  const plainR = isPlain(r);
  if (isSet(plainR, r, r.executor, 'executor')) {
    w.varint(10);
    w.string(r.executor, utf8Length(r.executor));
  }
  if (isSet(plainR, r, r.startTime, 'startTime')) {
    w.varint(18);
    w.varint(timestampSize(r.startTime));
    writeTimestamp(w, r.startTime);
  }
  if (isSet(plainR, r, r.endTime, 'endTime')) {
    w.varint(26);
    w.varint(timestampSize(r.endTime));
    writeTimestamp(w, r.endTime);
  }
  if (isSet(plainR, r, r.status, 'status')) {
    w.varint(34);
    w.varint(statusSize(r.status));
    writeStatus(w, r.status);
  }
}
