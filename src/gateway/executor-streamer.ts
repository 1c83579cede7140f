import { Code, FlowgateError } from '../core/errors.js';
import { DocumentArray, decodeDocs, encodeDocs, type Document } from '../document/index.js';
import { DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import type { ConnectionPool } from './connection-pool.js';
import { executorErrorOf } from '../proto/request.js';
import { itemDocuments, type StreamDocOptions } from './stream-walker.js';
import { createStreamDocRequest } from '../transport/grpc/stream-doc.js';

/** Options of {@link ExecutorStreamer.post}. */
export interface ExecutorPostOptions {
  on?: string;
  inputs?: Iterable<Document> | DocumentArray;
  parameters?: JsonObject;
  /** Documents per request (sent in parallel); default 100. */
  requestSize?: number;
}

/**
 * Calls one Executor directly, bypassing the graph (`this.executor['name'].post(...)` in a custom
 * Gateway). Batches are sent in parallel and their documents joined in batch order.
 *
 * @example
 * ```ts
 * const docs = await this.executor['executor1']!.post({ on: '/', inputs: docs });
 * ```
 */
export class ExecutorStreamer {
  constructor(
    readonly name: string,
    private readonly pool: ConnectionPool,
  ) {}

  /**
   * Streams the documents this Executor's streaming endpoint `execEndpoint` yields for `doc`,
   * bypassing the graph. An Executor error throws its ExecutorError; `break` cancels the stream.
   *
   * @example
   * ```ts
   * for await (const d of this.executor['tokens']!.streamDoc({ doc, execEndpoint: '/generate' })) console.log(d.text);
   * ```
   */
  streamDoc(options: StreamDocOptions): AsyncGenerator<Document> {
    const request = createStreamDocRequest({
      endpoint: options.execEndpoint ?? '/',
      doc: options.doc,
      parameters: options.parameters,
    });
    return itemDocuments(this.pool.streamDoc(this.name, request, { signal: options.signal }));
  }

  async post(options: ExecutorPostOptions = {}): Promise<DocumentArray> {
    const size = options.requestSize && options.requestSize > 0 ? options.requestSize : 100;
    const all = [...(options.inputs ?? [])];
    const batches: Document[][] = [];
    for (let i = 0; i < all.length; i += size) batches.push(all.slice(i, i + size));
    if (batches.length === 0) batches.push([]);
    const responses = await Promise.all(
      batches.map((b) =>
        this.pool.send(
          this.name,
          DataRequest.create({
            endpoint: options.on ?? '/',
            parameters: options.parameters,
            docsBytes: encodeDocs(new DocumentArray(b)),
          }),
        ),
      ),
    );
    const out = new DocumentArray();
    for (const r of responses) {
      const err = executorErrorOf(r);
      if (err) throw err;
      out.extend(decodeDocs(r.docsBytes));
    }
    return out;
  }
}

/** Keys that code asks of any object (awaiting it, serialising it): never an Executor's name. */
const NOT_NAMES = new Set(['then', 'toJSON', 'inspect', 'asymmetricMatch', '$$typeof', 'nodeType']);

/**
 * `executor['name']` for every deployment of the Flow. An unknown name throws an error that lists
 * the Executors, instead of `undefined` (and a `TypeError` on `.post` later).
 */
export function executorStreamers(pool: ConnectionPool): Record<string, ExecutorStreamer> {
  const streamers: Record<string, ExecutorStreamer> = Object.fromEntries(
    pool.names.map((n) => [n, new ExecutorStreamer(n, pool)]),
  );
  return new Proxy(streamers, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target || NOT_NAMES.has(key))
        return Reflect.get(target, key, receiver) as unknown;
      const known = Object.keys(target);
      throw new FlowgateError(
        Code.NotFound,
        `no Executor named '${key}' in this Flow: executor[...] takes one of ${known.length > 0 ? known.map((n) => `'${n}'`).join(', ') : '(none: the Flow has no Executors)'}`,
      );
    },
  });
}
