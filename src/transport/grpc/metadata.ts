import * as grpc from '@grpc/grpc-js';

/**
 * Request metadata forwarded by a Gateway to Executors (`configGateway({ forwardMetadata })`).
 * It travels as ordinary gRPC metadata on the call to the Executor, plus one reserved key listing
 * which keys were forwarded, so that the Executor's worker hands exactly those to the handler and
 * never the transport's own headers (`user-agent`, `grpc-*`...). The Jina wire protocol has no
 * field for it: an original Executor simply ignores these keys.
 */

/** The reserved key naming the forwarded keys, comma-separated. */
export const FORWARDED_KEYS = 'flowgate-forwarded';

/** The key under which the principal of an `authenticate` hook reaches Executors (JSON). */
export const PRINCIPAL_KEY = 'flowgate-principal';

const LEGAL_KEY = /^[0-9a-z_.-]+$/;
const LEGAL_VALUE = /^[ -~]*$/;

/**
 * The gRPC metadata that carries `forwarded` to an Executor, or undefined when there is nothing to
 * forward (the request then travels on the shared stream). Keys or values gRPC cannot carry
 * (upper case, non-ASCII, `-bin`) are left out.
 *
 * @example
 * ```ts
 * forwardedToGrpc({ 'x-tenant': 'acme' }); // Metadata { x-tenant: acme, flowgate-forwarded: x-tenant }
 * ```
 */
export function forwardedToGrpc(forwarded: Record<string, string> | undefined): grpc.Metadata | undefined {
  if (!forwarded) return undefined;
  const md = new grpc.Metadata();
  const keys: string[] = [];
  for (const [key, value] of Object.entries(forwarded)) {
    if (!LEGAL_KEY.test(key) || key.endsWith('-bin') || key === FORWARDED_KEYS || !LEGAL_VALUE.test(value))
      continue;
    md.set(key, value);
    keys.push(key);
  }
  if (keys.length === 0) return undefined;
  md.set(FORWARDED_KEYS, keys.join(','));
  return md;
}

/**
 * The forwarded metadata a worker hands to its Executor: the keys the Gateway listed in
 * {@link FORWARDED_KEYS}, or, for a call without that list (a client talking to the Executor
 * directly), the keys of `allow`.
 */
export function forwardedFromGrpc(md: grpc.Metadata, allow: string[] = []): Record<string, string> {
  const listed = md.get(FORWARDED_KEYS)[0];
  const keys =
    listed !== undefined
      ? listed
          .toString()
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : allow.map((k) => k.toLowerCase());
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = md.get(key)[0];
    if (v !== undefined) out[key] = typeof v === 'string' ? v : v.toString('utf8');
  }
  return out;
}
