import type * as grpc from '@grpc/grpc-js';
import { Document } from '../document/index.js';
import type { ExecutorHandler, HandleOptions } from '../executor/handler.js';
import type { FlowgateGrpcServer } from '../transport/grpc/rpc-server.js';
import {
  JinaSingleDocumentRequestRPCService,
  STREAM_DOC_SERVICE,
  streamErrorItem,
  type StreamDocRequest,
} from '../transport/grpc/stream-doc.js';

type StreamCall = grpc.ServerWritableStream<StreamDocRequest, StreamDocRequest>;

/** What the worker gives its `stream_doc` service. */
export interface WorkerStreamDocOptions {
  handler: ExecutorHandler;
  /** The forwarded metadata of a call, as the Executor sees it. */
  metadata(md: grpc.Metadata): Record<string, string>;
  /** Called as a stream starts and ends (the worker counts them as requests in flight). */
  onStart(): void;
  onEnd(): void;
  /** With observability: wraps one stream (tracing span, metrics); see `stream-observe.ts`. */
  observe?: StreamObserve;
}

/** Observes one stream: called at its start, returns the hooks called as it goes. */
export type StreamObserve = (
  call: StreamCall,
  endpoint: string,
) => { extra: Pick<HandleOptions, 'tracingContext' | 'tracer'>; item(): void; end(err?: unknown): void };

/**
 * Serves `jina.JinaSingleDocumentRequestRPC/stream_doc` on a worker, exactly as the original's
 * proto: one `SingleDocumentRequestProto` in (the input document), one out per document the
 * Executor's generator yields, sent as it is yielded. An error ends the stream with one last item
 * whose header carries an ERROR status naming the Executor (the call itself ends OK, as the
 * original does). Back-pressure: the generator is pulled only while grpc-js takes writes (its
 * buffer of 16 messages, then the HTTP/2 stream window of the receiver); a cancelled call (the
 * caller went away, or its deadline passed) returns the generator, so its `finally` runs.
 *
 * @example
 * ```ts
 * addStreamDocService(grpcServer, { handler, metadata: () => ({}), onStart() {}, onEnd() {} });
 * ```
 */
export function addStreamDocService(s: FlowgateGrpcServer, options: WorkerStreamDocOptions): void {
  s.server.addService(JinaSingleDocumentRequestRPCService, {
    stream_doc: (call: StreamCall) => void serveStreamDoc(call, options),
  });
  s.serviceNames.push(STREAM_DOC_SERVICE);
}

async function serveStreamDoc(call: StreamCall, o: WorkerStreamDocOptions): Promise<void> {
  const req = call.request;
  const requestId = req.header.requestId ?? '';
  const endpoint = req.header.execEndpoint ?? '/';
  const name = o.handler.name;
  call.on('error', () => undefined);
  o.onStart();
  const observed = o.observe?.(call, endpoint);
  let failure: unknown;
  try {
    const items = o.handler.streamDoc(endpoint, req.document ?? new Document(), req.parameters, {
      metadata: o.metadata(call.metadata),
      ...observed?.extra,
    });
    for await (const doc of items) {
      if (call.cancelled) break; // `for await` returns the generator: its `finally` runs
      observed?.item();
      const ok = call.write({
        header: { requestId, execEndpoint: endpoint },
        parameters: {},
        routes: [],
        document: doc,
      });
      if (!ok && !(await drained(call))) break;
    }
  } catch (err) {
    failure = err;
    if (!call.cancelled) call.write(streamErrorItem(requestId, err, name));
  } finally {
    observed?.end(failure ?? (call.cancelled ? 'cancelled' : undefined));
    if (!call.cancelled) call.end();
    o.onEnd();
  }
}

/** Resolves true when the call takes writes again, false when it was cancelled first. */
function drained(call: StreamCall): Promise<boolean> {
  if (call.cancelled) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      call.off('drain', onDrain);
      call.off('cancelled', onCancel);
      resolve(ok);
    };
    const onDrain = done(true);
    const onCancel = done(false);
    call.once('drain', onDrain);
    call.once('cancelled', onCancel);
  });
}
