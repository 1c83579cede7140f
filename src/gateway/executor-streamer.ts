import { DocumentArray, decodeDocs, encodeDocs, type Document } from '../document/index.js';
import { DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import type { ConnectionPool } from './connection-pool.js';
import { executorErrorOf } from '../proto/request.js';

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

/** `executor['name']` for every deployment of the Flow. */
export function executorStreamers(pool: ConnectionPool): Record<string, ExecutorStreamer> {
  return Object.fromEntries(pool.names.map((n) => [n, new ExecutorStreamer(n, pool)]));
}
