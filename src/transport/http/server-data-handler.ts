import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import { decodeDocs, type DocsToJsonOptions } from '../../document/index.js';
import { DataRequest, newRequestId } from '../../proto/request.js';
import { decodeRequestWire, encodeRequestWire, type RequestWire } from '../../proto/request-wire.js';
import { google } from '../../proto/wire.js';
import type { JsonRequestFields } from '../shared/request-json.js';
import { jsonRequestToWire, jsonWireFields, type JsonWireRequest } from '../shared/request-json-wire.js';
import { answerJsonFromWire } from '../shared/answer-json.js';
import { httpStatusOfError, networkErrorBody } from './status.js';
import { answersProtobuf, isProtobuf, mediaType, PROTOBUF_TYPE, PROTOBUF_TYPES } from './codec.js';

/** A 400 naming what is wrong with a protobuf body. */
function badProtobuf(reason: string): FlowgateError {
  return new FlowgateError(
    Code.InvalidArgument,
    `the request body is not a valid ${PROTOBUF_TYPE} DataRequestProto: ${reason}`,
    { details: { httpStatus: 400 } },
  );
}

/**
 * A protobuf body as the request to send: its header, parameters and documents as they are (the
 * documents stay encoded), the route's endpoint over the body's, a new request id when it has none,
 * no routes. A body that needs none of these changes is sent as it came, without a copy.
 */
function protobufRequest(body: Buffer, endpoint: string | undefined): Uint8Array {
  let wire: RequestWire;
  try {
    wire = decodeRequestWire(body);
    // a malformed Struct fails here, not in an Executor
    if (wire.parametersBytes) google.protobuf.Struct.decode(wire.parametersBytes);
  } catch (err) {
    throw badProtobuf((err as Error).message);
  }
  const { header } = wire;
  const wanted = endpoint ?? (header.execEndpoint || '/');
  if (header.execEndpoint === wanted && header.requestId && wire.routesBytes.length === 0) return body;
  header.execEndpoint = wanted;
  if (!header.requestId) header.requestId = newRequestId();
  return encodeRequestWire({
    header,
    parameters: wire.parametersBytes,
    routes: [],
    docsBytes: wire.docsBytes,
    docsInBytesField: wire.docsInBytesField,
  });
}

/** The fields and request id of a protobuf request as sent, for the body of a 503/504 answer. */
function protobufEcho(bytes: Uint8Array): { fields: JsonRequestFields; requestId: string } {
  const req = DataRequest.decode(bytes);
  let docs;
  try {
    docs = decodeDocs(req.docsBytes);
  } catch {
    docs = decodeDocs(new Uint8Array(0));
  }
  const fields: JsonRequestFields = { endpoint: req.endpoint, docs, parameters: req.parameters };
  if (req.targetExecutor) fields.targetExecutor = req.targetExecutor;
  return { fields, requestId: req.requestId };
}

/**
 * Reads protobuf bodies as Buffers (`application/x-protobuf`, `application/protobuf`): the data
 * routes decode them with {@link DataRequest.decode}.
 *
 * @example
 * ```ts
 * registerProtobufParser(app);
 * app.post('/post', dataHandler({ streamer, logger }, undefined));
 * ```
 */
export function registerProtobufParser(app: FastifyInstance): void {
  app.addContentTypeParser([...PROTOBUF_TYPES], { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
}

/** What every data route's handler needs. */
export interface DataHandlerContext {
  streamer: GatewayStreamer;
  logger: Logger;
}

type DataHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** The media type of a JSON answer, as Fastify's serializer would set it. */
const JSON_TYPE = 'application/json; charset=utf-8';
const BASE64_TENSORS: DocsToJsonOptions = { tensors: 'base64' };
const LIST_TENSORS: DocsToJsonOptions = {};

/**
 * The handler of a data route (`endpoint` fixed by the route, or taken from the body): the body,
 * JSON (written straight as a `DataRequestProto` by `jsonRequestToWire`, no Document objects) or a
 * protobuf `DataRequestProto`, goes through the Flow as ONE request (`streamer.processBytes`); the
 * answer is JSON (`answerJsonFromWire`, tensors in the base64 form when the request used it; sent
 * as the string it is, Fastify's serializer bypassed) or a `DataRequestProto`, as
 * {@link answersProtobuf} chooses. 503/504 when an Executor cannot be reached, with the request
 * echoed back as JSON.
 *
 * @example
 * ```ts
 * app.post('/index', dataHandler({ streamer, logger }, '/index'));
 * ```
 */
export function dataHandler(ctx: DataHandlerContext, endpoint: string | undefined): DataHandler {
  const { streamer, logger } = ctx;
  const jsonOptions = endpoint === undefined ? {} : { endpoint };
  return async (request, reply) => {
    const body = request.body;
    const pbIn = Buffer.isBuffer(body) || isProtobuf(mediaType(request.headers['content-type']));
    let json: JsonWireRequest | undefined;
    let bytes: Uint8Array;
    if (pbIn) bytes = protobufRequest(Buffer.isBuffer(body) ? body : Buffer.alloc(0), endpoint);
    else {
      // One request for the whole body, however many documents: one response, all documents back.
      json = jsonRequestToWire(body ?? {}, jsonOptions);
      bytes = json.bytes;
    }
    const pbOut = answersProtobuf(request.headers.accept, pbIn);
    let answer: Uint8Array;
    try {
      answer = await streamer.processBytes(bytes, { headers: request.forwardedHeaders });
    } catch (err) {
      logger.error(`error while getting responses from Executors: ${(err as Error).message}`);
      const { fields, requestId } = json
        ? { fields: jsonWireFields(json), requestId: json.requestId }
        : protobufEcho(bytes);
      return reply.code(httpStatusOfError(err)).send(networkErrorBody(err, fields, requestId));
    }
    if (pbOut)
      return reply.type(PROTOBUF_TYPE).send(Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength));
    const options = json?.head.tensors ? BASE64_TENSORS : LIST_TENSORS;
    return reply.type(JSON_TYPE).send(answerJsonFromWire(answer, options));
  };
}
