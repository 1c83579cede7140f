import { Code, FlowgateError } from '../core/errors.js';
import { inFlightLimit, mapInFlight } from '../core/in-flight.js';
import { DocumentArray, buildRequestsSync, decodeDocs, type Document } from '../document/index.js';
import { executorErrorOf, type DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import type { ConnectionPool } from './connection-pool.js';
import { itemDocuments, type StreamDocOptions } from './stream-walker.js';
import { createStreamDocRequest } from '../transport/grpc/stream-doc.js';

/** Options of {@link ExecutorStreamer.post}. */
export interface ExecutorPostOptions {
  on?: string;
  inputs?: Iterable<Document> | DocumentArray;
  parameters?: JsonObject;
  /** Documents per request (sent in parallel); default 100; `0` or less: all in one request. */
  requestSize?: number;
  /** Requests in flight at most; default 1000 (`DEFAULT_PREFETCH`); `0` = unlimited. */
  prefetch?: number;
}

/**
 * Calls one Executor directly, bypassing the graph (`this.executor['name'].post(...)` in a custom
 * Gateway). Batches are sent in parallel (at most `prefetch` at once) and their documents joined in
 * batch order; the first Executor error rejects.
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
    const requests = buildRequestsSync(
      options.inputs ?? [],
      { endpoint: options.on ?? '/', parameters: options.parameters },
      options.requestSize,
    );
    const out = new DocumentArray();
    const send = (req: DataRequest) => this.pool.send(this.name, req);
    for await (const r of mapInFlight(requests, send, {
      limit: inFlightLimit(options.prefetch),
      ordered: true,
    })) {
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
