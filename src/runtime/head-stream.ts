import * as grpc from '@grpc/grpc-js';
import type { FlowgateGrpcServer } from '../transport/grpc/rpc-server.js';
import {
  JinaSingleDocumentRequestRPCService,
  STREAM_DOC_SERVICE,
  type StreamDocRequest,
} from '../transport/grpc/stream-doc.js';
import { toGrpcStatus } from '../transport/grpc/status.js';
import type { ReplicaSet } from './replica-set.js';
import { firstEvent } from '../core/events.js';

type StreamCall = grpc.ServerWritableStream<StreamDocRequest, StreamDocRequest>;

/** What a head lends to its `stream_doc` service. */
export interface HeadStreamOptions {
  /** The sharded deployment's name (in errors). */
  name: string;
  /** The endpoint's polling. */
  polling(endpoint: string): 'ANY' | 'ALL';
  /** The next shard to send an `ANY` request to (round robin, skipping unreachable shards). */
  pickShard(): ReplicaSet;
  /** True when the head has `usesBefore` or `usesAfter`. */
  hasUsesBeforeAfter: boolean;
  /** Called as a stream starts and ends (the head counts them as requests in flight). */
  onStart(): void;
  onEnd(): void;
}

/**
 * The streaming endpoints of a sharded deployment: those of its shards (they serve the same
 * Executor, so the first that answers is enough). The head announces them in its
 * `endpoint_discovery` as a worker does, so the Gateway streams through the head.
 */
export async function headStreamingEndpoints(shards: readonly ReplicaSet[]): Promise<Set<string>> {
  const settled = await Promise.allSettled(shards.map((s) => s.streamingEndpoints()));
  for (const r of settled) if (r.status === 'fulfilled') return r.value;
  throw (settled[0] as PromiseRejectedResult).reason;
}

/**
 * Serves `jina.JinaSingleDocumentRequestRPC/stream_doc` on a head (the original's head serves no
 * `stream_doc` at all, so a sharded Executor cannot stream there; flowgate defines it):
 * - polling `ANY` (the default for every endpoint but `/search`): the stream goes to one shard,
 *   picked round robin as for data requests, and its items are relayed as they arrive, with the
 *   same back-pressure (the next item is read once grpc-js took the last one) and cancellation (a
 *   cancelled call cancels the shard's call, so its generator is closed);
 * - polling `ALL`: UNIMPLEMENTED, naming the endpoint and the way out (polling `ANY` for it),
 *   because interleaving several generators' items has no order a caller could rely on;
 * - `usesBefore` / `usesAfter`: UNIMPLEMENTED (they take whole requests, not items).
 *
 * @example
 * ```ts
 * addHeadStreamDoc(server, { name: 'llm', polling: (e) => pollingFor(p, e), pickShard, hasUsesBeforeAfter: false, onStart() {}, onEnd() {} });
 * ```
 */
export function addHeadStreamDoc(s: FlowgateGrpcServer, options: HeadStreamOptions): void {
  s.server.addService(JinaSingleDocumentRequestRPCService, {
    stream_doc: (call: StreamCall) => void serveHeadStream(call, options),
  });
  s.serviceNames.push(STREAM_DOC_SERVICE);
}

async function serveHeadStream(call: StreamCall, o: HeadStreamOptions): Promise<void> {
  call.on('error', () => undefined);
  const endpoint = call.request.header.execEndpoint ?? '/';
  const refuse = refusal(endpoint, o);
  if (refuse) {
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: refuse });
    return;
  }
  o.onStart();
  const abort = new AbortController();
  const onCancel = () => abort.abort();
  call.on('cancelled', onCancel);
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  try {
    const items = o.pickShard().streamDoc(call.request, {
      signal: abort.signal,
      ...(Number.isFinite(ms) ? { deadline: ms } : {}),
    });
    for await (const item of items) {
      if (call.cancelled) break; // returns the shard's stream: its call is cancelled
      if (!call.write(item) && !call.cancelled) await firstEvent(call, 'drain', 'cancelled');
    }
    if (!call.cancelled) call.end();
  } catch (err) {
    if (!call.cancelled) call.emit('error', toGrpcStatus(err, `|Head ${o.name}: `));
  } finally {
    call.off('cancelled', onCancel);
    o.onEnd();
  }
}

/** Why this head cannot stream `endpoint`, or undefined when it can. */
function refusal(endpoint: string, o: HeadStreamOptions): string | undefined {
  if (o.hasUsesBeforeAfter)
    return `the head of ${o.name} cannot stream ${endpoint}: usesBefore/usesAfter take whole requests, not streamed items; serve the streaming Executor without them`;
  if (o.polling(endpoint) === 'ALL')
    return `the head of ${o.name} cannot stream ${endpoint} with polling ALL (one stream from every shard has no order to merge in); set polling ANY for it, e.g. polling: { '${endpoint}': 'ANY' }`;
  return undefined;
}
