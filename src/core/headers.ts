/**
 * Request headers as the protocol-neutral core (streamer, graph walker, connection pool) sees
 * them: lower-case names, one value or several. Each protocol converts at its edge: the gRPC
 * server and the gRPC link to Executors to and from `grpc.Metadata`
 * (`transport/grpc/headers.ts`), the HTTP-family servers from their request headers.
 *
 * @example
 * ```ts
 * const headers: Headers = { 'x-tenant': 'acme', traceparent: '00-...-01' };
 * ```
 */
export type Headers = Record<string, string | string[]>;

/**
 * The reserved header naming the headers a Gateway forwards to Executors
 * (`configGateway({ forwardMetadata })`), comma-separated, so that a worker hands exactly those to
 * the handler and never the transport's own (`user-agent`, `grpc-*`...). The Jina wire protocol
 * has no field for them: an original Executor simply ignores these keys.
 */
export const FORWARDED_KEYS = 'flowgate-forwarded';

/** The header under which the principal of an `authenticate` hook reaches Executors (JSON). */
export const PRINCIPAL_KEY = 'flowgate-principal';

const LEGAL_KEY = /^[0-9a-z_.-]+$/;
const LEGAL_VALUE = /^[ -~]*$/;

/**
 * The headers that carry `forwarded` to an Executor (plus {@link FORWARDED_KEYS} listing them),
 * or undefined when there is nothing to forward (the request then travels on the shared stream).
 * Keys or values the gRPC link cannot carry (upper case, non-ASCII, `-bin`) are left out.
 *
 * @example
 * ```ts
 * forwardedHeaders({ 'x-tenant': 'acme' }); // { 'x-tenant': 'acme', 'flowgate-forwarded': 'x-tenant' }
 * ```
 */
export function forwardedHeaders(forwarded: Record<string, string> | undefined): Headers | undefined {
  if (!forwarded) return undefined;
  const out: Headers = {};
  const keys: string[] = [];
  for (const [key, value] of Object.entries(forwarded)) {
    if (!LEGAL_KEY.test(key) || key.endsWith('-bin') || key === FORWARDED_KEYS || !LEGAL_VALUE.test(value))
      continue;
    out[key] = value;
    keys.push(key);
  }
  if (keys.length === 0) return undefined;
  out[FORWARDED_KEYS] = keys.join(',');
  return out;
}

/**
 * The forwarded headers a worker hands to its Executor: the keys listed in {@link FORWARDED_KEYS},
 * or, for a call without that list (a client talking to the Executor directly), the keys of
 * `allow`. The first value of each.
 */
export function forwardedFrom(headers: Headers, allow: string[] = []): Record<string, string> {
  const listed = firstValue(headers[FORWARDED_KEYS]);
  const keys =
    listed !== undefined
      ? listed
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : allow.map((k) => k.toLowerCase());
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = firstValue(headers[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The first value of a header. */
export function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
