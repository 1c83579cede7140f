import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, FlowgateError } from '../../core/errors.js';
import { forwardedHeaders } from '../../core/headers.js';
import type { Logger } from '../../core/logger.js';
import { headerRecord, metadataToForward, type Authenticator } from '../../gateway/auth.js';
import { dryRun } from '../../gateway/dry-run.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import type { DataRequest } from '../../proto/request.js';
import { environmentInfo } from '../../runtime/info.js';
import { peerOf } from '../shared/server-auth-hook.js';
import {
  JinaGatewayDryRunRPCService,
  JinaInfoRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
} from './codec.js';
import { toGrpcStatus } from './status.js';
import { JinaSingleDocumentRequestRPCService } from './stream-doc.js';
import { firstEvent } from '../../core/events.js';

/** Options of {@link createGrpcWebHandler}. */
export interface GrpcWebOptions {
  streamer: GatewayStreamer;
  logger: Logger;
  authenticator?: Authenticator;
  forwardMetadata?: string[];
  /** Largest request body, bytes (RESOURCE_EXHAUSTED above it); 0 or less = none. */
  maxMessageBytes?: number;
  /** Answer CORS preflights and let any origin read the answers (browser pages on another origin). */
  cors?: boolean;
}

/** Answers one decoded call: yields the response messages (already encoded). */
type Method = (messages: Buffer[], ctx: CallContext) => AsyncIterable<Uint8Array>;
interface CallContext {
  headers: ReturnType<typeof forwardedHeaders>;
  signal: AbortSignal;
}

const SERVING = Buffer.from([0x08, 0x01]); // grpc.health.v1.HealthCheckResponse { status: SERVING }

/** The methods a browser can call: server-streaming or unary (gRPC-Web has no client streams). */
function methods(streamer: GatewayStreamer): Record<string, Method> {
  const call = JinaRPCService.Call;
  const single = JinaSingleDataRequestRPCService.process_single_data;
  const streamDoc = JinaSingleDocumentRequestRPCService.stream_doc;
  return {
    [call.path]: async function* (messages, ctx) {
      async function* requests(): AsyncGenerator<DataRequest> {
        for (const m of messages) yield call.requestDeserialize(m);
      }
      for await (const res of streamer.rpcStream(requests(), { headers: ctx.headers, signal: ctx.signal }))
        yield call.responseSerialize(res);
    },
    [single.path]: async function* (messages, ctx) {
      const req = single.requestDeserialize(one(messages));
      yield single.responseSerialize(
        await streamer.process(req, { headers: ctx.headers, signal: ctx.signal }),
      );
    },
    // Server streaming: each item the streaming endpoint yields is one frame, as it is yielded;
    // the browser closing the response cancels the stream up to the Executor's generator.
    [streamDoc.path]: async function* (messages, ctx) {
      const req = streamDoc.requestDeserialize(one(messages));
      for await (const item of streamer.streamItems(req, { headers: ctx.headers, signal: ctx.signal }))
        yield streamDoc.responseSerialize(item);
    },
    [JinaGatewayDryRunRPCService.dry_run.path]: async function* () {
      yield JinaGatewayDryRunRPCService.dry_run.responseSerialize(await dryRun(streamer));
    },
    [JinaInfoRPCService._status.path]: async function* () {
      yield JinaInfoRPCService._status.responseSerialize(environmentInfo());
    },
    '/grpc.health.v1.Health/Check': async function* () {
      yield SERVING;
    },
  };
}

function one(messages: Buffer[]): Buffer {
  if (messages.length !== 1)
    throw new FlowgateError(Code.InvalidArgument, `a unary call takes 1 message, got ${messages.length}`);
  return messages[0]!;
}

/** Whether `contentType` is gRPC-Web, and whether it is the base64 text variant. */
export function grpcWebKind(contentType: string | undefined): 'binary' | 'text' | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/grpc-web' || ct === 'application/grpc-web+proto') return 'binary';
  if (ct === 'application/grpc-web-text' || ct === 'application/grpc-web-text+proto') return 'text';
  return undefined;
}

