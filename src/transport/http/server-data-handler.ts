import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { decodeDocs } from '../../document/index.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import { DataRequest, newRequestId } from '../../proto/request.js';
import type { JsonObject } from '../../proto/struct.js';
import {
  dataRequestToJson,
  parseJsonRequest,
  toDataRequests,
  type JsonRequestFields,
} from '../shared/request-json.js';
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
 * documents stay encoded), the route's endpoint over the body's, a new request id when it has none.
 */
function protobufRequest(body: Buffer, endpoint: string | undefined): DataRequest {
  let req: DataRequest;
  try {
    req = DataRequest.decode(body);
    void req.parameters; // a malformed Struct fails here, not in an Executor
  } catch (err) {
    throw badProtobuf((err as Error).message);
  }
  if (endpoint !== undefined) req.endpoint = endpoint;
  else if (!req.header.execEndpoint) req.endpoint = '/';
  if (!req.requestId) req.requestId = newRequestId();
  req.routes = [];
  return req;
}

/** The fields of a protobuf request, for the body of a 503/504 answer. */
function fieldsOfProtobuf(req: DataRequest): JsonRequestFields {
  let docs;
  try {
    docs = decodeDocs(req.docsBytes);
  } catch {
    docs = decodeDocs(new Uint8Array(0));
  }
  const fields: JsonRequestFields = { endpoint: req.endpoint, docs, parameters: req.parameters };
  if (req.targetExecutor) fields.targetExecutor = req.targetExecutor;
  return fields;
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

type DataHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<JsonObject | FastifyReply>;

/**
 * The handler of a data route (`endpoint` fixed by the route, or taken from the body): the body,
 * JSON (`parseJsonRequest`) or a protobuf `DataRequestProto`, goes through the Flow as ONE request;
 * the answer is JSON (`dataRequestToJson`, tensors in the base64 form when the request used it)
 * or a `DataRequestProto`, as {@link answersProtobuf} chooses. 503/504 when an Executor cannot be
 * reached, with the request echoed back as JSON.
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
    let fields: JsonRequestFields | undefined;
    let dataRequest: DataRequest;
    if (pbIn) dataRequest = protobufRequest(Buffer.isBuffer(body) ? body : Buffer.alloc(0), endpoint);
    else {
      fields = parseJsonRequest(body ?? {}, jsonOptions);
      // One request for the whole body, however many documents: one response, all documents back.
      dataRequest = toDataRequests(fields, 0)[0]!;
    }
    const pbOut = answersProtobuf(request.headers.accept, pbIn);
    let response: DataRequest;
    try {
      response = await streamer.process(dataRequest, { headers: request.forwardedHeaders });
    } catch (err) {
      logger.error(`error while getting responses from Executors: ${(err as Error).message}`);
      fields ??= fieldsOfProtobuf(dataRequest);
      return reply.code(httpStatusOfError(err)).send(networkErrorBody(err, fields, dataRequest.requestId));
    }
    if (pbOut) {
      const bytes = response.encode();
      return reply.type(PROTOBUF_TYPE).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    return dataRequestToJson(response, fields?.tensors ? { tensors: fields.tensors } : {});
  };
}
