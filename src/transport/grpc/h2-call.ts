import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { decompress, FrameReader, frameParts } from './h2-frames.js';
import type { Compression } from './link.js';

/** How a call turns its messages into bytes: one buffer, or parts written without concatenation. */
export type PartsSerialize<Req> = (message: Req) => Buffer | Uint8Array[];

/** What a call needs of its channel: a session to open its stream on, and its settings. */
export interface H2CallHost {
  /** Opens a stream on the current session (connecting one if there is none). */
  request(headers: http2.OutgoingHttpHeaders): http2.ClientHttp2Stream;
  readonly compression: Compression;
  readonly maxMessageBytes: number;
  /** Counts a call as started/ended (the session keeps the process alive while calls run). */
  callStarted(): void;
  callEnded(): void;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** The grpc-timeout header of a deadline `ms` from now (at most 8 digits, as the protocol says). */
export function grpcTimeout(ms: number): string {
  const n = Math.max(1, Math.ceil(ms));
  return n < 1e8 ? `${n}m` : `${Math.ceil(n / 1000)}S`;
}

function statusOf(code: grpc.status, details: string, metadata = new grpc.Metadata()): grpc.StatusObject {
  return { code, details, metadata };
}

function serviceError(s: grpc.StatusObject): grpc.ServiceError {
  const err = new Error(`${s.code} ${grpc.status[s.code]}: ${s.details}`) as grpc.ServiceError;
  err.code = s.code;
  err.details = s.details;
  err.metadata = s.metadata;
  return err;
}

/** The metadata of received headers or trailers, without the pseudo and gRPC protocol headers. */
function metadataOf(headers: http2.IncomingHttpHeaders): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(':') || key.startsWith('grpc-') || key === 'content-type' || value === undefined)
      continue;
    for (const v of [value].flat()) {
      if (key.endsWith('-bin')) for (const b of v.split(',')) md.add(key, Buffer.from(b, 'base64'));
      else md.add(key, v);
    }
  }
  return md;
}

