import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { Code, ExecutorError, FlowgateError } from '../core/errors.js';
import { DocumentArray, decodeDocs, encodeDocs } from '../document/index.js';
import type { StreamDocsOptions } from './stream-options.js';

/**
 * `GatewayStreamer.getStreamer()` in a worker thread of a Gateway process. A streamer (its gRPC
 * connections) cannot be shared between threads, so the Gateway's main thread serves its streamer
 * on a BroadcastChannel and a worker thread gets a proxy with the same `streamDocs` / `stream`:
 * documents cross as their protobuf bytes, Executor errors as their fields.
 */

const CHANNEL = 'flowgate:gateway-streamer';
/** How long a worker waits for the main thread to take a request before saying there is no Gateway. */
const ACCEPT_TIMEOUT_MS = 5000;

/** The part of the streamer code beside a Gateway uses. */
export interface StreamerApi {
  streamDocs(options: WorkerStreamOptions): AsyncGenerator<DocumentArray>;
  stream(options: WorkerStreamOptions): AsyncGenerator<[DocumentArray, ExecutorError | undefined]>;
}

/** Options of a stream (the same as the Gateway's streamer takes). */
export type WorkerStreamOptions = StreamDocsOptions;

type ErrorFields = { name: string; args: string[]; stacks: string[]; executor: string };

type Message =
  | { type: 'request'; id: string; docs: Uint8Array; options: Omit<WorkerStreamOptions, 'docs'> }
  | { type: 'accepted'; id: string }
  | { type: 'item'; id: string; docs: Uint8Array; error?: ErrorFields }
  | { type: 'end'; id: string }
  | { type: 'fail'; id: string; code: number; message: string };

/**
 * Serves `streamer` to the worker threads of this process until the returned function is called.
 * The Gateway runtime calls it with its streamer.
 */
export function serveStreamerToWorkers(streamer: Pick<StreamerApi, 'stream'>): () => void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  channel.onmessage = (event: unknown) => {
    const msg = (event as { data: Message }).data;
    if (msg?.type !== 'request') return;
    const { id } = msg;
    channel.postMessage({ type: 'accepted', id } satisfies Message);
    void (async () => {
      try {
        for await (const [docs, error] of streamer.stream({ ...msg.options, docs: decodeDocs(msg.docs) })) {
          const item: Message = { type: 'item', id, docs: encodeDocs(docs) };
          if (error)
            item.error = {
              name: error.exceptionName,
              args: error.args,
              stacks: error.stacks,
              executor: error.executor,
            };
          channel.postMessage(item);
        }
        channel.postMessage({ type: 'end', id } satisfies Message);
      } catch (err) {
        const e = err as { code?: number; message?: string };
        channel.postMessage({
          type: 'fail',
          id,
          code: typeof e.code === 'number' ? e.code : Code.Internal,
          message: e.message ?? String(err),
        } satisfies Message);
      }
    })();
  };
  return () => channel.close();
}

/** The proxy a worker thread gets from `GatewayStreamer.getStreamer()`. */
export class WorkerThreadStreamer implements StreamerApi {
  async *streamDocs(options: WorkerStreamOptions): AsyncGenerator<DocumentArray> {
    for await (const [docs, error] of this.stream(options)) {
      if (error) throw error;
      yield docs;
    }
  }

  async *stream(options: WorkerStreamOptions): AsyncGenerator<[DocumentArray, ExecutorError | undefined]> {
    const id = randomUUID();
    const channel = new BroadcastChannel(CHANNEL);
    const queue: Message[] = [];
    let wake: (() => void) | undefined;
    channel.onmessage = (event: unknown) => {
      const msg = (event as { data: Message }).data;
      if (msg?.id !== id || msg.type === 'request') return;
      queue.push(msg);
      wake?.();
    };
    const next = async (timeoutMs?: number): Promise<Message | undefined> => {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (timeoutMs !== undefined) setTimeout(resolve, timeoutMs).unref();
        });
        wake = undefined;
      }
      return queue.shift();
    };
    try {
      const { docs, ...rest } = options;
      const all = docs instanceof DocumentArray ? docs : new DocumentArray([...docs]);
      channel.postMessage({ type: 'request', id, docs: encodeDocs(all), options: rest } satisfies Message);
      const first = await next(ACCEPT_TIMEOUT_MS);
      if (first?.type !== 'accepted')
        throw new FlowgateError(
          Code.FailedPrecondition,
          'GatewayStreamer.getStreamer() in a worker thread needs a running Gateway in the main thread of this process',
        );
      for (;;) {
        const msg = (await next())!;
        if (msg.type === 'end') return;
        if (msg.type === 'fail') throw new FlowgateError(msg.code as Code, msg.message);
        if (msg.type === 'item')
          yield [decodeDocs(msg.docs), msg.error ? new ExecutorError(msg.error) : undefined];
      }
    } finally {
      channel.close();
    }
  }
}
