import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { type Document, documentFromProto, documentToProto } from '../../document/index.js';
import { newRequestId, statusFromError, StatusCode } from '../../proto/request.js';
import { jsonToStruct, structToJson, type JsonObject } from '../../proto/struct.js';
import { jina } from '../../proto/wire.js';
import { asBuffer } from './services.js';

/**
 * One message of a `stream_doc` call (`jina.SingleDocumentRequestProto`): the request (the input
 * document) and each streamed item (an output document), or an error item whose header carries an
 * ERROR status (the stream then ends).
 *
 * @example
 * ```ts
 * const req = createStreamDocRequest({ endpoint: '/generate', doc: new Document({ text: 'a b' }) });
 * const back = StreamDocCodec.decode(StreamDocCodec.encode(req));
 * ```
 */
export interface StreamDocRequest {
  header: jina.IHeaderProto;
  parameters: JsonObject;
  routes: jina.IRouteProto[];
  document: Document | undefined;
}

/** Builds a stream request; `requestId` defaults to a fresh id. */
export function createStreamDocRequest(init: {
  endpoint: string;
  doc?: Document;
  parameters?: JsonObject;
  requestId?: string;
  targetExecutor?: string;
}): StreamDocRequest {
  const header: jina.IHeaderProto = {
    requestId: init.requestId ?? newRequestId(),
    execEndpoint: init.endpoint,
  };
  if (init.targetExecutor) header.targetExecutor = init.targetExecutor;
  return { header, parameters: init.parameters ?? {}, routes: [], document: init.doc };
}

/** An item that reports `err` raised in `executor` (the stream ends after it). */
export function streamErrorItem(requestId: string, err: unknown, executor: string): StreamDocRequest {
  return {
    header: { requestId, status: statusFromError(err, executor) },
    parameters: {},
    routes: [],
    document: undefined,
  };
}

/** True when the item carries an ERROR status. */
export function isStreamError(item: StreamDocRequest): boolean {
  return Number(item.header.status?.code ?? 0) === StatusCode.ERROR;
}

/** Encodes / decodes {@link StreamDocRequest} as `jina.SingleDocumentRequestProto`. */
export const StreamDocCodec = {
  encode: (r: StreamDocRequest): Buffer => {
    const m: jina.ISingleDocumentRequestProto = { header: r.header, routes: r.routes };
    if (Object.keys(r.parameters).length > 0) m.parameters = jsonToStruct(r.parameters);
    if (r.document) m.document = documentToProto(r.document);
    return asBuffer(jina.SingleDocumentRequestProto.encode(m).finish());
  },
  decode: (b: Buffer): StreamDocRequest => {
    const m = jina.SingleDocumentRequestProto.decode(b);
    return {
      header: m.header ?? {},
      parameters: structToJson(m.parameters ?? undefined),
      routes: m.routes ?? [],
      document: m.document ? documentFromProto(m.document) : undefined,
    };
  },
};

/** `jina.JinaSingleDocumentRequestRPC/stream_doc`: one document in, a stream of documents out. */
export const JinaSingleDocumentRequestRPCService = {
  stream_doc: {
    path: '/jina.JinaSingleDocumentRequestRPC/stream_doc',
    requestStream: false,
    responseStream: true,
    requestSerialize: StreamDocCodec.encode,
    requestDeserialize: StreamDocCodec.decode,
    responseSerialize: StreamDocCodec.encode,
    responseDeserialize: StreamDocCodec.decode,
  } satisfies MethodDefinition<StreamDocRequest, StreamDocRequest>,
} satisfies ServiceDefinition;

/** The full service name, for health and reflection. */
export const STREAM_DOC_SERVICE = 'jina.JinaSingleDocumentRequestRPC';
