import type * as grpc from '@grpc/grpc-js';
import { StreamDocCodec, type StreamDocRequest } from './stream-doc.js';
import { JinaSingleDocumentRequestRPCService } from './stream-doc.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import type { Headers } from '../../core/headers.js';
import { firstEvent } from '../../core/events.js';

/** A server-streaming `stream_doc` call on the Gateway. */
export type GatewayStreamCall = grpc.ServerWritableStream<StreamDocRequest | Unreadable, StreamDocRequest>;

/** A request that is not a `SingleDocumentRequestProto` (what the lenient deserializer returns). */
export class Unreadable {
  constructor(readonly reason: string) {}
}

/** `stream_doc` whose deserializer never throws: a bad request is answered INVALID_ARGUMENT by name. */
export const GATEWAY_STREAM_DOC_SERVICE = {
  stream_doc: {
    ...JinaSingleDocumentRequestRPCService.stream_doc,
    requestDeserialize: (b: Buffer): StreamDocRequest | Unreadable => {
      try {
        return StreamDocCodec.decode(b);
      } catch (err) {
        return new Unreadable((err as Error).message);
      }
    },
  },
} as unknown as typeof JinaSingleDocumentRequestRPCService;

/**
 * Serves one `jina.JinaSingleDocumentRequestRPC/stream_doc` call on the Gateway: the request walks
 * the Flow (see `StreamWalker`) and each item is written as it arrives. A write the client is not
 * reading yet waits for 'drain' before the next item is read (grpc-js buffers 16 messages, then the
 * client's HTTP/2 window). The client cancelling, or its deadline passing, cancels the stream end
 * to end. An error before the first item ends the call with its status; an Executor error is an
 * item with an ERROR header, as the original sends it.
 */
export async function serveGatewayStreamDoc(
  call: GatewayStreamCall,
  streamer: GatewayStreamer,
  headers: Headers | undefined,
  toStatus: (err: unknown) => Partial<grpc.StatusObject>,
): Promise<void> {
  call.on('error', () => undefined);
  const request = call.request;
  if (request instanceof Unreadable) {
    call.emit('error', {
      code: 3,
      details: `the request is not a SingleDocumentRequestProto (${request.reason})`,
    });
    return;
  }
  const abort = new AbortController();
  let finished = false;
  call.on('cancelled', () => {
    if (!finished) abort.abort();
  });
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  try {
    const items = streamer.streamItems(request, {
      signal: abort.signal,
      headers,
      ...(Number.isFinite(ms) ? { deadline: ms } : {}),
    });
    for await (const item of items) {
      if (call.cancelled) break;
      if (!call.write(item) && !call.cancelled) await firstEvent(call, 'drain', 'cancelled');
    }
    finished = true;
    if (!call.cancelled) call.end();
  } catch (err) {
    finished = true;
    if (!call.cancelled) call.emit('error', toStatus(err));
  }
}
