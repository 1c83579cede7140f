/**
 * Sentences for TLS failures, shared by the Client's transports: Node's and gRPC's own messages
 * ("self-signed certificate in certificate chain") do not say what to do about them.
 */

const UNTRUSTED_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

const UNTRUSTED_TEXT =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate verify failed|CERTIFICATE_VERIFY_FAILED/i;
const WRONG_NAME_TEXT =
  /ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match certificate|does not match certificate's altnames/i;
const EXPIRED_TEXT = /CERT_HAS_EXPIRED|certificate has expired/i;
const NOT_TLS_TEXT =
  /wrong version number|packet length too long|ERR_SSL_WRONG_VERSION_NUMBER|http request|unknown protocol/i;

/** The codes and messages of an error and its causes, as one string to match against. */
function describeChain(err: unknown): string {
  const parts: string[] = [];
  for (
    let e = err as { code?: unknown; message?: unknown; details?: unknown; cause?: unknown } | undefined,
      i = 0;
    e && i < 5;
    i++
  ) {
    if (typeof e.code === 'string') parts.push(e.code);
    if (typeof e.message === 'string') parts.push(e.message);
    if (typeof e.details === 'string') parts.push(e.details);
    e = e.cause as typeof e;
  }
  return parts.join(' | ');
}

/**
 * A sentence saying what went wrong with TLS and what to do, or undefined when `err` is not a TLS
 * failure. `address` is the Gateway's `host:port`.
 *
 * @example
 * ```ts
 * tlsFailure(err, '127.0.0.1:12345');
 * // "TLS: the Gateway's certificate at 127.0.0.1:12345 is not trusted (self-signed certificate in
 * //  certificate chain): pass caFile/rootCertificates with the CA that signed it"
 * ```
 */
export function tlsFailure(err: unknown, address: string): string | undefined {
  const text = describeChain(err);
  const codes = text.split(' | ');
  const reason = (re: RegExp) => codes.find((c) => re.test(c)) ?? codes[0] ?? '';
  if (codes.some((c) => UNTRUSTED_CODES.has(c)) || UNTRUSTED_TEXT.test(text))
    return `TLS: the Gateway's certificate at ${address} is not trusted (${short(reason(UNTRUSTED_TEXT))}): pass caFile/rootCertificates with the CA that signed it`;
  if (WRONG_NAME_TEXT.test(text))
    return `TLS: the Gateway's certificate does not name the host of ${address} (${short(reason(WRONG_NAME_TEXT))}): connect with a host name the certificate lists`;
  if (EXPIRED_TEXT.test(text))
    return `TLS: the Gateway's certificate at ${address} has expired: renew it (sslCertfile)`;
  if (NOT_TLS_TEXT.test(text))
    return `TLS: the handshake with ${address} failed (${short(reason(NOT_TLS_TEXT))}): does one side use TLS and the other not? (tls, grpcs://, https://, wss:// on the client; sslCertfile on the Gateway)`;
  return undefined;
}

function short(s: string): string {
  const line = (s.replace(/^.*Last error: (Error: )?/, '').split('\n')[0] ?? s)
    .replace(/\.?\s*Resolution note:.*$/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/, '');
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
