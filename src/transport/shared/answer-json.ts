/**
 * The JSON answer of the HTTP API written straight from the Executor's encoded `DataRequestProto`:
 * no DataRequest, no Document objects, no object tree for `JSON.stringify`. The text is exactly
 * what `JSON.stringify(dataRequestToJson(DataRequest.decode(bytes), options))` writes (see
 * `request-json.ts`), key for key and byte for byte.
 */
import type { DocsToJsonOptions } from '../../document/json-codec.js';
import { docsJsonFromReader, structJsonFromWire } from '../../document/wire-json.js';
import { WireReader, jsonString } from '../../document/wire-reader.js';

/** `{"code":0,"description":"","exception":null}`: a status that is absent. */
const NO_STATUS = '{"code":0,"description":"","exception":null}';

function stringAt(r: WireReader, end: number): string {
  const e = r.lengthEnd(end);
  const s = r.str(r.pos, e);
  r.pos = e;
  return s;
}

/** `ExceptionProto` as statusToJson writes it. */
function exceptionJson(r: WireReader, end: number): string {
  let name = '';
  let executor = '';
  let args = '';
  let stacks = '';
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        name = stringAt(r, end);
        break;
      case 2:
        args += (args === '' ? '' : ',') + jsonString(stringAt(r, end));
        break;
      case 3:
        stacks += (stacks === '' ? '' : ',') + jsonString(stringAt(r, end));
        break;
      case 4:
        executor = stringAt(r, end);
        break;
      default:
        r.skipType(t & 7, 0);
    }
  }
  r.checkEnd(end);
  return `{"name":${jsonString(name)},"args":[${args}],"stacks":[${stacks}],"executor":${jsonString(executor)}}`;
}

/** `StatusProto` as statusToJson writes it (a numeric code). */
function statusJson(r: WireReader, end: number): string {
  let code = 0;
  let description = '';
  let exception = 'null';
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        code = r.uint32() | 0;
        break;
      case 2:
        description = stringAt(r, end);
        break;
      case 3:
        exception = exceptionJson(r, r.lengthEnd(end));
        break;
      default:
        r.skipType(t & 7, 0);
    }
  }
  r.checkEnd(end);
  return `{"code":${code},"description":${jsonString(description)},"exception":${exception}}`;
}

/** A `google.protobuf.Timestamp` in RFC 3339, as request-json's timestampToJson writes it. */
function timestampJson(r: WireReader, end: number): string {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    if (f === 1) seconds = r.int64();
    else if (f === 2) nanos = r.uint32() | 0;
    else r.skipType(t & 7, 0);
  }
  r.checkEnd(end);
  return '"' + isoString(seconds * 1000 + Math.floor(nanos / 1e6)) + '"';
}

/** Dates this far from the limits of `Date` (8.64e15 ms) take the plain path. */
const SAFE_MS = 8.64e15 - 1000;
let cachedSecond = NaN;
/** `toISOString()` of `cachedSecond` up to its milliseconds: `2026-12-05T02:36:24.`. */
let cachedPrefix = '';

/**
 * `new Date(ms).toISOString()`, with the part up to the second kept from the last call: the routes
 * of an answer (and of the answers around it) fall in the same second, and building a Date and its
 * string per timestamp was ~3% of the HTTP Gateway's CPU at one document per request.
 */
function isoString(ms: number): string {
  if (!(Math.abs(ms) < SAFE_MS)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    cachedSecond = second;
  }
  const milli = ms - second * 1000;
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

/** `RouteProto` as dataRequestToJson writes it (the times only when present). */
function routeJson(r: WireReader, end: number): string {
  let executor = '';
  let start: string | undefined;
  let stop: string | undefined;
  let status = NO_STATUS;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        executor = stringAt(r, end);
        break;
      case 2:
        start = timestampJson(r, r.lengthEnd(end));
        break;
      case 3:
        stop = timestampJson(r, r.lengthEnd(end));
        break;
      case 4:
        status = statusJson(r, r.lengthEnd(end));
        break;
      default:
        r.skipType(t & 7, 0);
    }
  }
  r.checkEnd(end);
  let out = `{"executor":${jsonString(executor)}`;
  if (start !== undefined) out += `,"start_time":${start}`;
  if (stop !== undefined) out += `,"end_time":${stop}`;
  return out + `,"status":${status}}`;
}

