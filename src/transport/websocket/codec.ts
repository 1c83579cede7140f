import { codeName, Code, FlowgateError } from '../../core/errors.js';
import { DataRequest, statusFromError } from '../../proto/request.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../proto/struct.js';
import { jina } from '../../proto/wire.js';
import {
  dataRequestFromJson,
  dataRequestToJson,
  dataRequestToRequestJson,
  parseJsonRequest,
  statusToJson,
  toDataRequests,
} from '../shared/request-json.js';
import { isBinaryEndOfInput, type WsSubprotocol } from './frames.js';

/**
 * Frames <-> DataRequests and statuses, for both subprotocols. The frame's own type decides how it
 * is read (text: JSON, binary: protobuf), so a client may mix them; the connection's subprotocol
 * decides how the Gateway answers.
 */

/** One frame a client sent, once read. */
export type RequestFrame =
  | { kind: 'end' }
  | { kind: 'requests'; requests: DataRequest[] }
  /** The frame could not be read: `response` is the error response to send back. */
  | { kind: 'invalid'; response: DataRequest; message: string };

/** What a frame is: a UTF-8 string for text frames, bytes for binary ones. */
export type Frame = string | Uint8Array;

const OPEN_BRACE = 0x7b;

/**
 * Reads one frame of a client's data stream. A text frame is a JSON object as HTTP `/post` takes it
 * (`{}` ends the input) and may expand to several requests of `requestSize` documents. A binary
 * frame is one serialised DataRequestProto (one zero byte ends the input); a binary frame that starts
 * with `{` is read as JSON, which no DataRequestProto starts with.
 *
 * Never throws: a frame that cannot be read gives an error response (see {@link invalidFrameResponse}).
 *
 * @example
 * ```ts
 * decodeRequestFrame('{"data": [{"text": "hi"}]}').kind; // 'requests'
 * decodeRequestFrame(Uint8Array.of(0)).kind;             // 'end'
 * ```
 */
export function decodeRequestFrame(frame: Frame, requestSize = 100): RequestFrame {
  if (typeof frame !== 'string') {
    if (isBinaryEndOfInput(frame)) return { kind: 'end' };
    if (frame[0] === OPEN_BRACE)
      return decodeJsonRequestFrame(Buffer.from(frame).toString('utf8'), requestSize);
    if (frame.length === 0)
      return invalid('an empty binary frame is not a request: send one zero byte to end the input');
    try {
      return { kind: 'requests', requests: [DataRequest.decode(frame)] };
    } catch (err) {
      return invalid(`the binary frame is not a serialised DataRequestProto: ${messageOf(err)}`);
    }
  }
  return decodeJsonRequestFrame(frame, requestSize);
}

function decodeJsonRequestFrame(text: string, requestSize: number): RequestFrame {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return invalid(`the frame is not valid JSON: ${messageOf(err)}`);
  }
  if (isJsonObject(body) && Object.keys(body).length === 0) return { kind: 'end' };
  try {
    return { kind: 'requests', requests: toDataRequests(parseJsonRequest(body), requestSize) };
  } catch (err) {
    return invalid(messageOf(err), isJsonObject(body) ? body : undefined);
  }
}

function invalid(message: string, body?: JsonObject): RequestFrame {
  return { kind: 'invalid', message, response: invalidFrameResponse(message, body) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stringAt(o: JsonObject | undefined, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v: JsonValue | undefined = o?.[k];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/**
 * The response to a frame that could not be read: no documents, and `header.status` ERROR with
 * exception `{name: 'InvalidArgument', args: [message], stacks: [], executor: ''}` and description
 * `InvalidArgument('<message>')`. It carries the request id and endpoint of the frame when they
 * could be read (else `''` and `/`), so a client can tell which request failed.
 */
export function invalidFrameResponse(message: string, body?: JsonObject): DataRequest {
  const header = isJsonObject(body?.header) ? body.header : undefined;
  const res = DataRequest.create({
    requestId: stringAt(header, 'request_id', 'requestId') ?? '',
    endpoint:
      stringAt(body, 'execEndpoint', 'exec_endpoint') ?? stringAt(header, 'exec_endpoint', 'execEndpoint'),
  });
  const err = new Error(message);
  err.name = codeName(Code.InvalidArgument);
  const status = statusFromError(err, '');
  if (status.exception) status.exception.stacks = [];
  res.header.status = status;
  return res;
}

/** A response as the Gateway sends it on a connection of subprotocol `mode`. */
export function encodeResponseFrame(res: DataRequest, mode: WsSubprotocol): Frame {
  return mode === 'bytes' ? res.encode() : JSON.stringify(dataRequestToJson(res));
}

/**
 * A response as {@link encodeResponseFrame} encodes it, in the parts of one fragmented message:
 * with `bytes`, large documents are sent as the response's own view of them (no copy).
 */
export function encodeResponseParts(res: DataRequest, mode: WsSubprotocol): Frame[] {
  return mode === 'bytes' ? res.encodeParts() : [JSON.stringify(dataRequestToJson(res))];
}

/** A request as the client sends it (json: the `/post` body plus `header.request_id`). */
export function encodeRequestFrame(req: DataRequest, mode: WsSubprotocol): Frame {
  return mode === 'bytes' ? req.encode() : JSON.stringify(dataRequestToRequestJson(req));
}

/**
 * Reads a response frame (text: `DataRequest.to_dict()` JSON, binary: DataRequestProto).
 *
 * @throws FlowgateError Internal when the Gateway sent something that is not a response.
 */
export function decodeResponseFrame(frame: Frame): DataRequest {
  try {
    return typeof frame === 'string' ? dataRequestFromJson(JSON.parse(frame)) : DataRequest.decode(frame);
  } catch (err) {
    throw new FlowgateError(
      Code.Internal,
      `the Gateway sent a frame that is not a response: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** A status (the dry run's answer) framed for subprotocol `mode`. */
export function encodeStatusFrame(status: jina.IStatusProto, mode: WsSubprotocol): Frame {
  return mode === 'bytes' ? jina.StatusProto.encode(status).finish() : JSON.stringify(statusToJson(status));
}

/**
 * Reads a status frame (text: `{"code": 0, ...}`, binary: StatusProto).
 *
 * @throws FlowgateError Internal when the frame is not a status.
 */
export function decodeStatusFrame(frame: Frame): jina.IStatusProto {
  try {
    if (typeof frame !== 'string') return jina.StatusProto.decode(frame);
    const v: unknown = JSON.parse(frame);
    if (!isJsonObject(v)) throw new Error('not a JSON object');
    const code = v.code === 'SUCCESS' ? 0 : v.code === 'ERROR' ? 1 : Number(v.code ?? 0);
    const status: jina.IStatusProto = { code };
    if (typeof v.description === 'string') status.description = v.description;
    const ex = v.exception;
    if (isJsonObject(ex)) {
      status.exception = {
        name: stringAt(ex, 'name') ?? '',
        args: Array.isArray(ex.args) ? ex.args.map(String) : [],
        stacks: Array.isArray(ex.stacks) ? ex.stacks.map(String) : [],
        executor: stringAt(ex, 'executor') ?? '',
      };
    }
    return status;
  } catch (err) {
    throw new FlowgateError(
      Code.Internal,
      `the Gateway sent a frame that is not a status: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
}
