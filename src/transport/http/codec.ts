/**
 * The body formats of the HTTP data routes: JSON and a serialised `jina.DataRequestProto`
 * (`application/x-protobuf`), chosen by `Content-Type` (request) and `Accept` (answer).
 */

/** The media type of a serialised `jina.DataRequestProto` body (request or response). */
export const PROTOBUF_TYPE = 'application/x-protobuf';
/** Request media types read as a `DataRequestProto` (`application/protobuf` is the IETF name). */
export const PROTOBUF_TYPES = [PROTOBUF_TYPE, 'application/protobuf'] as const;

/** Whether a media type (lower case, no parameters) names protobuf. */
export function isProtobuf(type: string): boolean {
  return type === PROTOBUF_TYPE || type === 'application/protobuf';
}

/** The media type of a `Content-Type` header: lower case, without parameters (`''` when absent). */
export function mediaType(header: string | string[] | undefined): string {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return '';
  const semi = h.indexOf(';');
  return (semi < 0 ? h : h.slice(0, semi)).trim().toLowerCase();
}

/**
 * Whether to answer with a `DataRequestProto` (else JSON), from the request's `Accept` and whether
 * its body was protobuf: the acceptable type (protobuf or JSON) with the higher q-value wins; no
 * `Accept`, `*` + `/*`, `application/*` or a tie answer in the body's own format.
 *
 * @example
 * ```ts
 * answersProtobuf('application/x-protobuf', false); // true
 * answersProtobuf(undefined, true); // true
 * answersProtobuf('application/json', true); // false
 * ```
 */
export function answersProtobuf(accept: string | undefined, bodyIsProtobuf: boolean): boolean {
  if (!accept) return bodyIsProtobuf;
  let pb = -1;
  let json = -1;
  let any = -1;
  for (const part of accept.split(',')) {
    const semi = part.indexOf(';');
    const type = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    let q = 1;
    if (semi >= 0) {
      const m = /;\s*q=([0-9.]+)/.exec(part);
      if (m) q = Number(m[1]);
    }
    if (isProtobuf(type)) pb = Math.max(pb, q);
    else if (type === 'application/json') json = Math.max(json, q);
    else if (type === '*/*' || type === 'application/*') any = Math.max(any, q);
  }
  if (pb < 0 && json < 0 && any <= 0) return bodyIsProtobuf; // nothing we serve is asked for
  if (pb < 0) pb = any;
  if (json < 0) json = any;
  if (pb === json) return bodyIsProtobuf;
  return pb > json;
}
