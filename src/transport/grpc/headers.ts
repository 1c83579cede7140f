import * as grpc from '@grpc/grpc-js';
import { forwardedFrom, type Headers } from '../../core/headers.js';

/**
 * The gRPC edge of plain {@link Headers}: the gRPC Gateway reads a call's metadata as headers, the
 * gRPC link to Executors sends headers as metadata, and a worker reads the forwarded ones back.
 */

/**
 * The headers of a call's metadata, keys in lower case; binary (`-bin`) values are left out.
 *
 * @example
 * ```ts
 * headersFromMetadata(call.metadata)['authorization'];
 * ```
 */
export function headersFromMetadata(md: grpc.Metadata): Headers {
  const out: Headers = {};
  for (const [key, values] of Object.entries(md.toJSON())) {
    if (key.endsWith('-bin')) continue;
    const strings = values.filter((v): v is string => typeof v === 'string');
    if (strings.length === 1) out[key] = strings[0]!;
    else if (strings.length > 1) out[key] = strings;
  }
  return out;
}

/**
 * The metadata carrying `headers` on a call to an Executor; undefined for undefined.
 *
 * @example
 * ```ts
 * headersToMetadata({ 'x-tenant': 'acme' }).get('x-tenant'); // ['acme']
 * ```
 */
export function headersToMetadata(headers: Headers | undefined): grpc.Metadata | undefined {
  if (!headers) return undefined;
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) {
    for (const v of [value].flat()) md.add(key, v);
  }
  return md;
}

/** What a worker hands its Executor from a call's metadata (see `forwardedFrom`). */
export function forwardedFromGrpc(md: grpc.Metadata, allow: string[] = []): Record<string, string> {
  return forwardedFrom(headersFromMetadata(md), allow);
}