/** `HeaderProto` as dataRequestToJson writes it. */
function headerJson(r: WireReader, end: number): string {
  let requestId = '';
  let endpoint: string | undefined;
  let target = '';
  let status = NO_STATUS;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        requestId = stringAt(r, end);
        break;
      case 2:
        status = statusJson(r, r.lengthEnd(end));
        break;
      case 3:
        endpoint = stringAt(r, end);
        break;
      case 4:
        target = stringAt(r, end);
        break;
      case 5:
        r.uint32();
        break;
      default:
        r.skipType(t & 7, 0);
    }
  }
  r.checkEnd(end);
  let out = `{"request_id":${jsonString(requestId)},"exec_endpoint":${jsonString(endpoint ?? '/')}`;
  if (target !== '') out += `,"target_executor":${jsonString(target)}`;
  return out + `,"status":${status}}`;
}

const EMPTY_HEADER = `{"request_id":"","exec_endpoint":"/","status":${NO_STATUS}}`;

/**
 * The JSON text of an encoded `DataRequestProto` answer, exactly as
 * `JSON.stringify(dataRequestToJson(DataRequest.decode(bytes), options))` writes it, read straight
 * from the protobuf wire: `header` (snake_case, numeric status code), `parameters`, `routes` (RFC
 * 3339 times) and `data` (the documents as docarray's `to_dict()`; `options.tensors: 'base64'`
 * writes tensors and embeddings in the base64 form). Unknown fields are skipped. A document
 * without an id gets a new random one, as decoding does.
 *
 * @throws Error with a message when the bytes are not a well-formed `DataRequestProto` (or carry
 * an array the JSON form refuses, e.g. a sparse one: `FlowgateError` InvalidArgument).
 *
 * @example
 * ```ts
 * reply.type('application/json').send(answerJsonFromWire(answerBytes, { tensors: 'base64' }));
 * ```
 */
export function answerJsonFromWire(bytes: Uint8Array, options: DocsToJsonOptions = {}): string {
  const r = new WireReader(bytes);
  const len = r.len;
  let header = EMPTY_HEADER;
  let paramsS = -1;
  let paramsE = 0;
  let routes = '';
  let docsS = 0;
  let docsE = 0;
  while (r.pos < len) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        header = headerJson(r, r.lengthEnd(len));
        break;
      case 18:
        paramsE = r.lengthEnd(len);
        paramsS = r.pos;
        r.pos = paramsE;
        break;
      case 26:
        routes += (routes === '' ? '' : ',') + routeJson(r, r.lengthEnd(len));
        break;
      case 34: {
        // data { docs = 1 | docs_bytes = 2 }: a second `data` replaces the first; `docs` wins
        const end = r.lengthEnd(len);
        let dS = -1;
        let dE = 0;
        let bS = -1;
        let bE = 0;
        while (r.pos < end) {
          const t = r.uint32();
          if (t === 10 || t === 18) {
            const e = r.lengthEnd(end);
            if (t === 10) [dS, dE] = [r.pos, e];
            else [bS, bE] = [r.pos, e];
            r.pos = e;
          } else r.skipType(t & 7, 0);
        }
        r.checkEnd(end);
        [docsS, docsE] = dS >= 0 ? [dS, dE] : bS >= 0 ? [bS, bE] : [0, 0];
        break;
      }
      default:
        if (tag >>> 3 >= 1 && tag >>> 3 <= 4)
          throw new Error(`invalid wire type ${tag & 7} for field ${tag >>> 3} of DataRequestProto`);
        r.skipType(tag & 7, 0);
    }
  }
  let parameters = '{}';
  if (paramsS >= 0) {
    r.pos = paramsS;
    parameters = structJsonFromWire(r, paramsE, 0);
  }
  r.pos = docsS;
  const data = docsJsonFromReader(r, docsE, options.tensors === 'base64');
  return `{"header":${header},"parameters":${parameters},"routes":[${routes}],"data":${data}}`;
}