/** One gRPC-Web frame: flag (0 = message, 0x80 = trailers), length (big endian), payload. */
export function frame(flag: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** The message frames of a request body; a compressed or truncated frame is INVALID_ARGUMENT. */
export function parseFrames(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5)
      throw new FlowgateError(Code.InvalidArgument, 'a gRPC-Web frame header is cut short');
    const flag = body[at]!;
    const len = body.readUInt32BE(at + 1);
    if (body.length - at - 5 < len)
      throw new FlowgateError(Code.InvalidArgument, `a gRPC-Web frame of ${len} bytes is cut short`);
    if (flag & 0x01)
      throw new FlowgateError(Code.Unimplemented, 'compressed gRPC-Web request frames are not supported');
    if ((flag & 0x80) === 0) out.push(body.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return out;
}

/** Base64 text that may be several padded chunks one after the other. */
function decodeText(text: string): Buffer {
  const chunks = text.replace(/\s+/g, '').split(/(?<==)(?=[^=])/);
  return Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64')));
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'grpc-status, grpc-message',
};

/**
 * gRPC-Web (`application/grpc-web`, `+proto`, and the base64 `application/grpc-web-text`) for
 * browsers, served from the one-port front's HTTP/1.1 side: the Gateway's data (`JinaRPC/Call`
 * as server streaming, `process_single_data`), streaming endpoints (`stream_doc`, server
 * streaming: one frame per item as it is yielded), `dry_run`, `_status` and health `Check`. Each
 * answer is `200` with the message frames, then a trailer frame (flag `0x80`) holding
 * `grpc-status` and `grpc-message`. Returns false for a request that is not gRPC-Web.
 *
 * @example
 * ```ts
 * const handle = createGrpcWebHandler({ streamer, logger, cors: true });
 * http.createServer((req, res) => handle(req, res) || fallback(req, res));
 * ```
 */
export function createGrpcWebHandler(
  options: GrpcWebOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const table = methods(options.streamer);
  const limit =
    options.maxMessageBytes !== undefined && options.maxMessageBytes > 0 ? options.maxMessageBytes : Infinity;
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (
      req.method === 'OPTIONS' &&
      options.cors &&
      table[path] &&
      req.headers['access-control-request-method']
    ) {
      res.writeHead(204, {
        ...CORS_HEADERS,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers':
          req.headers['access-control-request-headers'] ??
          'content-type, x-grpc-web, x-user-agent, authorization',
        'access-control-max-age': '86400',
      });
      res.end();
      return true;
    }
    const kind = grpcWebKind(req.headers['content-type']);
    if (req.method !== 'POST' || !kind) return false;
    void serve(req, res, kind, table[path], path, options, limit);
    return true;
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  kind: 'binary' | 'text',
  method: Method | undefined,
  path: string,
  options: GrpcWebOptions,
  limit: number,
): Promise<void> {
  const abort = new AbortController();
  let done = false;
  res.on('close', () => {
    if (!done) abort.abort();
  });
  res.writeHead(200, {
    'content-type': kind === 'text' ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto',
    ...(options.cors ? CORS_HEADERS : {}),
  });
  const send = (bytes: Buffer) => res.write(kind === 'text' ? bytes.toString('base64') : bytes);
  let status: { code: number; details: string } = { code: 0, details: '' };
  try {
    if (!method) throw new FlowgateError(Code.Unimplemented, `no gRPC-Web method ${path}`);
    const body = await readBody(req, limit);
    const messages = parseFrames(kind === 'text' ? decodeText(body.toString('latin1')) : body);
    const headers = headerRecord(req.headers);
    let principal: Record<string, unknown> | undefined;
    if (options.authenticator && path !== '/grpc.health.v1.Health/Check') {
      const auth = await options.authenticator({
        protocol: 'grpc',
        headers,
        peer: peerOf(req.socket),
        method: 'POST',
        path,
      });
      if (!auth.ok) throw new FlowgateError(Code.Unauthenticated, auth.message);
      principal = auth.principal;
    }
    const fwd =
      options.forwardMetadata || principal
        ? forwardedHeaders(metadataToForward(headers, options.forwardMetadata, principal))
        : undefined;
    for await (const msg of method(messages, { headers: fwd, signal: abort.signal })) {
      if (abort.signal.aborted) break;
      if (!send(frame(0, msg)) && !res.destroyed) await firstEvent(res, 'drain', 'close');
    }
  } catch (err) {
    const s = toGrpcStatus(err);
    status = { code: s.code ?? Code.Internal, details: s.details ?? '' };
    if (status.code !== Code.Unauthenticated)
      options.logger.debug('gRPC-Web call failed', { path, code: status.code, details: status.details });
  }
  done = true;
  const trailer = `grpc-status:${status.code}\r\ngrpc-message:${encodeURIComponent(status.details)}\r\n`;
  send(frame(0x80, Buffer.from(trailer)));
  res.end();
}

/** The body, RESOURCE_EXHAUSTED when it is larger than `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new FlowgateError(
        Code.ResourceExhausted,
        `the request is larger than the limit of ${limit} bytes (maxMessageBytes)`,
      );
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