function decodeMessage(raw: string | string[] | undefined): string {
  const s = [raw ?? ''].flat().join(',');
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * One gRPC call on a `node:http2` stream, with the events and methods of grpc-js's client calls
 * that flowgate uses: `data` (each message, deserialized), `error` (a `ServiceError` when the status
 * is not OK), `status`, then `end`; `write`, `end`, `cancel`. Unary calls pass `onUnary`.
 */
export class H2Call<Req, Res> extends EventEmitter {
  private readonly stream: http2.ClientHttp2Stream;
  private status: grpc.StatusObject | undefined;
  private encoding: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private single: Res | undefined;
  private done = false;

  constructor(
    private readonly host: H2CallHost,
    headers: http2.OutgoingHttpHeaders,
    private readonly serialize: PartsSerialize<Req>,
    private readonly deserialize: (b: Buffer) => Res,
    deadline: number | undefined,
    private readonly onUnary?: (err: grpc.ServiceError | null, res?: Res) => void,
  ) {
    super();
    if (deadline !== undefined && Number.isFinite(deadline)) {
      const ms = deadline - Date.now();
      if (ms <= 0) {
        this.stream = undefined as unknown as http2.ClientHttp2Stream;
        this.done = true;
        process.nextTick(() => this.finish(statusOf(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')));
        return;
      }
      headers['grpc-timeout'] = grpcTimeout(ms);
      this.timer = setTimeout(() => this.abort(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), ms);
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = host.request(headers);
    } catch (err) {
      this.stream = undefined as unknown as http2.ClientHttp2Stream;
      this.done = true;
      const why = `cannot open a stream: ${(err as Error).message}`;
      process.nextTick(() => this.finish(statusOf(grpc.status.UNAVAILABLE, why)));
      return;
    }
    host.callStarted();
    this.stream = stream;
    const reader = new FrameReader((m, compressed) => this.onMessage(m, compressed), host.maxMessageBytes);
    stream.on('response', (h) => this.onHeaders(h));
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.abort(grpc.status.RESOURCE_EXHAUSTED, (err as Error).message);
      }
    });
    stream.on('trailers', (t: http2.IncomingHttpHeaders) => this.onTrailers(t));
    stream.on('error', () => undefined); // its cause shows in 'close' (rstCode, no status)
    stream.on('close', () => this.onClose());
  }

  /** Writes one message (its parts, framed, as one corked write). */
  write(message: Req): boolean {
    if (this.done) return false;
    const bytes = this.serialize(message);
    const frame = frameParts(Buffer.isBuffer(bytes) ? [bytes] : bytes, this.host.compression);
    const s = this.stream;
    s.cork();
    let ok = true;
    for (const b of frame) ok = s.write(b);
    s.uncork();
    return ok;
  }

  /** Ends the request side (half-close). */
  end(): void {
    if (!this.done && !this.stream.writableEnded) this.stream.end();
  }

  /** Cancels the call: status CANCELLED here, RST_STREAM(CANCEL) to the server. */
  cancel(): void {
    this.abort(grpc.status.CANCELLED, 'Cancelled on client');
  }

  private abort(code: grpc.status, details: string): void {
    if (this.done) return;
    this.finish(statusOf(code, details));
    if (!this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
  }

  private onHeaders(h: http2.IncomingHttpHeaders): void {
    const encoding = h['grpc-encoding'];
    this.encoding = typeof encoding === 'string' && encoding !== 'identity' ? encoding : undefined;
    this.emit('metadata', metadataOf(h));
    const httpStatus = Number(h[':status']);
    if (h['grpc-status'] !== undefined)
      this.onTrailers(h); // trailers-only answer
    else if (httpStatus !== 200)
      this.status = statusOf(httpCode(httpStatus), `Received HTTP status code ${httpStatus}`);
    else if (!String(h['content-type'] ?? '').startsWith('application/grpc'))
      this.status = statusOf(grpc.status.UNKNOWN, `Received content-type ${String(h['content-type'])}`);
  }

  private onTrailers(t: http2.IncomingHttpHeaders): void {
    // The server ended the call: end our side too, so that the stream closes.
    if (!this.stream.writableEnded) this.stream.end();
    const code = Number(t['grpc-status']);
    this.status ??= statusOf(
      Number.isInteger(code) ? code : grpc.status.UNKNOWN,
      decodeMessage(t['grpc-message']),
      metadataOf(t),
    );
  }

  private onMessage(m: Buffer, compressed: boolean): void {
    if (this.done) return;
    let res: Res;
    try {
      res = this.deserialize(compressed ? decompress(m, this.encoding) : m);
    } catch (err) {
      return this.abort(grpc.status.INTERNAL, `cannot read a response message: ${(err as Error).message}`);
    }
    if (this.onUnary) this.single = res;
    else this.emit('data', res);
  }

  private onClose(): void {
    if (this.done) return;
    const rst = this.stream.rstCode;
    let s = this.status;
    if (s === undefined) {
      if (rst === NGHTTP2_REFUSED_STREAM) s = statusOf(grpc.status.UNAVAILABLE, 'Stream refused by server');
      else if (rst === NGHTTP2_CANCEL && this.stream.session?.destroyed === false)
        s = statusOf(grpc.status.CANCELLED, 'Call cancelled by the server');
      else if (rst === NGHTTP2_ENHANCE_YOUR_CALM)
        s = statusOf(grpc.status.RESOURCE_EXHAUSTED, 'Bandwidth exhausted or memory limit exceeded');
      else s = statusOf(grpc.status.UNAVAILABLE, 'Connection dropped');
    } else if (s.code === grpc.status.OK && this.onUnary && this.single === undefined) {
      s = statusOf(grpc.status.UNIMPLEMENTED, 'No message received for a unary call', s.metadata);
    }
    this.finish(s);
  }

  private finish(s: grpc.StatusObject): void {
    this.done = true;
    this.status = s;
    clearTimeout(this.timer);
    if (this.stream !== undefined) this.host.callEnded();
    if (this.onUnary) {
      if (s.code === grpc.status.OK) this.onUnary(null, this.single);
      else this.onUnary(serviceError(s));
      this.single = undefined;
    } else if (s.code !== grpc.status.OK) this.emit('error', serviceError(s));
    this.emit('status', s);
    if (!this.onUnary) this.emit('end');
  }
}

/** gRPC's mapping of an HTTP status without a grpc-status (the protocol's table). */
function httpCode(httpStatus: number): grpc.status {
  switch (httpStatus) {
    case 400:
      return grpc.status.INTERNAL;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return grpc.status.UNAVAILABLE;
    default:
      return grpc.status.UNKNOWN;
  }
}
