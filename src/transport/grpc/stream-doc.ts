import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { documentFromProto, documentToProto } from '../../document/index.js';
import type { StreamDocRequest } from '../../document/stream-request.js';
import { jsonToStruct, structToJson } from '../../proto/struct.js';
import { jina } from '../../proto/wire.js';
import { asBuffer } from './codec.js';

export {
  createStreamDocRequest,
  isStreamError,
  streamErrorItem,
  type StreamDocRequest,
} from '../../document/stream-request.js';

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
