import { setMaxListeners } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { FlowgateError, codeName } from '../../core/errors.js';
import { AsyncQueue } from '../../core/async-queue.js';
import type { Logger } from '../../core/logger.js';
import type { DataRequest } from '../../proto/request.js';
import { decodeRequestFrame, encodeResponseFrame, encodeResponseParts, type Frame } from './codec.js';
import { WsCloseCode, type WsSubprotocol } from './frames.js';
import { networkCloseReason } from './status.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import type { Headers } from '../../core/headers.js';
import { WsStreamSession } from './server-stream-session.js';

/** Options of {@link serveDataStream}. */
export interface DataStreamOptions {
  streamer: GatewayStreamer;
  /** How responses are framed. */
  mode: WsSubprotocol;
  logger: Logger;
  /** Who is on the other end, for logs. */
  peer: string;
  /** Requests read but not yet taken by the streamer before the socket stops being read. Default 64. */
  highWaterMark?: number;
  /** The same limit in bytes of frames. Default 16 MiB. */
  highWaterBytes?: number;
  /** Headers sent with every request of this socket to Executors (the forwarded ones). */
  headers?: Headers;
  /** A response frame larger than this closes the socket with 1009 instead; 0 or less = none. */
  maxMessageBytes?: number;
  /** ms the client may leave responses unread (send buffer full) before it is cut off; 0 = none. */
  slowClientTimeout?: number;
}

/** Once this many bytes wait in the socket's send buffer, the next response waits for them. */
const SEND_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** A frame as `decodeRequestFrame` takes it. */
export function toFrame(data: RawData, isBinary: boolean): Frame {
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return isBinary ? buf : buf.toString('utf8');
}

/**
 * Sends a frame, or one message in parts (fragments: see `encodeResponseParts`); resolves at once
 * unless the send buffer is full, then when it has drained. A
 * client that reads nothing for `stallMs` (the buffer stays full) is cut off: its socket is
 * destroyed (a close frame could not get through) and the promise resolves.
 */
export function sendFrame(ws: WebSocket, frame: Frame | Frame[], stallMs = 0): Promise<void> | undefined {
  if (ws.readyState !== ws.OPEN) return undefined;
  if (Array.isArray(frame)) {
    // One message in fragments (continuation frames), sent back to back: nothing comes between.
    for (let i = 0; i < frame.length - 1; i++) ws.send(frame[i]!, { fin: false });
    frame = frame[frame.length - 1]!;
  }
  if (ws.bufferedAmount < SEND_HIGH_WATER_BYTES) {
    ws.send(frame, () => undefined);
    return undefined;
  }
  return new Promise<void>((resolve) => {
    const timer =
      stallMs > 0
        ? setTimeout(() => {
            ws.terminate();
            resolve();
          }, stallMs)
        : undefined;
    ws.send(frame, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Serves the data stream of one WebSocket (path `/`): every frame becomes requests that go through
 * the streamer with many in flight; each response is sent as it completes. Frames that cannot be
 * read are answered with an error response and the stream goes on. The end-of-input marker lets the
 * outstanding requests finish, then the socket closes with 1000; a network failure closes it with
 * 1011 and a reason. Back-pressure: the streamer takes requests only while fewer than its prefetch
 * are in flight; once `highWaterMark` requests (or `highWaterBytes`) wait for it, the socket is not
 * read (TCP then slows the client down) until half of them have been taken.
 *
 * Resolves when the stream is over; never rejects.
 */
export async function serveDataStream(ws: WebSocket, options: DataStreamOptions): Promise<void> {
  const { streamer, mode, logger, peer } = options;
  const high = options.highWaterMark ?? 64;
  const highBytes = options.highWaterBytes ?? 16 * 1024 * 1024;
  const inbound = new AsyncQueue<{ req: DataRequest; bytes: number }>();
  let queuedBytes = 0;
  let inputEnded = false;
  let socketClosed = false;
  // The client going away cancels the work still in flight for it.
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per request in flight on this socket

  const endInput = () => {
    inputEnded = true;
    inbound.end();
  };
  const streams = new WsStreamSession(ws, {
    streamer,
    logger,
    peer,
    headers: options.headers,
    send: (frame) => sendFrame(ws, frame, options.slowClientTimeout ?? 0),
  });
  ws.on('message', (data, isBinary) => {
    const raw = toFrame(data, isBinary);
    if (streams.accept(raw)) return; // streaming requests (see server-stream-session.ts)
    if (inputEnded) return;
    const frame = decodeRequestFrame(raw);
    if (frame.kind === 'end') return endInput();
    if (frame.kind === 'invalid') {
      logger.debug('answered an unreadable frame with an error', { peer, reason: frame.message });
      void sendFrame(ws, encodeResponseFrame(frame.response, mode));
      return;
    }
    const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    frame.requests.forEach((req, i) => inbound.push({ req, bytes: i === 0 ? bytes : 0 }));
    queuedBytes += bytes;
    if ((inbound.size >= high || queuedBytes >= highBytes) && !ws.isPaused) ws.pause();
  });
  ws.on('close', (code, reason) => {
    socketClosed = true;
    if (!inputEnded) logger.debug('client closed the stream', { peer, code, reason: reason.toString() });
    endInput();
    abort.abort();
  });
  ws.on('error', (err) => logger.debug('WebSocket error', { peer, error: err.message }));

  async function* source(): AsyncGenerator<DataRequest> {
    for await (const { req, bytes } of inbound) {
      queuedBytes -= bytes;
      yield req;
      // The streamer asked for the next one: reading may go on once half of the backlog is gone.
      if (ws.isPaused && !socketClosed && inbound.size <= high / 2 && queuedBytes <= highBytes / 2)
        ws.resume();
    }
  }

  try {
    const limit = options.maxMessageBytes ?? 0;
    const responses = streamer.rpcStream(source(), {
      resultsInOrder: false,
      signal: abort.signal,
      headers: options.headers,
    });
    for await (const res of responses) {
      if (socketClosed) continue;
      // Large documents go out as the response's own bytes, in a second fragment (no copy).
      const frame = encodeResponseParts(res, mode);
      let size = 0;
      for (const f of frame) size += typeof f === 'string' ? Buffer.byteLength(f) : f.length;
      if (limit > 0 && size > limit) {
        logger.warn('closing a WebSocket stream: a response is over maxMessageBytes', { peer, size, limit });
        endInput();
        ws.close(WsCloseCode.MessageTooBig, `a response is larger than the limit of ${limit} bytes`);
        return;
      }
      await sendFrame(ws, frame, options.slowClientTimeout ?? 0);
    }
    await streams.idle();
    if (!socketClosed) ws.close(WsCloseCode.Normal);
  } catch (err) {
    endInput();
    if (socketClosed) return logger.debug('stopped the requests of a client that went away', { peer });
    const reason = networkCloseReason(err);
    const code = err instanceof FlowgateError ? codeName(err.code) : 'Unknown';
    logger.warn('closing a WebSocket stream after a network error', { peer, code, reason });
    ws.close(WsCloseCode.InternalError, reason);
  }
}
