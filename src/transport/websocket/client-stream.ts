import type { WebSocket } from 'ws';
import { AsyncQueue } from '../../core/async-queue.js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import { decodeStreamServerFrame, encodeStreamStart } from './stream-frames.js';
import type { TransportStreamOptions } from '../shared/client-transport.js';

/** Items received but not yet read before the socket stops being read (TCP then holds the Gateway back). */
const HIGH_WATER = 16;

/**
 * A stream over a WebSocket of its own: sends the `streamDoc` frame, yields the items tagged with
 * its request id as they arrive. Returning early sends `cancelStream` and closes the socket (either
 * cancels the stream up to the Executor); `timeoutMs` bounds the whole stream.
 */
export async function* wsStreamDoc(
  ws: WebSocket,
  url: string,
  opened: Promise<void>,
  request: StreamDocRequest,
  options: TransportStreamOptions,
): AsyncGenerator<StreamDocRequest> {
  const requestId = request.header.requestId ?? '';
  const items = new AsyncQueue<StreamDocRequest>();
  let ended = false;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const frame = decodeStreamServerFrame((data as Buffer).toString('utf8'));
    if (!frame || frame.requestId !== requestId) return;
    if (frame.failure) {
      ended = true;
      items.fail(frame.failure);
      return;
    }
    if (frame.item) items.push(frame.item);
    if (frame.end) {
      ended = true;
      items.end();
    }
    if (items.size >= HIGH_WATER && !ws.isPaused) ws.pause();
  });
  ws.on('close', (code, reason) => {
    if (ended) return;
    items.fail(
      new FlowgateError(
        Code.Unavailable,
        `the stream to ${url} closed before its end (${code} ${reason.toString()})`,
      ),
    );
  });
  ws.on('error', () => undefined);
  const timer =
    options.timeoutMs && options.timeoutMs > 0
      ? setTimeout(() => {
          items.fail(
            new FlowgateError(
              Code.DeadlineExceeded,
              `the stream from ${url} did not end within ${options.timeoutMs} ms`,
            ),
          );
          ws.close();
        }, options.timeoutMs)
      : undefined;
  try {
    await opened;
    ws.send(encodeStreamStart(request));
    for (;;) {
      const next = await items.next();
      if (ws.isPaused && items.size <= HIGH_WATER / 2) ws.resume();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    if (!ended && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ cancelStream: requestId }));
    ws.close();
  }
}
