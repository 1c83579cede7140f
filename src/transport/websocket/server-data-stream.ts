import type { RawData, WebSocket } from 'ws';
import { FlowgateError, codeName } from '../../core/errors.js';
import { LightAbort } from '../../core/abort-like.js';
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

/** Documents from this size on are sent as a fragment of their own (see `DataRequest.encodeParts`). */
const SPLIT_DOCS_BYTES = 64 * 1024;

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
    ws.send(frame);
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
 * 1011 and a reason. Back-pressure: at most the streamer's prefetch requests are in flight, and none
 * is started while the socket's send buffer is full; once `highWaterMark` requests (or
 * `highWaterBytes`) wait, the socket is not read (TCP then slows the client down) until half of
 * them have started.
 *
 * Each request is handed to `streamer.process` directly (no async iterator, no promise per request
 * but the walk's own), which is what `rpcStream` does for a stream of requests.
 *
 * Resolves when the stream is over; never rejects.
 */
export function serveDataStream(ws: WebSocket, options: DataStreamOptions): Promise<void> {
  const { streamer, mode, logger, peer } = options;
  const high = options.highWaterMark ?? 64;
  const highBytes = options.highWaterBytes ?? 16 * 1024 * 1024;
  const limit = streamer.prefetch;
  const maxBytes = options.maxMessageBytes ?? 0;
  const stallMs = options.slowClientTimeout ?? 0;
  /** Requests read and not started yet, with the size of their frame. */
  const waiting: { req: DataRequest; bytes: number }[] = [];
  let waitingHead = 0;
  let queuedBytes = 0;
  let inFlight = 0;
  let inputEnded = false;
  let socketClosed = false;
  /** No request starts while a response waits for the send buffer to drain. */
  let sendStalled = false;
  /** Set once the stream is over (ended, failed or closed for a too large response). */
  let over = false;
  // The client going away cancels the work still in flight for it.
  const cancel = new LightAbort();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const streams = new WsStreamSession(ws, {
    streamer,
    logger,
    peer,
    headers: options.headers,
    send: (frame) => sendFrame(ws, frame, stallMs),
  });
  const processOptions = { headers: options.headers, signal: cancel };

  const onResponse = (res: DataRequest): void => {
    inFlight--;
    try {
      if (!over && !socketClosed) send(res);
    } catch (err) {
      return fail(err);
    }
    pump();
  };
  const send = (res: DataRequest): void => {
    // Large documents go out as the response's own bytes, in a second fragment (no copy); the
    // common answer (bytes, small documents) is one buffer.
    const frame: Frame | Frame[] =
      mode === 'bytes' && res.docsBytes.length < SPLIT_DOCS_BYTES
        ? res.encode()
        : encodeResponseParts(res, mode);
    let size = 0;
    if (!Array.isArray(frame)) size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    else for (const f of frame) size += typeof f === 'string' ? Buffer.byteLength(f) : f.length;
    if (maxBytes > 0 && size > maxBytes) {
      logger.warn('closing a WebSocket stream: a response is over maxMessageBytes', {
        peer,
        size,
        limit: maxBytes,
      });
      stop();
      ws.close(WsCloseCode.MessageTooBig, `a response is larger than the limit of ${maxBytes} bytes`);
      return;
    }
    const sent = sendFrame(ws, frame, stallMs);
    if (sent) {
      sendStalled = true;
      void sent.then(() => {
        sendStalled = false;
        pump();
      });
    }
  };
  const onFailure = (err: unknown): void => {
    inFlight--;
    if (over) return pump();
    fail(err);
  };
  /** Ends the stream after a network error (or a response that could not be framed). */
  function fail(err: unknown): void {
    if (over) return;
    stop();
    if (socketClosed) {
      logger.debug('stopped the requests of a client that went away', { peer });
      return;
    }
    const reason = networkCloseReason(err);
    const code = err instanceof FlowgateError ? codeName(err.code) : 'Unknown';
    logger.warn('closing a WebSocket stream after a network error', { peer, code, reason });
    ws.close(WsCloseCode.InternalError, reason);
  }
  /** Ends the stream now: nothing more starts, the requests in flight are cancelled. */
  function stop(): void {
    over = true;
    inputEnded = true;
    waiting.length = waitingHead = 0;
    cancel.abort();
    finish();
  }
  /** Starts what may start; ends the stream once the input ended and every answer is out. */
  function pump(): void {
    while (!over && !sendStalled && inFlight < limit && waitingHead < waiting.length) {
      const item = waiting[waitingHead]!;
      waiting[waitingHead++] = undefined as unknown as (typeof waiting)[number];
      queuedBytes -= item.bytes;
      inFlight++;
      streamer.process(item.req, processOptions).then(onResponse, onFailure);
    }
    if (waitingHead === waiting.length) waiting.length = waitingHead = 0;
    const backlog = waiting.length - waitingHead;
    if (ws.isPaused && !socketClosed && backlog <= high / 2 && queuedBytes <= highBytes / 2) ws.resume();
    if (!over && inputEnded && inFlight === 0 && backlog === 0) {
      over = true;
      void streams.idle().then(() => {
        if (!socketClosed) ws.close(WsCloseCode.Normal);
        finish();
      });
    }
  }

  ws.on('message', (data, isBinary) => {
    const raw = toFrame(data, isBinary);
    if (streams.accept(raw)) return; // streaming requests (see server-stream-session.ts)
    if (inputEnded) return;
    const frame = decodeRequestFrame(raw);
    if (frame.kind === 'end') {
      inputEnded = true;
      return pump();
    }
    if (frame.kind === 'invalid') {
      logger.debug('answered an unreadable frame with an error', { peer, reason: frame.message });
      void sendFrame(ws, encodeResponseFrame(frame.response, mode));
      return;
    }
    const requests = frame.requests;
    // The common case, one request and room for it: started at once, never queued.
    if (
      requests.length === 1 &&
      waitingHead === waiting.length &&
      !over &&
      !sendStalled &&
      inFlight < limit
    ) {
      inFlight++;
      streamer.process(requests[0]!, processOptions).then(onResponse, onFailure);
      return;
    }
    const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    for (let i = 0; i < requests.length; i++) waiting.push({ req: requests[i]!, bytes: i === 0 ? bytes : 0 });
    queuedBytes += bytes;
    pump();
    if ((waiting.length - waitingHead >= high || queuedBytes >= highBytes) && !ws.isPaused) ws.pause();
  });
  ws.on('close', (code, reason) => {
    socketClosed = true;
    if (!inputEnded) logger.debug('client closed the stream', { peer, code, reason: reason.toString() });
    inputEnded = true;
    cancel.abort();
    if (inFlight === 0 && !over) {
      over = true;
      void streams.idle().then(finish);
    }
  });
  ws.on('error', (err) => logger.debug('WebSocket error', { peer, error: err.message }));
  return finished;
}
