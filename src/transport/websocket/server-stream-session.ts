import type { WebSocket } from 'ws';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Headers } from '../../core/headers.js';
import type { Logger } from '../../core/logger.js';
import { streamErrorItem } from '../../document/stream-request.js';
import type { Frame } from './codec.js';
import {
  decodeStreamClientFrame,
  encodeStreamEnd,
  encodeStreamFailure,
  encodeStreamItem,
} from './stream-frames.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';

/** Options of {@link WsStreamSession}. */
export interface WsStreamSessionOptions {
  streamer: GatewayStreamer;
  logger: Logger;
  peer: string;
  /** Headers sent with every stream of this socket to Executors (the forwarded ones). */
  headers?: Headers;
  /** Sends a frame, resolving once the socket's send buffer took it (see `sendFrame`). */
  send: (frame: Frame) => Promise<void> | undefined;
}

/**
 * The streams of one WebSocket data socket (frames in `stream-frames.ts`): several at once, each
 * walked through the Flow and relayed item by item, tagged with its request id. An item is read
 * from the Flow only once the socket's send buffer took the previous one (below 4 MiB buffered,
 * see `sendFrame`), so a client that reads nothing slows the generators down. `cancelStream`
 * cancels one stream, the socket closing cancels them all, each up to the Executor's generator.
 *
 * @example
 * ```ts
 * const streams = new WsStreamSession(ws, { streamer, logger, peer, send: (f) => sendFrame(ws, f) });
 * ws.on('message', (data) => { if (streams.accept(text)) return; ... });
 * ```
 */
export class WsStreamSession {
  private readonly running = new Map<string, AbortController>();
  private readonly done = new Set<Promise<void>>();

  constructor(
    ws: WebSocket,
    private readonly options: WsStreamSessionOptions,
  ) {
    ws.on('close', () => {
      for (const abort of this.running.values()) abort.abort();
    });
  }

  /** Handles a frame about streams and returns true; false for any other frame. */
  accept(frame: Frame): boolean {
    if (typeof frame !== 'string') return false;
    let parsed;
    try {
      parsed = decodeStreamClientFrame(frame);
    } catch (err) {
      const id = /"requestId"\s*:\s*"([^"]*)"/.exec(frame)?.[1] ?? '';
      void this.options.send(encodeStreamItem(id, streamErrorItem(id, err, '')));
      return true;
    }
    if (!parsed) return false;
    if (parsed.kind === 'cancel') {
      this.running.get(parsed.requestId)?.abort();
      return true;
    }
    const requestId = parsed.request.header.requestId ?? '';
    if (this.running.has(requestId)) {
      const err = new FlowgateError(
        Code.AlreadyExists,
        `a stream with request id ${requestId} is already running on this socket`,
      );
      void this.options.send(encodeStreamItem(requestId, streamErrorItem(requestId, err, '')));
      return true;
    }
    const abort = new AbortController();
    this.running.set(requestId, abort);
    const run = this.relay(requestId, parsed.request, abort.signal).finally(() => {
      this.running.delete(requestId);
      this.done.delete(run);
    });
    this.done.add(run);
    return true;
  }

  /** Resolves once every stream of the socket has ended. */
  async idle(): Promise<void> {
    while (this.done.size > 0) await Promise.all([...this.done]);
  }

  private async relay(
    requestId: string,
    request: Parameters<GatewayStreamer['streamItems']>[0],
    signal: AbortSignal,
  ): Promise<void> {
    const { streamer, send, logger, peer } = this.options;
    try {
      for await (const item of streamer.streamItems(request, { signal, headers: this.options.headers })) {
        if (signal.aborted) return;
        await send(encodeStreamItem(requestId, item));
      }
      if (!signal.aborted) await send(encodeStreamEnd(requestId));
    } catch (err) {
      if (signal.aborted) return logger.debug('a stream was cancelled', { peer, requestId });
      const executor =
        err instanceof FlowgateError && typeof err.details.executor === 'string' ? err.details.executor : '';
      // The Gateway's own errors keep their status code, so the Client throws them as they are.
      if (err instanceof FlowgateError && !executor) {
        await send(encodeStreamFailure(requestId, err));
        return;
      }
      await send(encodeStreamItem(requestId, streamErrorItem(requestId, err, executor)));
    }
  }
}
