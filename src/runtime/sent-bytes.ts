import type { DataRequest } from '../proto/request.js';

/**
 * Request sizes for the metrics, in a module of their own: the connection pool computes them on
 * every call, and importing them must not load prom-client into a process without metrics.
 */

/** The size a request's documents take on the wire (header, parameters and routes left out). */
export function docBytes(r: DataRequest): number {
  return r.docsBytes.byteLength;
}

/**
 * Sizes the connection pool records for a call: the documents of every part sent.
 *
 * @example
 * ```ts
 * metrics.observeSend('encoder', sentBytes(request), () => call(request));
 * ```
 */
export function sentBytes(parts: DataRequest | DataRequest[]): number {
  if (!Array.isArray(parts)) return docBytes(parts);
  let n = 0;
  for (const p of parts) n += docBytes(p);
  return n;
}
